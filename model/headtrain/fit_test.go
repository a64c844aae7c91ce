package headtrain

import (
	"math"
	"math/rand/v2"
	"testing"

	"vggo/internal/wasmrun"

	"vggo/model"
)

// synthetic returns n samples of h×w×c features in classes clusters (a
// class mean plus unit noise), ReLU-like (non-negative) as a conv base's.
func synthetic(n, h, w, c, classes int, seed uint64) *Features {
	rng := rand.New(rand.NewPCG(seed, 1))
	means := make([][]float64, classes)
	for k := range means {
		means[k] = make([]float64, c)
		for j := range means[k] {
			means[k][j] = 2 * rng.Float64()
		}
	}
	f := &Features{H: h, W: w, C: c}
	for i := 0; i < n; i++ {
		k := i % classes
		f.Labels = append(f.Labels, k)
		for p := 0; p < h*w; p++ {
			for j := 0; j < c; j++ {
				f.X = append(f.X, float32(max(0, means[k][j]+rng.NormFloat64())))
			}
		}
	}
	return f
}

// fitCases are the runs compared between builds: both head kinds, with
// and without dropout, a padded last batch, several epochs.
var fitCases = []struct {
	name     string
	h, w, c  int
	settings Settings
}{
	{"gap-dropout", 2, 2, 48, Settings{Head: model.HeadGAP, Hidden: []int{16}, Epochs: 4, Batch: 8, LR: 0.001, Optimizer: "adam", Dropout: 0.2, Seed: 3}},
	{"linear", 1, 1, 48, Settings{Head: model.HeadLinear, Epochs: 3, Batch: 16, LR: 0.01, Optimizer: "adam", Seed: 5}},
}

func runFitCases(t *testing.T) map[string]model.Head {
	out := map[string]model.Head{}
	for _, tc := range fitCases {
		f := synthetic(45, tc.h, tc.w, tc.c, 3, 9)
		head, hist, err := Fit(f, 3, tc.settings, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(hist) != tc.settings.Epochs {
			t.Fatalf("%s: %d epochs in the history, want %d", tc.name, len(hist), tc.settings.Epochs)
		}
		out[tc.name] = head
	}
	return out
}

// TestFitLearns: on separable clusters the head reaches high training
// accuracy and the loss falls.
func TestFitLearns(t *testing.T) {
	f := synthetic(60, 2, 2, 32, 3, 4)
	s := DefaultSettings()
	s.Hidden, s.Epochs, s.Batch = []int{32}, 20, 8
	head, hist, err := Fit(f, 3, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := hist[0].Loss, hist[len(hist)-1].Loss; !(last < first/2) {
		t.Errorf("loss %g → %g: want it at least halved", first, last)
	}
	pred, err := Predict(head, f)
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

// TestFitStops: progress returning false ends the run after that epoch.
func TestFitStops(t *testing.T) {
	f := synthetic(20, 1, 1, 8, 2, 4)
	s := DefaultSettings()
	s.Epochs = 10
	_, hist, err := Fit(f, 2, s, func(e Epoch) bool { return e.Epoch < 2 })
	if err != nil || len(hist) != 2 {
		t.Fatalf("%d epochs, err %v: want 2 epochs", len(hist), err)
	}
}

// TestFitRefuses: bad settings and features are refused with a reason.
func TestFitRefuses(t *testing.T) {
	f := synthetic(10, 1, 1, 8, 2, 4)
	for _, tc := range []struct {
		name    string
		classes int
		mod     func(*Settings)
	}{
		{"one class", 1, func(*Settings) {}},
		{"dropout 1", 2, func(s *Settings) { s.Dropout = 1 }},
		{"no epochs", 2, func(s *Settings) { s.Epochs = 0 }},
		{"head", 2, func(s *Settings) { s.Head = "vit" }},
		{"optimizer", 2, func(s *Settings) { s.Optimizer = "lion" }},
	} {
		s := DefaultSettings()
		tc.mod(&s)
		if _, _, err := Fit(f, tc.classes, s, nil); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	bad := *f
	bad.Labels = append([]int(nil), f.Labels...)
	bad.Labels[0] = 7
	if _, _, err := Fit(&bad, 2, DefaultSettings(), nil); err == nil {
		t.Error("label 7 of 2 classes: no error")
	}
}

// TestWriteFitWeights writes runFitCases' heads for the native
// TestWasmMatchesNative, which runs it in the wasm build under node.
func TestWriteFitWeights(t *testing.T) {
	wasmrun.Write(t, "VGGO_HEADTRAIN_OUT", func() any { return runFitCases(t) })
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
