// Package nn is the trainable part of the network as a gorgonia expression
// graph: the conv layers above the freeze boundary and the classifier head.
//
// Convolution, pooling, dense and the loss are custom gorgonia ops
// (gorgonia.Op + gorgonia.SDOp) whose forward and backward passes run on
// package kernels, in the project's NHWC layout; gorgonia supplies the
// graph, symbolic differentiation and the tape machine. Each op's gradient
// is itself a custom op, so the backward pass also runs on kernels.
package nn

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"vggo/kernels"
	"vggo/model/headtrain"
)

// opBase supplies the Op methods that are the same for every op here.
type opBase struct {
	name  string
	arity int
}

func (o opBase) Arity() int            { return o.arity }
func (o opBase) ReturnsPtr() bool      { return false }
func (o opBase) CallsExtern() bool     { return false }
func (o opBase) OverwritesInput() int  { return -1 }
func (o opBase) String() string        { return o.name }
func (o opBase) WriteHash(h hash.Hash) { fmt.Fprint(h, o.name) }
func (o opBase) Hashcode() uint32 {
	h := fnv.New32a()
	o.WriteHash(h)
	return h.Sum32()
}

// fnType builds the op type "inputs... → output" over float tensors of the
// given ranks (rank 0 = scalar).
func fnType(ranks ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, len(ranks))
	for i, r := range ranks {
		if r == 0 {
			ts[i] = a
		} else {
			ts[i] = G.TensorType{Dims: r, Of: a}
		}
	}
	return hm.NewFnType(ts...)
}

// f32 returns the float32 backing slice of a value.
func f32(v G.Value) []float32 {
	switch t := v.(type) {
	case *tensor.Dense:
		return t.Float32s()
	case *G.F32:
		return []float32{float32(*t)}
	}
	panic(fmt.Sprintf("nn: value %T is not float32", v))
}

func shapeOf(v G.Value) tensor.Shape { return v.Shape() }

func newDense(shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))
}

// reuse returns *t when it has the shape, else a new tensor it keeps in *t:
// an op allocates its output at the first step and overwrites it at every
// step after (a graph's shapes are fixed), so training allocates no
// tensors per step. The value lives until the op's next run, which is how
// long the tape machine uses it.
func reuse(t **tensor.Dense, shape ...int) *tensor.Dense {
	if *t == nil || !(*t).Shape().Eq(tensor.Shape(shape)) {
		*t = newDense(shape...)
	}
	return *t
}

func dimsOf(ds G.DimSizer) tensor.Shape { return ds.(tensor.Shape) }

// biasGradOp: dy [..., C] → Σ over all leading axes [C].
type biasGradOp struct {
	opBase
	db *tensor.Dense
}

func (o *biasGradOp) Type() hm.Type { return fnType(4, 1) } // ranks fixed per instance below
func (o *biasGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := dimsOf(in[0])
	return tensor.Shape{s[len(s)-1]}, nil
}
func (o *biasGradOp) Do(vs ...G.Value) (G.Value, error) {
	s := shapeOf(vs[0])
	c := s[len(s)-1]
	db := reuse(&o.db, c)
	kernels.BiasBackward(s.TotalSize()/c, c, f32(vs[0]), db.Float32s(), false)
	return db, nil
}

// biasGrad2Op is biasGradOp for rank-2 gradients (dense layers).
type biasGrad2Op struct{ biasGradOp }

func (o *biasGrad2Op) Type() hm.Type { return fnType(2, 1) }

// reluGradOp: (y, dy) → dy·[y > 0].
type reluGradOp struct {
	opBase
	rank int
	dx   *tensor.Dense
}

func reluGrad(relu bool, out, grad *G.Node) (*G.Node, error) {
	if !relu {
		return grad, nil
	}
	return G.ApplyOp(&reluGradOp{opBase: opBase{"relu-grad", 2}, rank: out.Dims()}, out, grad)
}

func (o *reluGradOp) Type() hm.Type { return fnType(o.rank, o.rank, o.rank) }
func (o *reluGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return dimsOf(in[0]).Clone(), nil
}
func (o *reluGradOp) Do(vs ...G.Value) (G.Value, error) {
	dx := reuse(&o.dx, shapeOf(vs[0])...)
	kernels.ReLUBackward(f32(vs[0]), f32(vs[1]), dx.Float32s())
	return dx, nil
}

// ---- 2x2/2 max pooling (floor) ----

type maxPoolOp struct {
	opBase
	y *tensor.Dense
}

// MaxPool2x2 halves H and W (floor), taking the maximum of each 2x2 window.
func MaxPool2x2(x *G.Node) (*G.Node, error) {
	return G.ApplyOp(&maxPoolOp{opBase: opBase{"maxpool2x2", 1}}, x)
}

func (o *maxPoolOp) Type() hm.Type { return fnType(4, 4) }
func (o *maxPoolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := dimsOf(in[0])
	return tensor.Shape{s[0], s[1] / 2, s[2] / 2, s[3]}, nil
}
func (o *maxPoolOp) Do(vs ...G.Value) (G.Value, error) {
	s := shapeOf(vs[0])
	y := reuse(&o.y, s[0], s[1]/2, s[2]/2, s[3])
	kernels.MaxPool2x2(s[0], s[1], s[2], s[3], f32(vs[0]), y.Float32s())
	return y, nil
}
func (o *maxPoolOp) DiffWRT(int) []bool { return []bool{true} }
func (o *maxPoolOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&maxPoolGradOp{opBase: opBase{"maxpool2x2-grad", 2}}, in[0], grad)
	return G.Nodes{dx}, err
}

// maxPoolGradOp: (x, dy) → dx.
type maxPoolGradOp struct {
	opBase
	dx *tensor.Dense
}

func (o *maxPoolGradOp) Type() hm.Type { return fnType(4, 4, 4) }
func (o *maxPoolGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return dimsOf(in[0]).Clone(), nil
}
func (o *maxPoolGradOp) Do(vs ...G.Value) (G.Value, error) {
	s := shapeOf(vs[0])
	dx := reuse(&o.dx, s...)
	kernels.MaxPool2x2Backward(s[0], s[1], s[2], s[3], f32(vs[0]), f32(vs[1]), dx.Float32s())
	return dx, nil
}

// ---- global average pooling ----

type gapOp struct {
	opBase
	y *tensor.Dense
}

// GlobalAvgPool averages each channel over H and W: [N,H,W,C] → [N,C].
func GlobalAvgPool(x *G.Node) (*G.Node, error) {
	return G.ApplyOp(&gapOp{opBase: opBase{"global-avg-pool", 1}}, x)
}

func (o *gapOp) Type() hm.Type { return fnType(4, 2) }
func (o *gapOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := dimsOf(in[0])
	return tensor.Shape{s[0], s[3]}, nil
}
func (o *gapOp) Do(vs ...G.Value) (G.Value, error) {
	s := shapeOf(vs[0])
	y := reuse(&o.y, s[0], s[3])
	kernels.GlobalAvgPool(s[0], s[1], s[2], s[3], f32(vs[0]), y.Float32s())
	return y, nil
}
func (o *gapOp) DiffWRT(int) []bool { return []bool{true} }
func (o *gapOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&gapGradOp{opBase: opBase{"global-avg-pool-grad", 2}}, in[0], grad)
	return G.Nodes{dx}, err
}

// gapGradOp: (x, dy) → dx (x only supplies the shape).
type gapGradOp struct {
	opBase
	dx *tensor.Dense
}

func (o *gapGradOp) Type() hm.Type { return fnType(4, 2, 4) }
func (o *gapGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return dimsOf(in[0]).Clone(), nil
}
func (o *gapGradOp) Do(vs ...G.Value) (G.Value, error) {
	s := shapeOf(vs[0])
	dx := reuse(&o.dx, s...)
	kernels.GlobalAvgPoolBackward(s[0], s[1], s[2], s[3], f32(vs[1]), dx.Float32s())
	return dx, nil
}

// ---- flatten (NHWC order, as Keras' Flatten) ----

type flattenOp struct {
	opBase
	y *tensor.Dense
}

// Flatten reshapes [N,H,W,C] to [N,H·W·C].
func Flatten(x *G.Node) (*G.Node, error) {
	return G.ApplyOp(&flattenOp{opBase: opBase{"flatten", 1}}, x)
}

func (o *flattenOp) Type() hm.Type { return fnType(4, 2) }
func (o *flattenOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s := dimsOf(in[0])
	return tensor.Shape{s[0], s[1] * s[2] * s[3]}, nil
}
func (o *flattenOp) Do(vs ...G.Value) (G.Value, error) {
	s := shapeOf(vs[0])
	y := reuse(&o.y, s[0], s[1]*s[2]*s[3])
	copy(y.Float32s(), f32(vs[0]))
	return y, nil
}
func (o *flattenOp) DiffWRT(int) []bool { return []bool{true} }
func (o *flattenOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&unflattenOp{opBase: opBase{"unflatten", 2}}, in[0], grad)
	return G.Nodes{dx}, err
}

type unflattenOp struct {
	opBase
	dx *tensor.Dense
}

func (o *unflattenOp) Type() hm.Type { return fnType(4, 2, 4) }
func (o *unflattenOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return dimsOf(in[0]).Clone(), nil
}
func (o *unflattenOp) Do(vs ...G.Value) (G.Value, error) {
	dx := reuse(&o.dx, shapeOf(vs[0])...)
	copy(dx.Float32s(), f32(vs[1]))
	return dx, nil
}

// ---- dense ----

// denseOp: (x [B,In], kernel [In,Out], bias [Out]) → y [B,Out], optional ReLU.
type denseOp struct {
	opBase
	relu bool
	y    *tensor.Dense
}

// Dense computes x·kernel + bias, followed by ReLU when relu is set.
func Dense(x, kernel, bias *G.Node, relu bool) (*G.Node, error) {
	return G.ApplyOp(&denseOp{opBase: opBase{fmt.Sprintf("dense(relu=%t)", relu), 3}, relu: relu}, x, kernel, bias)
}

func (o *denseOp) Type() hm.Type { return fnType(2, 2, 1, 2) }
func (o *denseOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	x, k := dimsOf(in[0]), dimsOf(in[1])
	if len(x) != 2 || len(k) != 2 || x[1] != k[0] {
		return nil, fmt.Errorf("dense: input %v and kernel %v do not fit", x, k)
	}
	return tensor.Shape{x[0], k[1]}, nil
}
func (o *denseOp) Do(vs ...G.Value) (G.Value, error) {
	x, k := shapeOf(vs[0]), shapeOf(vs[1])
	y := reuse(&o.y, x[0], k[1])
	headtrain.DenseForward(x[0], k[0], k[1], f32(vs[0]), f32(vs[1]), f32(vs[2]), y.Float32s(), o.relu)
	return y, nil
}
func (o *denseOp) DiffWRT(int) []bool { return []bool{true, true, true} }
func (o *denseOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	g, err := reluGrad(o.relu, out, grad)
	if err != nil {
		return nil, err
	}
	dx, err := G.ApplyOp(&denseGradDataOp{opBase: opBase{"dense-grad-data", 2}}, in[1], g)
	if err != nil {
		return nil, err
	}
	dk, err := G.ApplyOp(&denseGradKernelOp{opBase: opBase{"dense-grad-kernel", 2}}, in[0], g)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&biasGrad2Op{biasGradOp{opBase: opBase{"bias-grad", 1}}}, g)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dk, db}, nil
}

// denseGradDataOp: (kernel, dy) → dx = dy·kernelᵀ, by kernels.DenseBackward.
type denseGradDataOp struct {
	opBase
	dx *tensor.Dense
}

func (o *denseGradDataOp) Type() hm.Type { return fnType(2, 2, 2) }
func (o *denseGradDataOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{dimsOf(in[1])[0], dimsOf(in[0])[0]}, nil
}
func (o *denseGradDataOp) Do(vs ...G.Value) (G.Value, error) {
	k, dy := shapeOf(vs[0]), shapeOf(vs[1])
	dx := reuse(&o.dx, dy[0], k[0])
	kernels.DenseBackward(dy[0], k[0], k[1], nil, f32(vs[0]), f32(vs[1]), dx.Float32s(), nil, nil, false)
	return dx, nil
}

// denseGradKernelOp: (x, dy) → dkernel = xᵀ·dy, by kernels.DenseBackward.
type denseGradKernelOp struct {
	opBase
	dk *tensor.Dense
}

func (o *denseGradKernelOp) Type() hm.Type { return fnType(2, 2, 2) }
func (o *denseGradKernelOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{dimsOf(in[0])[1], dimsOf(in[1])[1]}, nil
}
func (o *denseGradKernelOp) Do(vs ...G.Value) (G.Value, error) {
	x, dy := shapeOf(vs[0]), shapeOf(vs[1])
	dk := reuse(&o.dk, x[1], dy[1])
	kernels.DenseBackward(x[0], x[1], dy[1], f32(vs[0]), nil, f32(vs[1]), nil, dk.Float32s(), nil, false)
	return dk, nil
}

// ---- softmax cross-entropy ----

// xentOp: (logits [B,K], targets [B,K]) → scalar mean cross-entropy
// −Σ t·log softmax(logits) / Σ t (kernels.SoftmaxCrossEntropy). Rows of
// targets that are all zero (padding of a short last batch) contribute
// nothing.
type xentOp struct {
	opBase
	probs []float32
	loss  G.F32
}

// SoftmaxCrossEntropy is the mean cross-entropy of softmax(logits) against
// one-hot (or soft) targets, computed stably from the logits.
func SoftmaxCrossEntropy(logits, targets *G.Node) (*G.Node, error) {
	return G.ApplyOp(&xentOp{opBase: opBase{"softmax-xent", 2}}, logits, targets)
}

func (o *xentOp) Type() hm.Type { return fnType(2, 2, 0) }
func (o *xentOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return tensor.ScalarShape(), nil
}
func (o *xentOp) Do(vs ...G.Value) (G.Value, error) {
	s := shapeOf(vs[0])
	if len(o.probs) != s[0]*s[1] {
		o.probs = make([]float32, s[0]*s[1])
	}
	o.loss = G.F32(kernels.SoftmaxCrossEntropy(s[0], s[1], f32(vs[0]), f32(vs[1]), o.probs))
	return &o.loss, nil
}
func (o *xentOp) DiffWRT(int) []bool { return []bool{true, false} }
func (o *xentOp) SymDiff(in G.Nodes, out, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&xentGradOp{opBase: opBase{"softmax-xent-grad", 3}}, in[0], in[1], grad)
	return G.Nodes{d, nil}, err
}

// xentGradOp: (logits, targets, dloss) → dlogits
// (kernels.SoftmaxCrossEntropyBackward).
type xentGradOp struct {
	opBase
	d *tensor.Dense
}

func (o *xentGradOp) Type() hm.Type { return fnType(2, 2, 0, 2) }
func (o *xentGradOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return dimsOf(in[0]).Clone(), nil
}
func (o *xentGradOp) Do(vs ...G.Value) (G.Value, error) {
	s := shapeOf(vs[0])
	d := reuse(&o.d, s[0], s[1])
	kernels.SoftmaxCrossEntropyBackward(s[0], s[1], f32(vs[0]), f32(vs[1]), f32(vs[2])[0], d.Float32s())
	return d, nil
}
