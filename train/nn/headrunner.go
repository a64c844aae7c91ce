package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"vggo/model"
	"vggo/model/headtrain"
	"vggo/model/lastconv"
)

// Runner runs batches through the trainable network: a gorgonia Graph, or,
// when only the head trains (Boundary = Arch.Depth(), fit -fine-tune 0),
// headtrain's step, the code the browser's teach page trains heads with.
type Runner interface {
	// Step feeds one batch and returns its loss; a training runner then
	// has the gradients ready for a Solver (ValueGrads).
	Step(x, targets, mask []float32) (float32, error)
	LogitsValue() []float32
	ValueGrads() []G.ValueGrad
	// MaskLen is the dropout mask's length (0: the runner takes none).
	MaskLen() int
}

// MaskLen is the length of the graph's dropout mask input, 0 without one.
func (gr *Graph) MaskLen() int {
	if gr.Mask == nil {
		return 0
	}
	return gr.Mask.Shape().TotalSize()
}

// NewRunner returns the runner for batch size b over p: headtrain's step
// when the whole base is frozen, lastconv's when only the last conv layer
// trains (fit -fine-tune 1, the teach page's "also fine-tune the last conv
// layer"), else a gorgonia graph (Build).
func (s Spec) NewRunner(p *Params, b int, train bool) (Runner, error) {
	depth := s.Arch.Depth()
	if s.Boundary < depth-1 || depth < 2 {
		return s.Build(p, b, train)
	}
	in := s.InputShape()
	var layers []model.DenseParams
	for i, sz := range s.DenseSizes() {
		j := len(p.Tensors) - 2*len(s.DenseSizes()) + 2*i
		layers = append(layers, model.DenseParams{In: sz[0], Out: sz[1], Kernel: p.Tensors[j].Float32s(), Bias: p.Tensors[j+1].Float32s()})
	}
	var step stepper
	var err error
	if s.Boundary == depth {
		step, err = headtrain.NewStep(s.Head, b, in[0], in[1], in[2], layers)
	} else {
		c := s.Arch.Conv(depth - 1)
		conv := model.ConvParams{Kernel: p.Tensors[0].Float32s(), Bias: p.Tensors[1].Float32s()}
		step, err = lastconv.NewStep(s.Head, b, in[0], in[1], in[2], c.Cout, c.PoolAfter, conv, layers)
	}
	if err != nil {
		return nil, err
	}
	r := &headRunner{step: step, batch: b, in: in[0] * in[1] * in[2], train: train, dropout: s.Dropout > 0}
	for i, t := range p.Tensors {
		r.vgs = append(r.vgs, headValueGrad{w: t, g: tensor.New(tensor.WithShape(p.Shapes[i]...), tensor.WithBacking(step.ParamGrads()[i]))})
	}
	return r, nil
}

// stepper is what headRunner runs: headtrain.Step or lastconv.Step.
type stepper interface {
	headtrain.Trainable
	Classes() int
}

// headRunner adapts headtrain's or lastconv's step to Runner.
type headRunner struct {
	step           stepper
	batch, in      int // the batch size, values of one input sample
	train, dropout bool
	vgs            []G.ValueGrad
}

func (r *headRunner) Step(x, targets, mask []float32) (float32, error) {
	s := r.step
	if len(x) != r.batch*r.in || len(targets) != r.batch*s.Classes() {
		return 0, fmt.Errorf("head step: batch of %d values and %d targets, want %d and %d", len(x), len(targets), r.batch*r.in, r.batch*s.Classes())
	}
	if r.MaskLen() == 0 {
		mask = nil
	}
	loss := s.Forward(x, targets, mask)
	if r.train {
		s.Backward(x)
	}
	return loss, nil
}

func (r *headRunner) LogitsValue() []float32    { return r.step.Logits() }
func (r *headRunner) ValueGrads() []G.ValueGrad { return r.vgs }
func (r *headRunner) MaskLen() int {
	if !r.train || !r.dropout {
		return 0
	}
	return r.step.MaskLen()
}

type headValueGrad struct{ w, g *tensor.Dense }

func (v headValueGrad) Value() G.Value         { return v.w }
func (v headValueGrad) Grad() (G.Value, error) { return v.g, nil }
