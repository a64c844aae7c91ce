package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"vggo/model"
	"vggo/model/headtrain"
)

// Spec describes the trainable network: conv layers Boundary..Arch.Depth()-1 of the
// VGG16 base (the frozen prefix 0..Boundary-1 is computed outside, once,
// and its output is this network's input) and the classifier head.
type Spec struct {
	Arch      model.Arch
	InputSize int    // image side in pixels
	Boundary  int    // first trainable conv layer, 0..Arch.Depth() (Depth: only the head trains)
	Head      string // model.HeadSeed, HeadGAP or HeadLinear
	Hidden    []int  // hidden dense widths of the head (seed: 4096, 1072; gap: 256; linear: none)
	Classes   int
	Dropout   float64 // rate before the last dense layer (seed, gap heads)
}

// DefaultHidden returns the tutorial's hidden widths for a head kind,
// divided by widthDiv (at least 8 units).
func DefaultHidden(head string, widthDiv int) ([]int, error) {
	var h []int
	switch head {
	case model.HeadSeed:
		h = []int{4096, 1072}
	case model.HeadGAP:
		h = []int{256}
	case model.HeadLinear:
		return nil, nil
	default:
		return nil, model.ValidateHead(head)
	}
	for i := range h {
		h[i] = max(8, h[i]/max(1, widthDiv))
	}
	return h, nil
}

// SpatialAfter returns the feature map side after conv layer `layer`
// (pooling included), for an input of side size; layer −1 is the input.
func SpatialAfter(size, layer int) int { return model.SideAfter(size, layer) }

// InputShape is the per-image shape [H, W, C] that enters the trainable
// network: the activation after conv Boundary−1 (or the image when 0).
func (s Spec) InputShape() [3]int {
	if s.Boundary == 0 {
		return [3]int{s.InputSize, s.InputSize, 3}
	}
	side := SpatialAfter(s.InputSize, s.Boundary-1)
	return [3]int{side, side, s.Arch.Conv(s.Boundary - 1).Cout}
}

// Validate checks the spec before any graph is built, with model's checks
// (and wording) for what a model file also records.
func (s Spec) Validate() error {
	if err := s.Arch.Validate(); err != nil {
		return err
	}
	if s.Boundary < 0 || s.Boundary > s.Arch.Depth() {
		return fmt.Errorf("freeze boundary %d: want 0..%d", s.Boundary, s.Arch.Depth())
	}
	if err := model.ValidateHead(s.Head); err != nil {
		return err
	}
	if s.Classes < 2 {
		return fmt.Errorf("%d classes: need at least 2", s.Classes)
	}
	if err := model.ValidateInputSize(s.InputSize); err != nil {
		return err
	}
	if s.Dropout < 0 || s.Dropout >= 1 {
		return fmt.Errorf("dropout %g: want [0, 1)", s.Dropout)
	}
	return nil
}

// Params are the trainable tensors in a fixed order: for each trainable
// conv layer its kernel then bias, then each dense layer's kernel and bias.
type Params struct {
	Names   []string
	Shapes  [][]int
	Tensors []*tensor.Dense
}

// headIn is the width entering the first dense layer.
func (s Spec) headIn() int {
	if s.Head == model.HeadSeed {
		side := s.Arch.OutputSide(s.InputSize)
		return side * side * s.Arch.Channels()
	}
	return s.Arch.Channels()
}

// DenseSizes returns (in, out) of each dense layer.
func (s Spec) DenseSizes() [][2]int {
	in := s.headIn()
	var out [][2]int
	for _, h := range s.Hidden {
		out = append(out, [2]int{in, h})
		in = h
	}
	return append(out, [2]int{in, s.Classes})
}

// InitParams creates the parameters: trainable conv layers from base when
// given (nil base: He-normal random init), dense layers He-normal (ReLU
// layers) or Glorot-uniform (the softmax layer), zero biases, from seed.
func (s Spec) InitParams(base *model.ConvBase, seed uint64) *Params {
	rng := headtrain.InitRand(seed)
	p := &Params{}
	add := func(name string, shape []int, data []float32) {
		t := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
		p.Names, p.Shapes, p.Tensors = append(p.Names, name), append(p.Shapes, shape), append(p.Tensors, t)
	}
	he := func(n, fanIn int) []float32 {
		d := make([]float32, n)
		std := math.Sqrt(2 / float64(fanIn))
		for i := range d {
			d[i] = float32(rng.NormFloat64() * std)
		}
		return d
	}
	for i := s.Boundary; i < s.Arch.Depth(); i++ {
		c := s.Arch.Conv(i)
		var k, b []float32
		if base != nil {
			k = append([]float32(nil), base.Layers[i].Kernel...)
			b = append([]float32(nil), base.Layers[i].Bias...)
		} else {
			k, b = he(9*c.Cin*c.Cout, 9*c.Cin), make([]float32, c.Cout)
		}
		add(c.Name+"/kernel", []int{3, 3, c.Cin, c.Cout}, k)
		add(c.Name+"/bias", []int{c.Cout}, b)
	}
	for i, d := range headtrain.InitDense(rng, s.DenseSizes()) {
		add(fmt.Sprintf("dense%d/kernel", i+1), []int{d.In, d.Out}, d.Kernel)
		add(fmt.Sprintf("dense%d/bias", i+1), []int{d.Out}, d.Bias)
	}
	return p
}

// LoadHead copies a trained head into p's dense layers, so a run can
// continue from an earlier run's model file (warm start) instead of
// relearning the classifier from random weights. The head must be the
// spec's kind with the same layer sizes; nothing is copied otherwise.
func (s Spec) LoadHead(p *Params, h *model.Head) error {
	sizes := s.DenseSizes()
	if h.Kind != s.Head || len(h.Dense) != len(sizes) {
		return fmt.Errorf("head %s with %d dense layer(s), the run builds %s with %d", h.Kind, len(h.Dense), s.Head, len(sizes))
	}
	for i, d := range h.Dense {
		if d.In != sizes[i][0] || d.Out != sizes[i][1] || len(d.Kernel) != d.In*d.Out || len(d.Bias) != d.Out {
			return fmt.Errorf("dense%d is %dx%d, the run builds %dx%d", i+1, d.In, d.Out, sizes[i][0], sizes[i][1])
		}
	}
	first := len(p.Tensors) - 2*len(sizes)
	for i, d := range h.Dense {
		copy(p.Tensors[first+2*i].Float32s(), d.Kernel)
		copy(p.Tensors[first+2*i+1].Float32s(), d.Bias)
	}
	return nil
}

// Graph is one built expression graph over a fixed batch size.
type Graph struct {
	G       *G.ExprGraph
	X       *G.Node // [B,H,W,C] input features
	Targets *G.Node // [B,K] one-hot targets, zero rows for padding
	Mask    *G.Node // dropout mask [B,hidden] (nil without dropout)
	Params  G.Nodes // learnables, same order as Params
	Logits  *G.Node // [B,K]
	Loss    *G.Node // scalar
	Grads   G.Nodes // ∂Loss/∂Params (training graphs only)
	VM      G.VM
}

// Build makes the graph for batch size b over the parameter tensors p
// (shared, not copied: a solver step is visible to every graph built on
// p). With train set, gradients are added and a dropout mask input exists.
func (s Spec) Build(p *Params, b int, train bool) (*Graph, error) {
	g := G.NewGraph()
	in := s.InputShape()
	gr := &Graph{G: g}
	gr.X = G.NewTensor(g, tensor.Float32, 4, G.WithShape(b, in[0], in[1], in[2]), G.WithName("x"))
	gr.Targets = G.NewMatrix(g, tensor.Float32, G.WithShape(b, s.Classes), G.WithName("targets"))
	for i, t := range p.Tensors {
		var n *G.Node
		if len(p.Shapes[i]) == 1 {
			n = G.NewVector(g, tensor.Float32, G.WithShape(p.Shapes[i]...), G.WithName(p.Names[i]), G.WithValue(t))
		} else {
			n = G.NewTensor(g, tensor.Float32, len(p.Shapes[i]), G.WithShape(p.Shapes[i]...), G.WithName(p.Names[i]), G.WithValue(t))
		}
		gr.Params = append(gr.Params, n)
	}
	h := gr.X
	var err error
	pi := 0
	for i := s.Boundary; i < s.Arch.Depth(); i++ {
		conv := Conv3x3
		if i == s.Boundary { // its input is the batch, which needs no gradient
			conv = Conv3x3NoInputGrad
		}
		if h, err = conv(h, gr.Params[pi], gr.Params[pi+1], true); err != nil {
			return nil, err
		}
		pi += 2
		if model.VGG16Convs[i].PoolAfter {
			if h, err = MaxPool2x2(h); err != nil {
				return nil, err
			}
		}
	}
	if s.Head == model.HeadSeed {
		h, err = Flatten(h)
	} else {
		h, err = GlobalAvgPool(h)
	}
	if err != nil {
		return nil, err
	}
	sizes := s.DenseSizes()
	for i := range sizes {
		last := i == len(sizes)-1
		if last && train && s.Dropout > 0 && len(sizes) > 1 {
			gr.Mask = G.NewMatrix(g, tensor.Float32, G.WithShape(b, sizes[i][0]), G.WithName("dropout-mask"))
			if h, err = G.HadamardProd(h, gr.Mask); err != nil {
				return nil, err
			}
		}
		if h, err = Dense(h, gr.Params[pi], gr.Params[pi+1], !last); err != nil {
			return nil, err
		}
		pi += 2
	}
	gr.Logits = h
	if gr.Loss, err = SoftmaxCrossEntropy(gr.Logits, gr.Targets); err != nil {
		return nil, err
	}
	var opts []G.VMOpt
	if train {
		if gr.Grads, err = G.Grad(gr.Loss, gr.Params...); err != nil {
			return nil, err
		}
		opts = append(opts, G.BindDualValues(gr.Params...))
	}
	gr.VM = G.NewTapeMachine(g, opts...)
	return gr, nil
}

// Step feeds one batch (x: B×H×W×C, targets: B×K) and runs the machine,
// returning the loss. With a training graph the gradients are then
// available to a solver through ValueGrads.
func (gr *Graph) Step(x, targets, mask []float32) (float32, error) {
	gr.VM.Reset()
	if err := G.Let(gr.X, tensor.New(tensor.WithShape(gr.X.Shape()...), tensor.WithBacking(x))); err != nil {
		return 0, err
	}
	if err := G.Let(gr.Targets, tensor.New(tensor.WithShape(gr.Targets.Shape()...), tensor.WithBacking(targets))); err != nil {
		return 0, err
	}
	if gr.Mask != nil {
		if err := G.Let(gr.Mask, tensor.New(tensor.WithShape(gr.Mask.Shape()...), tensor.WithBacking(mask))); err != nil {
			return 0, err
		}
	}
	if err := gr.VM.RunAll(); err != nil {
		return 0, err
	}
	return f32(gr.Loss.Value())[0], nil
}

// LogitsValue returns the last run's logits (B×K).
func (gr *Graph) LogitsValue() []float32 { return f32(gr.Logits.Value()) }

// ValueGrads returns the learnables for a solver.
func (gr *Graph) ValueGrads() []G.ValueGrad { return G.NodesToValueGrads(gr.Params) }
