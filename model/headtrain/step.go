// Package headtrain is the one training step of a classifier head on frozen
// conv-base features, in plain Go over package kernels: forward (global
// average pooling or flatten, dense layers with ReLU, inverted dropout before
// the last), softmax cross-entropy, backward, and the optimizers (Adam,
// RMSProp, SGD with momentum), plus the seeded epoch order, dropout masks and
// initialisation the native trainer uses.
//
// Both the native trainer (train fit -fine-tune 0, through train/nn) and the
// browser's worker (the teach page) import it, so a head trained in the
// browser and one trained natively on the same features, seed and settings
// agree. It has no gorgonia: the worker must stay small and gorgonia's graph
// machinery (and its reflection-heavy dependencies) would add megabytes to
// worker.wasm for a head of two matrix products (docs/design.md).
package headtrain

import (
	"fmt"

	"vggo/kernels"
	"vggo/model"
)

// Step runs forward and backward passes of a head over a fixed batch size.
// Its buffers are sized once, so a training step allocates nothing.
type Step struct {
	Kind    string // model.HeadGAP, HeadLinear or HeadSeed
	Batch   int
	H, W, C int                 // shape of one feature (the conv base output)
	Layers  []model.DenseParams // the parameters, updated in place by an optimizer
	Grads   [][]float32         // after Backward: ∂loss/∂ kernel0, bias0, kernel1, ... (Params order)

	in      []float32   // the dense input: pooled (gap, linear) or the features (seed)
	outs    [][]float32 // each layer's output (ReLU applied on all but the last)
	masked  []float32   // the last layer's input after the dropout mask
	probs   []float32
	dy, dx  [][]float32 // per layer: ∂loss/∂output, ∂loss/∂input
	targets []float32
	mask    []float32
	dIn     []float32 // ∂loss/∂x, when WantInputGrad was called
}

// NewStep makes a step for batch rows of features shaped h×w×c (NHWC)
// through the dense layers, whose slices it shares (not copies).
func NewStep(kind string, batch, h, w, c int, layers []model.DenseParams) (*Step, error) {
	if err := model.ValidateHead(kind); err != nil {
		return nil, err
	}
	if batch < 1 || len(layers) == 0 {
		return nil, fmt.Errorf("head step: batch %d, %d layers: want ≥ 1 of each", batch, len(layers))
	}
	in := c
	if kind == model.HeadSeed {
		in = h * w * c
	}
	s := &Step{Kind: kind, Batch: batch, H: h, W: w, C: c, Layers: layers}
	for i, l := range layers {
		if l.In != in || len(l.Kernel) != l.In*l.Out || len(l.Bias) != l.Out {
			return nil, fmt.Errorf("head step: dense%d is %dx%d (kernel %d, bias %d values), its input is %d wide", i+1, l.In, l.Out, len(l.Kernel), len(l.Bias), in)
		}
		in = l.Out
		s.outs = append(s.outs, make([]float32, batch*l.Out))
		s.dy = append(s.dy, make([]float32, batch*l.Out))
		s.dx = append(s.dx, make([]float32, batch*l.In))
		s.Grads = append(s.Grads, make([]float32, l.In*l.Out), make([]float32, l.Out))
	}
	if kind != model.HeadSeed {
		s.in = make([]float32, batch*c)
	}
	s.probs = make([]float32, batch*s.Classes())
	if len(layers) > 1 {
		s.masked = make([]float32, batch*layers[len(layers)-1].In)
	}
	return s, nil
}

// Classes is the output width.
func (s *Step) Classes() int { return s.Layers[len(s.Layers)-1].Out }

// MaskLen is the length of a dropout mask for this step: batch × the last
// layer's input width, 0 for a head with one layer (no dropout there, as
// in the native graph).
func (s *Step) MaskLen() int {
	if len(s.Layers) < 2 {
		return 0
	}
	return s.Batch * s.Layers[len(s.Layers)-1].In
}

// Forward runs the batch x (Batch × H·W·C) and returns the mean
// cross-entropy against targets (Batch × classes, one-hot; all-zero rows
// are padding and count nothing). mask (MaskLen values, or nil for no
// dropout) multiplies the last layer's input. x, targets and mask must stay
// unchanged until Backward.
func (s *Step) Forward(x, targets, mask []float32) float32 {
	b := s.Batch
	in := x
	if s.Kind != model.HeadSeed {
		kernels.GlobalAvgPool(b, s.H, s.W, s.C, x, s.in)
		in = s.in
	}
	s.targets, s.mask = targets, nil
	for i, l := range s.Layers {
		last := i == len(s.Layers)-1
		if last && mask != nil && s.masked != nil {
			for j, v := range in {
				s.masked[j] = v * mask[j]
			}
			in, s.mask = s.masked, mask
		}
		DenseForward(b, l.In, l.Out, in, l.Kernel, l.Bias, s.outs[i], !last)
		in = s.outs[i]
	}
	return kernels.SoftmaxCrossEntropy(b, s.Classes(), s.Logits(), targets, s.probs)
}

// Logits are the last Forward's outputs before the softmax (Batch × classes).
func (s *Step) Logits() []float32 { return s.outs[len(s.outs)-1] }

// layerInput is what layer i read in the last Forward.
func (s *Step) layerInput(i int, x []float32) []float32 {
	switch {
	case i == len(s.Layers)-1 && s.mask != nil:
		return s.masked
	case i > 0:
		return s.outs[i-1]
	case s.Kind == model.HeadSeed:
		return x
	}
	return s.in
}

// WantInputGrad makes every later Backward also compute the gradient with
// respect to the step's input x (InputGrad): what a trainable layer below
// the head (package lastconv) needs. A head alone skips it.
func (s *Step) WantInputGrad() {
	if s.dIn == nil {
		s.dIn = make([]float32, s.Batch*s.H*s.W*s.C)
	}
}

// InputGrad is ∂loss/∂x of the last Backward (Batch × H·W·C), nil unless
// WantInputGrad was called.
func (s *Step) InputGrad() []float32 { return s.dIn }

// Backward fills Grads with the gradients of the last Forward's loss (x is
// that Forward's input).
func (s *Step) Backward(x []float32) {
	b, last := s.Batch, len(s.Layers)-1
	kernels.SoftmaxCrossEntropyBackward(b, s.Classes(), s.Logits(), s.targets, 1, s.dy[last])
	for i := last; i >= 0; i-- {
		l := s.Layers[i]
		var dx []float32
		if i > 0 || s.dIn != nil {
			dx = s.dx[i]
		}
		kernels.DenseBackward(b, l.In, l.Out, s.layerInput(i, x), l.Kernel, s.dy[i], dx, s.Grads[2*i], s.Grads[2*i+1], false)
		if i == 0 {
			s.inputGrad(dx)
			break
		}
		if i == last && s.mask != nil {
			for j, m := range s.mask {
				dx[j] *= m
			}
		}
		kernels.ReLUBackward(s.outs[i-1], dx, s.dy[i-1])
	}
}

// inputGrad turns the first dense layer's input gradient into InputGrad's
// (through the global average pool for gap and linear heads).
func (s *Step) inputGrad(dx []float32) {
	switch {
	case s.dIn == nil:
	case s.Kind == model.HeadSeed:
		copy(s.dIn, dx)
	default:
		kernels.GlobalAvgPoolBackward(s.Batch, s.H, s.W, s.C, dx, s.dIn)
	}
}

// ParamGrads is Grads, for Trainable.
func (s *Step) ParamGrads() [][]float32 { return s.Grads }

// Params returns the parameters as flat slices in Grads' order, for an
// optimizer.
func (s *Step) Params() [][]float32 {
	p := make([][]float32, 0, 2*len(s.Layers))
	for _, l := range s.Layers {
		p = append(p, l.Kernel, l.Bias)
	}
	return p
}

// DenseForward is y = x·kernel + bias for batch rows, followed by ReLU when
// relu is set (x [batch][in], kernel [in][out], y [batch][out]).
func DenseForward(batch, in, out int, x, kernel, bias, y []float32, relu bool) {
	for b := 0; b < batch; b++ {
		copy(y[b*out:(b+1)*out], bias)
	}
	kernels.Gemm(false, false, batch, out, in, x, in, kernel, out, y, out, true)
	if relu {
		for i, v := range y[:batch*out] {
			if v < 0 {
				y[i] = 0
			}
		}
	}
}
