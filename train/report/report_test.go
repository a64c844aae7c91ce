package report

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPerClassMetrics(t *testing.T) {
	c := NewConfusion([]string{"a", "b", "c"})
	// truth, pred pairs
	pairs := [][2]int{{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 0}, {2, 0}}
	for _, p := range pairs {
		c.Add(p[0], p[1])
	}
	// a: tp 2, predicted 4 (2+1+1), actual 3 → P .5 R .6667
	// b: tp 3, predicted 4, actual 4 → P .75 R .75
	// c: tp 0, predicted 0, actual 1 → 0 0 0
	want := []ClassMetrics{
		{"a", 0.5, 2.0 / 3, 2 * 0.5 * (2.0 / 3) / (0.5 + 2.0/3), 3},
		{"b", 0.75, 0.75, 0.75, 4},
		{"c", 0, 0, 0, 1},
	}
	got := c.PerClass()
	for i := range want {
		g, w := got[i], want[i]
		if g.Class != w.Class || g.Support != w.Support || math.Abs(g.Precision-w.Precision) > 1e-12 ||
			math.Abs(g.Recall-w.Recall) > 1e-12 || math.Abs(g.F1-w.F1) > 1e-12 {
			t.Errorf("class %d: %+v, want %+v", i, g, w)
		}
	}
	if acc := c.Accuracy(); math.Abs(acc-5.0/8) > 1e-12 {
		t.Errorf("accuracy %g", acc)
	}
	if !strings.Contains(c.Table(), "accuracy 0.6250") {
		t.Errorf("table:\n%s", c.Table())
	}
}

func TestPlotsArePNGs(t *testing.T) {
	dir := t.TempDir()
	h := &History{BestEpoch: 2}
	for i := 1; i <= 4; i++ {
		f := float64(i)
		h.Epochs = append(h.Epochs, Epoch{Epoch: i, TrainLoss: 2 / f, ValLoss: 2.2 / f, TrainAcc: 0.2 * f, ValAcc: 0.18 * f})
	}
	c := NewConfusion([]string{"t-shirt", "trouser", "pullover"})
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 1+5*btoi(i == j)+i; k++ {
				c.Add(i, j)
			}
		}
	}
	for _, tc := range []struct {
		name string
		fn   func(string) error
		minW int
	}{
		{"curves.png", func(p string) error { return PlotCurves(p, h) }, 800},
		{"confusion.png", func(p string) error { return PlotConfusion(p, c, "test") }, 300},
	} {
		p := filepath.Join(dir, tc.name)
		if err := tc.fn(p); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if img.Bounds().Dx() < tc.minW {
			t.Errorf("%s: %v", tc.name, img.Bounds())
		}
		if os.Getenv("REPORT_PNG_DIR") != "" {
			b, _ := os.ReadFile(p)
			os.WriteFile(filepath.Join(os.Getenv("REPORT_PNG_DIR"), tc.name), b, 0o644)
		}
	}
	if err := PlotCurves(filepath.Join(dir, "x.png"), &History{}); err == nil {
		t.Error("empty history plotted")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
