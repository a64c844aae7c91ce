package nn

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"vggo/kernels"
)

// ---- 3x3 convolution, stride 1, pad 1, bias, optional fused ReLU ----

// convOp: (x [N,H,W,Cin], kernel [3,3,Cin,Cout], bias [Cout]) → y [N,H,W,Cout].
// Its kernels.Conv3x3Layer, shared with the gradient ops, keeps the
// transformed weights (redone only when they changed, i.e. once per
// optimizer step) and the workspaces of all three passes.
type convOp struct {
	opBase
	relu        bool
	noInputGrad bool                  // Conv3x3NoInputGrad: no gradient flows to x
	layer       *kernels.Conv3x3Layer // for the shape of the last call
	y           *tensor.Dense
}

// Conv3x3 applies a 3x3/1 same-padded convolution with bias, followed by
// ReLU when relu is set.
func Conv3x3(x, kernel, bias *G.Node, relu bool) (*G.Node, error) {
	return conv3x3(x, kernel, bias, relu, false)
}

// Conv3x3NoInputGrad is Conv3x3 for a layer whose input needs no gradient
// (the first trainable layer, which reads the batch): the graph never
// computes it: one of the three passes of that layer, which in fine-tuning
// is most of the trained work.
func Conv3x3NoInputGrad(x, kernel, bias *G.Node, relu bool) (*G.Node, error) {
	return conv3x3(x, kernel, bias, relu, true)
}

func conv3x3(x, kernel, bias *G.Node, relu, noInputGrad bool) (*G.Node, error) {
	name := fmt.Sprintf("conv3x3(relu=%t)", relu)
	if noInputGrad {
		name = fmt.Sprintf("conv3x3(relu=%t, no input gradient)", relu)
	}
	return G.ApplyOp(&convOp{opBase: opBase{name, 3}, relu: relu, noInputGrad: noInputGrad}, x, kernel, bias)
}

func (o *convOp) Type() hm.Type { return fnType(4, 4, 1, 4) }
func (o *convOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, k := dimsOf(in[0]), dimsOf(in[1])
	if len(x) != 4 || len(k) != 4 || k[0] != 3 || k[1] != 3 || k[2] != x[3] {
		return nil, fmt.Errorf("conv3x3: input %v and kernel %v do not fit (want NHWC and 3x3xCinxCout)", x, k)
	}
	return tensor.Shape{x[0], x[1], x[2], k[3]}, nil
}
func (o *convOp) Do(vs ...G.Value) (G.Value, error) {
	s, k := shapeOf(vs[0]), shapeOf(vs[1])
	n, h, w, cin, cout := s[0], s[1], s[2], s[3], k[3]
	if o.layer == nil || o.y == nil || !o.y.Shape().Eq(tensor.Shape{n, h, w, cout}) {
		o.layer = kernels.NewConv3x3Layer(n, h, w, cin, cout)
	}
	o.layer.SetKernel(f32(vs[1]), f32(vs[2]))
	y := reuse(&o.y, n, h, w, cout)
	o.layer.Forward(f32(vs[0]), y.Float32s(), o.relu)
	return y, nil
}

// ranLayer returns the layer of the last forward pass, which the gradient
// ops need (the tape runs the forward pass of a step before its gradients).
func (o *convOp) ranLayer() (*kernels.Conv3x3Layer, error) {
	if o.layer == nil {
		return nil, fmt.Errorf("%s: gradient asked before the forward pass ran", o.name)
	}
	return o.layer, nil
}

func (o *convOp) DiffWRT(int) []bool { return []bool{!o.noInputGrad, true, true} }
func (o *convOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	g, err := reluGrad(o.relu, out, grad)
	if err != nil {
		return nil, err
	}
	var dx *G.Node
	if !o.noInputGrad {
		if dx, err = G.ApplyOp(&convGradDataOp{opBase: opBase{"conv3x3-grad-data", 2}, fwd: o}, in[1], g); err != nil {
			return nil, err
		}
	}
	dk, err := G.ApplyOp(&convGradFilterOp{opBase: opBase{"conv3x3-grad-filter", 2}, fwd: o}, in[0], g)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&biasGradOp{opBase: opBase{"bias-grad", 1}}, g)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dk, db}, nil
}

// convGradDataOp: (kernel, dy) → dx. The kernel input orders it after the
// weights; the values come from the forward op's layer, which holds them
// already transformed for this pass.
type convGradDataOp struct {
	opBase
	fwd *convOp
	dx  *tensor.Dense
}

func (o *convGradDataOp) Type() hm.Type { return fnType(4, 4, 4) }
func (o *convGradDataOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	k, dy := dimsOf(in[0]), dimsOf(in[1])
	return tensor.Shape{dy[0], dy[1], dy[2], k[2]}, nil
}
func (o *convGradDataOp) Do(vs ...G.Value) (G.Value, error) {
	l, err := o.fwd.ranLayer()
	if err != nil {
		return nil, err
	}
	k, s := shapeOf(vs[0]), shapeOf(vs[1])
	dx := reuse(&o.dx, s[0], s[1], s[2], k[2])
	l.BackwardData(f32(vs[1]), dx.Float32s())
	return dx, nil
}

// convGradFilterOp: (x, dy) → dkernel.
type convGradFilterOp struct {
	opBase
	fwd *convOp
	dk  *tensor.Dense
}

func (o *convGradFilterOp) Type() hm.Type { return fnType(4, 4, 4) }
func (o *convGradFilterOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, dy := dimsOf(in[0]), dimsOf(in[1])
	return tensor.Shape{3, 3, x[3], dy[3]}, nil
}
func (o *convGradFilterOp) Do(vs ...G.Value) (G.Value, error) {
	l, err := o.fwd.ranLayer()
	if err != nil {
		return nil, err
	}
	x, dy := shapeOf(vs[0]), shapeOf(vs[1])
	dk := reuse(&o.dk, 3, 3, x[3], dy[3])
	l.BackwardFilter(f32(vs[0]), f32(vs[1]), dk.Float32s(), nil, false)
	return dk, nil
}
