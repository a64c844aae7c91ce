package headspec

import (
	"slices"
	"strings"
	"testing"
)

// TestPlanSplit: hold-out with enough images, k-fold with few, refusals
// naming the class; every image held out at most once, each class in each
// fold.
func TestPlanSplit(t *testing.T) {
	names := []string{"a", "b", "c"}
	labels := func(counts ...int) []int {
		var l []int
		for k, n := range counts {
			for i := 0; i < n; i++ {
				l = append(l, k)
			}
		}
		return l
	}
	for _, tc := range []struct {
		name   string
		counts []int
		method string
		folds  int
		held   int // images held out over all folds
	}{
		{"hold-out", []int{20, 20, 20}, "holdout", 1, 12},
		{"hold-out uneven", []int{10, 30, 11}, "holdout", 1, 2 + 6 + 2},
		{"k-fold 5", []int{9, 20, 6}, "kfold", 5, 35},
		{"k-fold 2", []int{2, 3, 4}, "kfold", 2, 9},
	} {
		l := labels(tc.counts...)
		s, err := PlanSplit(l, names, 1)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.Method != tc.method || len(s.Folds) != tc.folds || s.Explain == "" {
			t.Errorf("%s: %s with %d folds (%q), want %s with %d", tc.name, s.Method, len(s.Folds), s.Explain, tc.method, tc.folds)
		}
		var all []int
		for f, fold := range s.Folds {
			seen := map[int]bool{}
			for _, i := range fold {
				seen[l[i]] = true
			}
			if len(seen) != len(names) {
				t.Errorf("%s: fold %d holds classes %v, want all %d", tc.name, f, seen, len(names))
			}
			all = append(all, fold...)
		}
		slices.Sort(all)
		if len(slices.Compact(all)) != tc.held || len(all) != tc.held {
			t.Errorf("%s: %d images held out (%d distinct), want %d, each once", tc.name, len(all), len(slices.Compact(all)), tc.held)
		}
	}
	if _, err := PlanSplit(labels(5, 1, 5), names, 1); err == nil || !strings.Contains(err.Error(), `class "b" has 1 image`) {
		t.Errorf("a class with one image: %v", err)
	}
	if _, err := PlanSplit(labels(5, 5), names, 1); err == nil || !strings.Contains(err.Error(), `class "c" has 0 image`) {
		t.Errorf("a class with no image: %v", err)
	}
	a, _ := PlanSplit(labels(20, 20, 20), names, 1)
	b, _ := PlanSplit(labels(20, 20, 20), names, 2)
	if slices.Equal(a.Folds[0], b.Folds[0]) {
		t.Error("seeds 1 and 2 hold out the same images")
	}
}
