package model

import (
	"math"
	"strings"
	"testing"
)

// weightTensors lists a model's weights in a fixed order.
func weightTensors(m *Model) [][]float32 {
	var w [][]float32
	for _, l := range m.Base.Layers {
		w = append(w, l.Kernel, l.Bias)
	}
	for _, d := range m.Head.Dense {
		w = append(w, d.Kernel, d.Bias)
	}
	return w
}

// TestAverage: two models with shares 1-t and t give (1-t)·a + t·b
// rounded once (t = 0 and 1 give a model back exactly), three models every
// weight as the float64 sum in order, rounded once; the description is
// the last model's and the OOD statistics are dropped.
func TestAverage(t *testing.T) {
	a := randomFileModel(1, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	b := randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	c := randomFileModel(3, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	c.Info.Description = "c's description"
	c.OOD = &OOD{}
	for _, tc := range []struct {
		models []*Model
		shares []float64
	}{
		{[]*Model{a, c}, []float64{1, 0}},
		{[]*Model{a, c}, []float64{0.7, 0.3}},
		{[]*Model{a, c}, []float64{0, 1}},
		{[]*Model{a, b, c}, []float64{0.2, 0.3, 0.5}},
		{[]*Model{a, b, c}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
	} {
		m, err := Average(tc.models, tc.shares)
		if err != nil {
			t.Fatal(err)
		}
		if m.Info.Description != "c's description" || m.OOD != nil {
			t.Errorf("%v: description %q, OOD %v: want the last model's description and no OOD statistics", tc.shares, m.Info.Description, m.OOD)
		}
		wm := weightTensors(m)
		ws := make([][][]float32, len(tc.models))
		for i, x := range tc.models {
			ws[i] = weightTensors(x)
		}
		if len(wm) != len(ws[0]) {
			t.Fatalf("%v: %d weight tensors, want %d", tc.shares, len(wm), len(ws[0]))
		}
		for k := range wm {
			for j := range wm[k] {
				want := 0.0
				for i := range ws {
					want += tc.shares[i] * float64(ws[i][k][j])
				}
				if got := wm[k][j]; got != float32(want) {
					t.Fatalf("%v: tensor %d value %d = %g, want %g", tc.shares, k, j, got, float32(want))
				}
			}
		}
	}
}

// TestAverageRefuses: models of different networks, or shares that are
// not a weighting, are refused with a reason.
func TestAverageRefuses(t *testing.T) {
	a := randomFileModel(1, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	b := randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	for _, tc := range []struct {
		name   string
		models []*Model
		shares []float64
		want   string
	}{
		{"other width", []*Model{a, randomFileModel(2, Arch{WidthDiv: 32}, 32, HeadGAP, 3)}, []float64{0.5, 0.5}, "model 1 differs from the last"},
		{"other classes", []*Model{a, randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 4)}, []float64{0.5, 0.5}, "model 1 differs from the last"},
		{"other head", []*Model{a, b, randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadSeed, 3)}, []float64{0.2, 0.3, 0.5}, "model 1 differs from the last"},
		{"share above 1", []*Model{a, b}, []float64{-0.5, 1.5}, "want 0 <= share <= 1"},
		{"share NaN", []*Model{a, b}, []float64{math.NaN(), 0.5}, "want 0 <= share <= 1"},
		{"shares not summing to 1", []*Model{a, b}, []float64{0.5, 0.4}, "sum to 0.9, want 1"},
		{"fewer shares", []*Model{a, b}, []float64{1}, "2 models and 1 shares"},
		{"no models", nil, nil, "at least one"},
	} {
		_, err := Average(tc.models, tc.shares)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	cut := randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	cut.Base.Layers[4].Bias = cut.Base.Layers[4].Bias[:1]
	if _, err := Average([]*Model{a, cut}, []float64{0.5, 0.5}); err == nil || !strings.Contains(err.Error(), "conv layer 5 bias has 4 values in model 1 and 1 in the last") {
		t.Errorf("a cut bias: error %v, want one naming conv layer 5's bias and the models", err)
	}
}
