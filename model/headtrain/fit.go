package headtrain

import (
	"fmt"
	"math"
	"slices"

	"vggo/model"
	"vggo/model/headtrain/headspec"
	"vggo/model/rank"
)

// Settings, Epoch and Evaluation are headspec's (the page holds them
// without linking this package).
type (
	Settings   = headspec.Settings
	Epoch      = headspec.Epoch
	Evaluation = headspec.Evaluation
)

// DefaultSettings is the teach page's run: train fit's defaults for a gap
// head (256 hidden units, dropout 0.2, Adam at 0.001, batch 32) with more
// epochs (20), since a few dozen images make few steps per epoch.
func DefaultSettings() Settings {
	return headspec.Default()
}

// Validate checks the settings for a run with classes outputs.
func Validate(s Settings, classes int) error {
	switch {
	case classes < 2:
		return fmt.Errorf("%d classes: need at least 2", classes)
	case s.Epochs < 1 || s.Batch < 1:
		return fmt.Errorf("epochs %d, batch %d: want ≥ 1", s.Epochs, s.Batch)
	case s.Dropout < 0 || s.Dropout >= 1:
		return fmt.Errorf("dropout %g: want [0, 1)", s.Dropout)
	case s.Head == model.HeadLinear && len(s.Hidden) > 0:
		return fmt.Errorf("a linear head has no hidden layers, got %v", s.Hidden)
	}
	return model.ValidateHead(s.Head)
}

// Features are n samples of one frozen-base output each (n × H·W·C, NHWC)
// with their class labels.
type Features struct {
	H, W, C int
	X       []float32
	Labels  []int
}

// N is the number of samples.
func (f *Features) N() int { return len(f.Labels) }

// Per is the number of values of one sample.
func (f *Features) Per() int { return f.H * f.W * f.C }

// Check verifies the sizes and that every label is below classes.
func (f *Features) Check(classes int) error {
	if f.H < 1 || f.W < 1 || f.C < 1 || len(f.X) != f.N()*f.Per() {
		return fmt.Errorf("features: %d values for %d samples of %dx%dx%d", len(f.X), f.N(), f.H, f.W, f.C)
	}
	for i, l := range f.Labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("features: sample %d has label %d, want 0..%d", i, l, classes-1)
		}
	}
	return nil
}

// Fit trains a new head on the features: initialised from the seed, then
// Epochs epochs of shuffled batches (the last one padded), each batch one
// forward, backward and optimizer step, the same sequence as train fit
// -fine-tune 0 -val 0 -patience 0 with a constant learning rate. It keeps
// the epoch with the lowest training loss, as that run does, and returns
// it. After each epoch, progress is called; when it returns false, Fit
// stops and returns the best head so far.
func Fit(f *Features, classes int, s Settings, progress func(Epoch) bool) (model.Head, []Epoch, error) {
	if err := Validate(s, classes); err != nil {
		return model.Head{}, nil, err
	}
	if err := f.Check(classes); err != nil {
		return model.Head{}, nil, err
	}
	if f.N() == 0 {
		return model.Head{}, nil, fmt.Errorf("no training images")
	}
	layers := InitDense(InitRand(s.Seed), Sizes(s.Head, f.H, f.W, f.C, s.Hidden, classes))
	step, err := NewStep(s.Head, s.Batch, f.H, f.W, f.C, layers)
	if err != nil {
		return model.Head{}, nil, err
	}
	best, history, err := Train(f, classes, s, step, progress)
	if err != nil {
		return model.Head{}, history, err
	}
	for i := range layers {
		layers[i].Kernel, layers[i].Bias = best[2*i], best[2*i+1]
	}
	return model.Head{Kind: s.Head, Dense: layers}, history, nil
}

// Trainable is a training step that Train runs: a head (Step), or a head
// with a trainable conv layer below it (package lastconv).
type Trainable interface {
	// Forward runs a batch and returns its mean loss (see Step.Forward).
	Forward(x, targets, mask []float32) float32
	// Backward fills ParamGrads from the last Forward (x its input).
	Backward(x []float32)
	// Logits are the last Forward's outputs before the softmax.
	Logits() []float32
	// Params and ParamGrads are the parameters and their gradients, in
	// the same order.
	Params() [][]float32
	ParamGrads() [][]float32
	// MaskLen is the length of a dropout mask (0: no dropout).
	MaskLen() int
}

// Train runs s.Epochs epochs of step on the features: shuffled batches of
// s.Batch (the last one padded), each one forward, backward and optimizer
// step, the same sequence as train fit -val 0 -patience 0 with a constant
// learning rate. It returns copies of the parameters (Params order) of the
// epoch with the lowest training loss, as that run keeps. After each
// epoch, progress is called; when it returns false, Train stops and
// returns the best parameters so far.
func Train(f *Features, classes int, s Settings, step Trainable, progress func(Epoch) bool) ([][]float32, []Epoch, error) {
	opt, err := NewOptimizer(s.Optimizer, s.LR)
	if err != nil {
		return nil, nil, err
	}
	per, n := f.Per(), f.N()
	x := make([]float32, s.Batch*per)
	targets := make([]float32, s.Batch*classes)
	var mask []float32
	if s.Dropout > 0 && step.MaskLen() > 0 {
		mask = make([]float32, step.MaskLen())
	}
	params := step.Params()
	best, bestLoss := cloneParams(params), math.Inf(1)
	var history []Epoch
	batches := (n + s.Batch - 1) / s.Batch
	for epoch := 1; epoch <= s.Epochs; epoch++ {
		order := EpochOrder(s.Seed, epoch, n)
		var lossSum float64
		correct := 0
		for b := 0; b < batches; b++ {
			idx := order[b*s.Batch : min((b+1)*s.Batch, n)]
			FillBatch(f, idx, classes, x, targets)
			if mask != nil {
				DropoutMask(mask, s.Dropout, s.Seed, epoch, b)
			}
			loss := step.Forward(x, targets, mask)
			if math.IsNaN(float64(loss)) {
				return nil, history, fmt.Errorf("epoch %d batch %d: loss is NaN (learning rate %g too high?)", epoch, b+1, s.LR)
			}
			lossSum += float64(loss) * float64(len(idx))
			correct += CountCorrect(step.Logits(), targets, len(idx), classes)
			step.Backward(x)
			if err := opt.Update(params, step.ParamGrads()); err != nil {
				return nil, history, err
			}
		}
		e := Epoch{Epoch: epoch, Loss: lossSum / float64(n), Accuracy: float64(correct) / float64(n)}
		history = append(history, e)
		if e.Loss < bestLoss {
			bestLoss = e.Loss
			for i, p := range params {
				copy(best[i], p)
			}
		}
		if progress != nil && !progress(e) {
			break
		}
	}
	return best, history, nil
}

// Sizes are the (in, out) sizes of a head's dense layers on features of
// h×w×c: the input is c wide after global average pooling (gap, linear),
// h·w·c after flattening (seed).
func Sizes(head string, h, w, c int, hidden []int, classes int) [][2]int {
	in := c
	if head == model.HeadSeed {
		in = h * w * c
	}
	var out [][2]int
	for _, width := range hidden {
		out = append(out, [2]int{in, width})
		in = width
	}
	return append(out, [2]int{in, classes})
}

// FillBatch gathers samples idx into x and their one-hot labels into
// targets; rows past len(idx) are zero (padding, which the loss ignores).
func FillBatch(f *Features, idx []int, classes int, x, targets []float32) {
	per := f.Per()
	clear(targets)
	for r, i := range idx {
		copy(x[r*per:(r+1)*per], f.X[i*per:(i+1)*per])
		targets[r*classes+f.Labels[i]] = 1
	}
	clear(x[len(idx)*per:])
}

// SmoothLabels turns the first rows of one-hot targets ([rows][classes])
// into label-smoothed ones, t = (1−eps)·t + eps/classes (Szegedy et al.,
// "Rethinking the Inception Architecture", Sec. 7; PyTorch's
// CrossEntropyLoss(label_smoothing=eps)), so the softmax cross-entropy on
// them penalises over-confident logits. Padding rows past rows stay zero;
// eps 0 changes nothing.
func SmoothLabels(targets []float32, rows, classes int, eps float64) {
	if eps == 0 {
		return
	}
	keep, spread := float32(1-eps), float32(eps/float64(classes))
	for i := range targets[:rows*classes] {
		targets[i] = targets[i]*keep + spread
	}
}

// CountCorrect counts the rows (of the first rows) whose largest logit is
// the target class.
func CountCorrect(logits, targets []float32, rows, classes int) int {
	n := 0
	for r := 0; r < rows; r++ {
		if rank.Best(logits[r*classes:(r+1)*classes]) == rank.Best(targets[r*classes:(r+1)*classes]) {
			n++
		}
	}
	return n
}

// Predict returns the most probable class of each sample under head.
func Predict(head model.Head, f *Features) ([]int, error) {
	const batch = 32
	step, err := NewStep(head.Kind, batch, f.H, f.W, f.C, head.Dense)
	if err != nil {
		return nil, err
	}
	return PredictWith(step, batch, step.Classes(), f), nil
}

// PredictWith returns the most probable class of each sample under step,
// made for batch rows and classes outputs (no dropout: inference).
func PredictWith(step Trainable, batch, classes int, f *Features) []int {
	per, n := f.Per(), f.N()
	x := make([]float32, batch*per)
	targets := make([]float32, batch*classes)
	out := make([]int, 0, n)
	for start := 0; start < n; start += batch {
		rows := min(batch, n-start)
		copy(x, f.X[start*per:(start+rows)*per])
		clear(x[rows*per:])
		step.Forward(x, targets, nil)
		logits := step.Logits()
		for r := 0; r < rows; r++ {
			out = append(out, rank.Best(logits[r*classes:(r+1)*classes]))
		}
	}
	return out
}

func cloneParams(ps [][]float32) [][]float32 {
	out := make([][]float32, len(ps))
	for i, p := range ps {
		out[i] = slices.Clone(p)
	}
	return out
}
