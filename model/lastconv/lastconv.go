// Package lastconv trains the conv base's last layer together with a
// classifier head: the teach page's "also fine-tune the last conv layer"
// and train fit -fine-tune 1 (train/nn's runner), one code path for both,
// as package headtrain is for the head alone.
//
// The frozen layers below run once per image: what is cached and trained
// on is the last conv layer's input (its H×W×Cin activation) instead of
// the pooled base output. A step is that layer (3x3 convolution, bias,
// ReLU, and the block's 2x2 max-pool when the layer ends one) under a
// headtrain.Step: forward, then the head's backward down to its input,
// then the pool's, ReLU's and the convolution's filter gradient (no input
// gradient: nothing below trains). It runs on package kernels (SIMD
// natively, the portable or wasm SIMD128 twins in the browser) and
// allocates nothing per step.
package lastconv

import (
	"fmt"
	"slices"

	"vggo/kernels"
	"vggo/model"
	"vggo/model/headtrain"
)

// Step is one training step of the last conv layer and a head on batches
// of that layer's inputs.
type Step struct {
	Batch, H, W, Cin, Cout int
	Pool                   bool             // a 2x2 max-pool follows the layer
	Conv                   model.ConvParams // updated in place by an optimizer
	Head                   *headtrain.Step  // reads the (pooled) conv output
	Grads                  [][]float32      // ∂loss/∂ conv kernel, conv bias, then the head's (Params order)

	layer  *kernels.Conv3x3Layer
	act    []float32 // the conv output after ReLU
	pooled []float32 // after the max-pool (act itself without one)
	dAct   []float32 // ∂loss/∂act, then through ReLU
}

// NewStep makes a step for batch inputs of h×w×cin through the conv layer
// conv (HWIO kernel [3][3][cin][cout], bias [cout]; its slices are
// shared, not copied), the max-pool when pool is set, and a head of the
// given kind on dense layers (shared too).
func NewStep(kind string, batch, h, w, cin, cout int, pool bool, conv model.ConvParams, layers []model.DenseParams) (*Step, error) {
	if batch < 1 || h < 1 || w < 1 || cin < 1 || cout < 1 {
		return nil, fmt.Errorf("last conv step: batch %d, input %dx%dx%d, %d outputs: want ≥ 1 each", batch, h, w, cin, cout)
	}
	if len(conv.Kernel) != 9*cin*cout || len(conv.Bias) != cout {
		return nil, fmt.Errorf("last conv step: kernel %d values, bias %d, want 3x3x%dx%d and %d", len(conv.Kernel), len(conv.Bias), cin, cout, cout)
	}
	if pool && (h < 2 || w < 2) {
		return nil, fmt.Errorf("last conv step: a %dx%d map cannot be max-pooled 2x2", h, w)
	}
	oh, ow := h, w
	if pool {
		oh, ow = h/2, w/2
	}
	head, err := headtrain.NewStep(kind, batch, oh, ow, cout, layers)
	if err != nil {
		return nil, err
	}
	head.WantInputGrad()
	s := &Step{Batch: batch, H: h, W: w, Cin: cin, Cout: cout, Pool: pool, Conv: conv, Head: head,
		layer: kernels.NewConv3x3Layer(batch, h, w, cin, cout),
		act:   make([]float32, batch*h*w*cout), dAct: make([]float32, batch*h*w*cout)}
	s.pooled = s.act
	if pool {
		s.pooled = make([]float32, batch*oh*ow*cout)
	}
	s.Grads = append([][]float32{make([]float32, len(conv.Kernel)), make([]float32, cout)}, head.Grads...)
	return s, nil
}

// Forward runs the batch x (Batch × H·W·Cin) and returns the mean
// cross-entropy against targets, as headtrain.Step.Forward (mask: the
// head's dropout mask or nil). x, targets and mask must stay unchanged
// until Backward.
func (s *Step) Forward(x, targets, mask []float32) float32 {
	s.layer.SetKernel(s.Conv.Kernel, s.Conv.Bias) // transforms only when an optimizer changed them
	s.layer.Forward(x, s.act, true)
	if s.Pool {
		kernels.MaxPool2x2(s.Batch, s.H, s.W, s.Cout, s.act, s.pooled)
	}
	return s.Head.Forward(s.pooled, targets, mask)
}

// Backward fills Grads with the gradients of the last Forward's loss (x is
// that Forward's input).
func (s *Step) Backward(x []float32) {
	s.Head.Backward(s.pooled)
	d := s.Head.InputGrad()
	if s.Pool {
		kernels.MaxPool2x2Backward(s.Batch, s.H, s.W, s.Cout, s.act, d, s.dAct)
	} else {
		copy(s.dAct, d)
	}
	kernels.ReLUBackward(s.act, s.dAct, s.dAct)
	s.layer.BackwardFilter(x, s.dAct, s.Grads[0], s.Grads[1], false)
}

// Logits are the last Forward's outputs before the softmax.
func (s *Step) Logits() []float32 { return s.Head.Logits() }

// Classes is the output width.
func (s *Step) Classes() int { return s.Head.Classes() }

// MaskLen is the head's dropout mask length.
func (s *Step) MaskLen() int { return s.Head.MaskLen() }

// Params are the conv kernel and bias, then the head's parameters, in
// Grads' order.
func (s *Step) Params() [][]float32 {
	return append([][]float32{s.Conv.Kernel, s.Conv.Bias}, s.Head.Params()...)
}

// ParamGrads is Grads, for headtrain.Trainable.
func (s *Step) ParamGrads() [][]float32 { return s.Grads }

// Fit trains the last conv layer, starting from conv (not modified), with
// a new head (initialised from the seed as headtrain.Fit does) on f, the
// layer's inputs (f.C = its input channels): the run train fit
// -fine-tune 1 -val 0 -patience 0 makes on cached features. It returns the
// trained layer and head of the epoch with the lowest training loss;
// progress works as in headtrain.Train.
func Fit(f *headtrain.Features, classes int, conv model.ConvParams, pool bool, s headtrain.Settings, progress func(headtrain.Epoch) bool) (model.ConvParams, model.Head, []headtrain.Epoch, error) {
	if err := headtrain.Validate(s, classes); err != nil {
		return model.ConvParams{}, model.Head{}, nil, err
	}
	if err := f.Check(classes); err != nil {
		return model.ConvParams{}, model.Head{}, nil, err
	}
	if f.N() == 0 {
		return model.ConvParams{}, model.Head{}, nil, fmt.Errorf("no training images")
	}
	cout := len(conv.Bias)
	oh, ow := f.H, f.W
	if pool {
		oh, ow = oh/2, ow/2
	}
	layers := headtrain.InitDense(headtrain.InitRand(s.Seed), headtrain.Sizes(s.Head, oh, ow, cout, s.Hidden, classes))
	work := model.ConvParams{Kernel: slices.Clone(conv.Kernel), Bias: slices.Clone(conv.Bias)}
	step, err := NewStep(s.Head, s.Batch, f.H, f.W, f.C, cout, pool, work, layers)
	if err != nil {
		return model.ConvParams{}, model.Head{}, nil, err
	}
	best, history, err := headtrain.Train(f, classes, s, step, progress)
	if err != nil {
		return model.ConvParams{}, model.Head{}, history, err
	}
	for i := range layers {
		layers[i].Kernel, layers[i].Bias = best[2+2*i], best[3+2*i]
	}
	return model.ConvParams{Kernel: best[0], Bias: best[1]}, model.Head{Kind: s.Head, Dense: layers}, history, nil
}

// Predict returns the most probable class of each sample (the layer's
// inputs) under the conv layer and head.
func Predict(conv model.ConvParams, pool bool, head model.Head, f *headtrain.Features) ([]int, error) {
	const batch = 32
	step, err := NewStep(head.Kind, batch, f.H, f.W, f.C, len(conv.Bias), pool, conv, head.Dense)
	if err != nil {
		return nil, err
	}
	return headtrain.PredictWith(step, batch, step.Classes(), f), nil
}
