package model

import (
	"math"
	"strings"
	"testing"
)

// TestInterpolate: t = 0 and 1 give the two models back exactly, t = 0.3
// every weight within one float32 rounding of the float64 formula; the
// description is b's and the OOD statistics are dropped.
func TestInterpolate(t *testing.T) {
	a := randomFileModel(1, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	b := randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	b.Info.Description = "b's description"
	b.OOD = &OOD{}
	weights := func(m *Model) [][]float32 {
		var w [][]float32
		for _, l := range m.Base.Layers {
			w = append(w, l.Kernel, l.Bias)
		}
		for _, d := range m.Head.Dense {
			w = append(w, d.Kernel, d.Bias)
		}
		return w
	}
	for _, tc := range []float64{0, 0.3, 1} {
		m, err := Interpolate(a, b, tc)
		if err != nil {
			t.Fatal(err)
		}
		if m.Info.Description != "b's description" || m.OOD != nil {
			t.Errorf("t=%g: description %q, OOD %v: want b's description and no OOD statistics", tc, m.Info.Description, m.OOD)
		}
		wa, wb, wm := weights(a), weights(b), weights(m)
		if len(wm) != len(wa) {
			t.Fatalf("t=%g: %d weight tensors, want %d", tc, len(wm), len(wa))
		}
		for i := range wm {
			for j := range wm[i] {
				want := (1-tc)*float64(wa[i][j]) + tc*float64(wb[i][j])
				if got := float64(wm[i][j]); got != float64(float32(want)) {
					t.Fatalf("t=%g: tensor %d value %d = %g, want %g", tc, i, j, got, float32(want))
				}
			}
		}
	}
}

// TestInterpolateRefuses: models of different networks, or t outside
// [0, 1], are refused with a reason.
func TestInterpolateRefuses(t *testing.T) {
	a := randomFileModel(1, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	for _, tc := range []struct {
		name string
		b    *Model
		t    float64
		want string
	}{
		{"other width", randomFileModel(2, Arch{WidthDiv: 32}, 32, HeadGAP, 3), 0.5, "the models differ"},
		{"other classes", randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 4), 0.5, "the models differ"},
		{"other head", randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadSeed, 3), 0.5, "the models differ"},
		{"t above 1", randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 3), 1.5, "want 0 <= t <= 1"},
		{"t NaN", randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 3), math.NaN(), "want 0 <= t <= 1"},
	} {
		_, err := Interpolate(a, tc.b, tc.t)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
	b := randomFileModel(2, Arch{WidthDiv: 64}, 32, HeadGAP, 3)
	b.Base.Layers[4].Bias = b.Base.Layers[4].Bias[:1]
	if _, err := Interpolate(a, b, 0.5); err == nil || !strings.Contains(err.Error(), "conv layer 5 bias") {
		t.Errorf("a cut bias: error %v, want one naming conv layer 5's bias", err)
	}
}
