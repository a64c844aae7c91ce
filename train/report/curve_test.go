package report

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMeanSD(t *testing.T) {
	for _, tc := range []struct {
		v        []float64
		mean, sd float64
	}{
		{[]float64{1, 2, 3, 4}, 2.5, math.Sqrt(5.0 / 3)}, // sample sd: sum of squares 5, n−1 = 3
		{[]float64{0.7}, 0.7, 0},
		{[]float64{0.5, 0.5, 0.5}, 0.5, 0},
	} {
		m, s := MeanSD(tc.v)
		if math.Abs(m-tc.mean) > 1e-12 || math.Abs(s-tc.sd) > 1e-12 {
			t.Errorf("MeanSD(%v) = %g, %g; want %g, %g", tc.v, m, s, tc.mean, tc.sd)
		}
	}
	if m, s := MeanSD(nil); !math.IsNaN(m) || !math.IsNaN(s) {
		t.Errorf("MeanSD(nil) = %g, %g; want NaN, NaN", m, s)
	}
}

// The learning-curve plot is a PNG; points on a log axis must be positive,
// and a plot without points is refused.
func TestPlotLearningCurves(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "curve.png")
	series := []CurveSeries{
		{Name: "scratch", Points: []CurvePoint{{X: 5, Mean: 0.3, SD: 0.1, Runs: 5}, {X: 100, Mean: 0.9, SD: 0.02, Runs: 5}}},
		{Name: "fine-tune", Points: []CurvePoint{{X: 5, Mean: 0.7, SD: 0.03, Runs: 5}}},
	}
	if err := PlotLearningCurves(path, "test", series); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 500 {
		t.Errorf("%s: %v", path, err)
	}
	if err := PlotLearningCurves(path, "test", []CurveSeries{{Name: "x", Points: []CurvePoint{{X: 0, Mean: 0.5}}}}); err == nil || !strings.Contains(err.Error(), "x 0, want > 0") {
		t.Errorf("x = 0 on a log scale: %v", err)
	}
	if err := PlotLearningCurves(path, "test", []CurveSeries{{Name: "empty"}}); err == nil || !strings.Contains(err.Error(), "no points") {
		t.Errorf("no points: %v", err)
	}
}
