package lastconv

import (
	"math"
	"math/rand/v2"
	"testing"

	"vggo/internal/wasmrun"

	"vggo/model"
	"vggo/model/headtrain"
)

// synthetic returns n samples of h×w×c non-negative inputs (as a ReLU
// layer's) in classes clusters: a per-class mean map plus unit noise.
func synthetic(n, h, w, c, classes int, seed uint64) *headtrain.Features {
	rng := rand.New(rand.NewPCG(seed, 1))
	means := make([][]float64, classes)
	for k := range means {
		means[k] = make([]float64, h*w*c)
		for j := range means[k] {
			means[k][j] = 2 * rng.Float64()
		}
	}
	f := &headtrain.Features{H: h, W: w, C: c}
	for i := 0; i < n; i++ {
		k := i % classes
		f.Labels = append(f.Labels, k)
		for _, m := range means[k] {
			f.X = append(f.X, float32(max(0, m+rng.NormFloat64())))
		}
	}
	return f
}

// randomConv is a He-normal 3x3 layer with small random biases.
func randomConv(cin, cout int, seed uint64) model.ConvParams {
	rng := rand.New(rand.NewPCG(seed, 2))
	p := model.ConvParams{Kernel: make([]float32, 9*cin*cout), Bias: make([]float32, cout)}
	std := math.Sqrt(2 / float64(9*cin))
	for i := range p.Kernel {
		p.Kernel[i] = float32(rng.NormFloat64() * std)
	}
	for i := range p.Bias {
		p.Bias[i] = float32(0.1 * rng.NormFloat64())
	}
	return p
}

// fitCases are the runs compared between builds: with the block's
// max-pool (VGG16's block5_conv3 at 32x32 input: 2x2 → 1x1) and a gap
// head with dropout; without a pool, a linear head, a padded last batch.
var fitCases = []struct {
	name           string
	h, w, cin, out int
	pool           bool
	settings       headtrain.Settings
}{
	{"pool-gap-dropout", 2, 2, 24, 16, true, headtrain.Settings{Head: model.HeadGAP, Hidden: []int{16}, Epochs: 4, Batch: 8, LR: 0.001, Optimizer: "adam", Dropout: 0.2, Seed: 3}},
	{"4x4-linear", 4, 4, 16, 8, false, headtrain.Settings{Head: model.HeadLinear, Epochs: 3, Batch: 16, LR: 0.01, Optimizer: "adam", Seed: 5}},
}

// trained is one case's result, as the wasm build reports it.
type trained struct {
	Conv model.ConvParams
	Head model.Head
}

func runFitCases(t *testing.T) map[string]trained {
	out := map[string]trained{}
	for _, tc := range fitCases {
		f := synthetic(45, tc.h, tc.w, tc.cin, 3, 9)
		conv, head, hist, err := Fit(f, 3, randomConv(tc.cin, tc.out, 7), tc.pool, tc.settings, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(hist) != tc.settings.Epochs {
			t.Fatalf("%s: %d epochs in the history, want %d", tc.name, len(hist), tc.settings.Epochs)
		}
		out[tc.name] = trained{conv, head}
	}
	return out
}

// TestFitLearns: on separable clusters the conv layer and head reach high
// training accuracy, the loss falls, and the conv layer itself moved.
func TestFitLearns(t *testing.T) {
	f := synthetic(60, 2, 2, 32, 3, 4)
	s := headtrain.DefaultSettings()
	s.Hidden, s.Epochs, s.Batch = []int{32}, 20, 8
	start := randomConv(32, 32, 1)
	conv, head, hist, err := Fit(f, 3, start, true, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := hist[0].Loss, hist[len(hist)-1].Loss; !(last < first/2) {
		t.Errorf("loss %g → %g: want it at least halved", first, last)
	}
	if d := maxAbsDiff(conv.Kernel, start.Kernel); d < 1e-3 {
		t.Errorf("the conv kernel moved by %g: it did not train", d)
	}
	if d := maxAbsDiff(start.Kernel, randomConv(32, 32, 1).Kernel); d != 0 {
		t.Errorf("Fit changed the starting layer it was given by %g", d)
	}
	pred, err := Predict(conv, true, head, f)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range pred {
		if p == f.Labels[i] {
			correct++
		}
	}
	if acc := float64(correct) / float64(len(pred)); acc < 0.9 {
		t.Errorf("training accuracy %.2f, want ≥ 0.9", acc)
	}
}

// TestNewStepRefuses: shapes that do not fit are refused with a reason.
func TestNewStepRefuses(t *testing.T) {
	conv := randomConv(4, 4, 1)
	head := headtrain.InitDense(headtrain.InitRand(1), [][2]int{{4, 2}})
	for _, tc := range []struct {
		name       string
		h, w, cin  int
		pool       bool
		conv       model.ConvParams
		headLayers []model.DenseParams
	}{
		{"kernel size", 2, 2, 5, false, conv, head},
		{"1x1 pooled", 1, 1, 4, true, conv, head},
		{"head width", 2, 2, 4, false, conv, headtrain.InitDense(headtrain.InitRand(1), [][2]int{{8, 2}})},
	} {
		if _, err := NewStep(model.HeadLinear, 4, tc.h, tc.w, tc.cin, 4, tc.pool, tc.conv, tc.headLayers); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestWriteFitWeights writes runFitCases' results for the native
// TestWasmMatchesNative, which runs it in the wasm build under node.
func TestWriteFitWeights(t *testing.T) {
	wasmrun.Write(t, "VGGO_LASTCONV_OUT", func() any { return runFitCases(t) })
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
