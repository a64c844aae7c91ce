package cuda

import (
	"fmt"
	"strings"

	"vggo/model"
	"vggo/train/nn"
)

// Op is one kind of GPU call in a Plan.
type Op int

// The calls a training step is lowered to. The comment names the library
// call and the order of the call's Args.
const (
	ConvForward        Op = iota // cudnnConvolutionForward: x, w, y
	AddBias                      // cudnnAddTensor: b, y (y += b per channel)
	ReLU                         // cudnnActivationForward in place: y
	MaxPool                      // cudnnPoolingForward 2x2/2: x, y
	GlobalAvgPool                // cudnnPoolingForward with an H×W window: x [B,H,W,C], y [B,C]
	Gemm                         // cublasSgemm: x [B,In], w [In,Out], y [B,Out]
	Dropout                      // cudnnOpTensor multiply: x, mask, y = x·mask
	LossOnHost                   // logits down, kernels.SoftmaxCrossEntropy(Backward) on the CPU, dlogits up: logits, dlogits
	ReLUBackward                 // cudnnActivationBackward in place: y, dy
	MaxPoolBackward              // cudnnPoolingBackward: x, y, dy, dx
	AvgPoolBackward              // cudnnPoolingBackward: x, y, dy, dx
	BiasGrad                     // cudnnConvolutionBackwardBias: dy, db
	ConvBackwardFilter           // cudnnConvolutionBackwardFilter: x, dy, dw
	ConvBackwardData             // cudnnConvolutionBackwardData: w, dy, dx
	GemmGradWeights              // cublasSgemm: x, dy, dw = xᵀ·dy
	GemmGradInput                // cublasSgemm: dy, w, dx = dy·wᵀ
	AdamUpdate                   // the adam.ptx kernel: w, dw, m, v
)

var opNames = [...]string{"ConvForward", "AddBias", "ReLU", "MaxPool", "GlobalAvgPool", "Gemm", "Dropout", "LossOnHost",
	"ReLUBackward", "MaxPoolBackward", "AvgPoolBackward", "BiasGrad", "ConvBackwardFilter", "ConvBackwardData",
	"GemmGradWeights", "GemmGradInput", "AdamUpdate"}

func (o Op) String() string { return opNames[o] }

// Role says what a buffer holds.
type Role int

// Buffer roles.
const (
	Input      Role = iota // uploaded per batch (features, dropout mask)
	Param                  // a trainable tensor, uploaded once
	Grad                   // a parameter's gradient
	Moment                 // Adam's first or second moment
	Activation             // a forward value kept for the backward pass
	ActGrad                // the gradient of an activation
)

// Buf is one device buffer of float32 values. Alias ≥ 0 shares the memory
// of an earlier buffer under another shape (the seed head's flatten of an
// NHWC activation); such a buffer takes no memory of its own.
type Buf struct {
	Name  string
	Shape []int
	Role  Role
	Alias int
}

// Len is the number of values.
func (b Buf) Len() int {
	n := 1
	for _, d := range b.Shape {
		n *= d
	}
	return n
}

// Call is one step of the plan: an op over buffers (indices into
// Plan.Bufs), in the order Op's comment gives.
type Call struct {
	Op   Op
	Args []int
}

// Plan is one training (or inference) step of the trainable network of a
// spec, lowered to a fixed sequence of GPU calls over fixed buffers: the
// whole step is known before it runs, so buffers, cuDNN descriptors and
// algorithm choices are made once.
type Plan struct {
	Spec    nn.Spec
	Batch   int
	Bufs    []Buf
	Calls   []Call
	Input   int      // the batch's features [B,H,W,C]
	Mask    int      // the dropout mask [B,In] of the last dense layer; −1 without dropout
	Logits  int      // [B,K]
	Params  []int    // in nn.Params order (each conv's kernel then bias, then each dense's)
	Grads   []int    // parallel to Params (training plans)
	Moments [][2]int // Adam's m and v, parallel to Params (training plans)
}

// NewPlan lowers spec's network for batches of b. With train set, the
// plan continues after the logits with the loss, the backward pass and the
// Adam update of every parameter; without, it ends at the logits.
func NewPlan(spec nn.Spec, b int, train bool) (*Plan, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if b < 1 {
		return nil, fmt.Errorf("batch %d: want ≥ 1", b)
	}
	p := &Plan{Spec: spec, Batch: b, Mask: -1}
	in := spec.InputShape()
	p.Input = p.buf("input", Input, b, in[0], in[1], in[2])
	l := &lowering{p: p, train: train}
	x := p.Input
	side := in[0]
	for i := spec.Boundary; i < spec.Arch.Depth(); i++ {
		x = l.conv(i, x, side)
		if model.VGG16Convs[i].PoolAfter {
			side /= 2
		}
	}
	x = l.headInput(x)
	sizes := spec.DenseSizes()
	for j, io := range sizes {
		last := j == len(sizes)-1
		if last && train && spec.Dropout > 0 && len(sizes) > 1 {
			x = l.dropout(x, io[0])
		}
		x = l.dense(j, x, io, !last)
	}
	p.Logits = x
	if train {
		l.backward()
	}
	return p, nil
}

func (p *Plan) buf(name string, r Role, shape ...int) int {
	p.Bufs = append(p.Bufs, Buf{Name: name, Shape: shape, Role: r, Alias: -1})
	return len(p.Bufs) - 1
}

func (p *Plan) call(op Op, args ...int) { p.Calls = append(p.Calls, Call{op, args}) }

// Bytes is the device memory the plan's buffers take, by role.
func (p *Plan) Bytes() map[Role]int64 {
	m := map[Role]int64{}
	for _, b := range p.Bufs {
		if b.Alias < 0 {
			m[b.Role] += 4 * int64(b.Len())
		}
	}
	return m
}

// String lists the calls, one a line, with their buffers' names and shapes.
func (p *Plan) String() string {
	var s strings.Builder
	for _, c := range p.Calls {
		s.WriteString(c.Op.String())
		for _, a := range c.Args {
			fmt.Fprintf(&s, " %s%v", p.Bufs[a].Name, p.Bufs[a].Shape)
		}
		s.WriteByte('\n')
	}
	return s.String()
}

// lowering builds a plan's forward calls and records, per layer, how to
// emit its backward calls afterwards in reverse.
type lowering struct {
	p        *Plan
	train    bool
	backs    []func()
	grad     map[int]int  // activation buffer → its gradient buffer
	trains   map[int]bool // activations computed from a trainable parameter: only they need a gradient
	adamArgs [][4]int
}

// needsGrad reports whether the backward pass must compute a's gradient:
// whether any parameter lies below it.
func (l *lowering) needsGrad(a int) bool { return l.trains[a] }

// derived marks out as computed from in (by an op without parameters).
func (l *lowering) derived(out, in int) { l.mark(out, l.trains[in]) }

func (l *lowering) mark(a int, trains bool) {
	if l.trains == nil {
		l.trains = map[int]bool{}
	}
	l.trains[a] = trains
}

// param adds a parameter (and, when training, its gradient and moments).
func (l *lowering) param(name string, shape ...int) (w, dw int) {
	p := l.p
	w, dw = p.buf(name, Param, shape...), -1
	p.Params = append(p.Params, w)
	if l.train {
		dw = p.buf("d"+name, Grad, shape...)
		m, v := p.buf("m:"+name, Moment, shape...), p.buf("v:"+name, Moment, shape...)
		p.Grads = append(p.Grads, dw)
		p.Moments = append(p.Moments, [2]int{m, v})
		l.adamArgs = append(l.adamArgs, [4]int{w, dw, m, v})
	}
	return w, dw
}

// gradOf returns the gradient buffer of activation a, made on first use.
func (l *lowering) gradOf(a int) int {
	p := l.p
	if l.grad == nil {
		l.grad = map[int]int{}
	}
	if g, ok := l.grad[a]; ok {
		return g
	}
	b := p.Bufs[a]
	g := p.buf("d"+b.Name, ActGrad, b.Shape...)
	if b.Alias >= 0 {
		p.Bufs[g].Alias = l.gradOf(b.Alias)
	}
	l.grad[a] = g
	return g
}

func (l *lowering) conv(i, x, side int) int {
	p, c := l.p, l.p.Spec.Arch.Conv(i)
	w, dw := l.param(c.Name+"/kernel", c.Cout, 3, 3, c.Cin)
	bias, db := l.param(c.Name+"/bias", c.Cout)
	y := p.buf(c.Name, Activation, p.Batch, side, side, c.Cout)
	p.call(ConvForward, x, w, y)
	p.call(AddBias, bias, y)
	p.call(ReLU, y)
	out := y
	if model.VGG16Convs[i].PoolAfter {
		out = p.buf(c.Name+"/pool", Activation, p.Batch, side/2, side/2, c.Cout)
		p.call(MaxPool, y, out)
	}
	l.mark(out, true)
	l.backs = append(l.backs, func() {
		dy := l.gradOf(y)
		if out != y {
			p.call(MaxPoolBackward, y, out, l.gradOf(out), dy)
		}
		p.call(ReLUBackward, y, dy)
		p.call(BiasGrad, dy, db)
		p.call(ConvBackwardFilter, x, dy, dw)
		if l.needsGrad(x) {
			p.call(ConvBackwardData, w, dy, l.gradOf(x))
		}
	})
	return out
}

// headInput is the seed head's flatten (an alias, no call) or the global
// average pool of the other heads.
func (l *lowering) headInput(x int) int {
	p := l.p
	s := p.Bufs[x].Shape
	if p.Spec.Head == model.HeadSeed {
		f := p.buf("flatten", Activation, s[0], s[1]*s[2]*s[3])
		p.Bufs[f].Alias = x
		l.derived(f, x)
		return f
	}
	g := p.buf("gap", Activation, s[0], s[3])
	p.call(GlobalAvgPool, x, g)
	l.derived(g, x)
	l.backs = append(l.backs, func() {
		if l.needsGrad(x) {
			p.call(AvgPoolBackward, x, g, l.gradOf(g), l.gradOf(x))
		}
	})
	return g
}

func (l *lowering) dropout(x, width int) int {
	p := l.p
	p.Mask = p.buf("dropout-mask", Input, p.Batch, width)
	y := p.buf("dropped", Activation, p.Batch, width)
	p.call(Dropout, x, p.Mask, y)
	l.derived(y, x)
	l.backs = append(l.backs, func() {
		if l.needsGrad(x) {
			p.call(Dropout, l.gradOf(y), p.Mask, l.gradOf(x))
		}
	})
	return y
}

func (l *lowering) dense(j, x int, io [2]int, relu bool) int {
	p := l.p
	name := fmt.Sprintf("dense%d", j+1)
	w, dw := l.param(name+"/kernel", io[0], io[1])
	bias, db := l.param(name+"/bias", io[1])
	y := p.buf(name, Activation, p.Batch, io[1])
	p.call(Gemm, x, w, y)
	p.call(AddBias, bias, y)
	if relu {
		p.call(ReLU, y)
	}
	l.mark(y, true)
	l.backs = append(l.backs, func() {
		dy := l.gradOf(y)
		if relu {
			p.call(ReLUBackward, y, dy)
		}
		p.call(BiasGrad, dy, db)
		p.call(GemmGradWeights, x, dy, dw)
		if l.needsGrad(x) {
			p.call(GemmGradInput, dy, w, l.gradOf(x))
		}
	})
	return y
}

// backward adds the loss, every layer's backward calls (last layer first)
// and the parameter updates.
func (l *lowering) backward() {
	p := l.p
	p.call(LossOnHost, p.Logits, l.gradOf(p.Logits))
	for i := len(l.backs) - 1; i >= 0; i-- {
		l.backs[i]()
	}
	for _, a := range l.adamArgs {
		p.call(AdamUpdate, a[0], a[1], a[2], a[3])
	}
}
