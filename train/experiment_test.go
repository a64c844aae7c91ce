package main

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A small experiment on the Fashion-MNIST fixture (a width/8 base trained
// for one epoch as the source): each arm's learning rate (and cut) is the
// tuning run with the best validation accuracy, tuning runs never report a
// test score, every grid cell runs each seed, and the summary table and
// learning-curve PNG are written. With no budget left, no grid run starts
// and the summary says so.
func TestExperimentSmall(t *testing.T) {
	dir := t.TempDir()
	base := smallFit(fixture, filepath.Join(dir, "base"), filepath.Join(dir, "cache"), 1)
	base.OOD.PerClass = 0
	res, err := fit(context.Background(), base, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var arms []experimentArm
	for _, a := range experimentArms {
		if a.Name == "fe-top" || a.Name == "fe-cut" || a.Name == "ft1" {
			arms = append(arms, a)
		}
	}
	s := &experimentSettings{Data: fixture, Weights: res.ModelPath, Out: filepath.Join(dir, "exp"), Cache: filepath.Join(dir, "cache"),
		InputSize: 32, WidthDiv: 8, Val: 0.2, Ns: []int{4, 8}, Seeds: []int{1, 2}, Arms: arms, TuneN: 4, TuneSeed: 1000, Budget: time.Hour,
		maxEpochs: func(experimentArm, int) int { return 2 }}
	var log bytes.Buffer
	runs, err := runExperiment(context.Background(), s, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	// fe-top: 2 rates; fe-cut: 3 cuts × 2 rates; ft1: 2 rates; then 3 arms × 2 n × 2 seeds.
	if len(runs) != 2+6+2+12 {
		t.Fatalf("%d runs, want 22:\n%s", len(runs), log.String())
	}
	for _, a := range arms {
		// The best validation accuracy; on a tie, the lower validation loss.
		best := experimentRun{ValAcc: -1}
		for _, r := range runs {
			if r.Phase == "tune" && r.Arm == a.Name && (r.ValAcc > best.ValAcc || r.ValAcc == best.ValAcc && r.ValLoss < best.ValLoss) {
				best = r
			}
		}
		for _, r := range runs {
			if r.Phase == "grid" && r.Arm == a.Name && (r.LR != best.LR || r.Cut != best.Cut) {
				t.Errorf("%s grid run with lr %g cut %d; the best tuning run (val %.4f) had lr %g cut %d", a.Name, r.LR, r.Cut, best.ValAcc, best.LR, best.Cut)
			}
			if r.Err != "" {
				t.Errorf("%s: %s", r.Dir, r.Err)
			}
		}
	}
	tsv, err := os.ReadFile(filepath.Join(s.Out, "results.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(tsv)), "\n")[1:] {
		f := strings.Split(l, "\t")
		if (f[0] == "tune") != (f[8] == "-") {
			t.Errorf("results.tsv line %q: tuning runs show no test score, grid runs do", l)
		}
	}
	summary, err := os.ReadFile(filepath.Join(s.Out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| arm | chosen on validation | n=4 | n=8 |", "| feature extraction, top (13 layers) | lr ", "| feature extraction, earlier cut | lr ", ", -base-layers ", " ± ", "22 runs (0 failed)", "0 grid runs not started"} {
		if !strings.Contains(string(summary), want) {
			t.Errorf("summary.md lacks %q:\n%s", want, summary)
		}
	}
	f, err := os.Open(filepath.Join(s.Out, "learning-curve.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() < 500 {
		t.Errorf("learning-curve.png: %v", err)
	}

	// A second invocation with no budget reuses every finished run, starts
	// none, and writes the same table; other settings are refused.
	before := string(summary)
	s.Budget = 0
	var log2 bytes.Buffer
	again, err := runExperiment(context.Background(), s, &log2)
	if err != nil || len(again) != len(runs) || strings.Contains(log2.String(), "grid ") {
		t.Errorf("rerun: %v, %d runs (want %d), log:\n%s", err, len(again), len(runs), log2.String())
	}
	for i := range again {
		if again[i].TestAcc != runs[i].TestAcc || again[i].ValAcc != runs[i].ValAcc {
			t.Errorf("rerun: run %d read back as %+v, was %+v", i, again[i], runs[i])
		}
	}
	if b, _ := os.ReadFile(filepath.Join(s.Out, "summary.md")); !strings.HasPrefix(string(b), strings.Split(before, "\n\n22 runs")[0]) {
		t.Errorf("rerun summary differs:\n%s\nwas\n%s", b, before)
	}
	s.Val = 0.3
	if _, err := runExperiment(context.Background(), s, io.Discard); err == nil || !strings.Contains(err.Error(), "holds runs made with other settings") {
		t.Errorf("other -val in the same -out: %v", err)
	}
	s.Val = 0.2

	// No budget: tuning runs, the grid does not, and the error says why.
	s.Out, s.Budget, s.Arms = filepath.Join(dir, "exp2"), 0, arms[:1]
	_, err = runExperiment(context.Background(), s, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no grid run finished") {
		t.Errorf("budget 0: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(s.Out, "summary.md")); !strings.Contains(string(b), "not run") || !strings.Contains(string(b), "4 grid runs not started") {
		t.Errorf("budget 0 summary:\n%s", b)
	}
}
