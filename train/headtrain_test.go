package main

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"testing"

	"vggo/model"
	"vggo/model/headtrain"
	"vggo/train/nn"
)

// TestFitFrozenIsHeadtrainFit: train fit -fine-tune 0 trains its head with
// headtrain's step, so on the cached features of the same images, with the
// same seed and settings, headtrain.Fit (what the browser's worker runs)
// ends at the same weights (within 1e-5).
func TestFitFrozenIsHeadtrainFit(t *testing.T) {
	dir := t.TempDir()
	c := smallFit(fixture, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 3)
	c.FineTune, c.ValFraction, c.Export, c.OOD.PerClass = 0, 0, "float32", 0
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pr, err := prepare(ctx, c, io.Discard, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if pr.spec.Boundary != model.ConvLayers {
		t.Fatalf("-fine-tune 0 trains from conv layer %d", pr.spec.Boundary)
	}
	tr, err := newTrainer(c, pr, filepath.Join(dir, "ckpt"), io.Discard, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.run(ctx, &fitResult{}); err != nil {
		t.Fatal(err)
	}
	in := pr.spec.InputShape()
	f := &headtrain.Features{H: in[0], W: in[1], C: in[2]}
	for i, s := range pr.train.Samples {
		v, ok := pr.cache.Get(pr.train.Keys[i][0])
		if !ok {
			t.Fatalf("%s: not cached", s.Path)
		}
		f.X = append(f.X, v...)
		f.Labels = append(f.Labels, s.Label)
	}
	hidden, _ := nn.DefaultHidden(c.Head, c.WidthDiv)
	s := headtrain.Settings{Head: c.Head, Hidden: hidden, Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, Optimizer: c.Optimizer, Dropout: c.Dropout, Seed: c.Seed}
	head, _, err := headtrain.Fit(f, len(pr.ds.Classes), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, native := pr.spec.Export(tr.params, pr.base)
	for i, d := range head.Dense {
		n := native.Dense[i]
		worst := 0.0
		for j := range d.Kernel {
			worst = math.Max(worst, math.Abs(float64(d.Kernel[j]-n.Kernel[j])))
		}
		for j := range d.Bias {
			worst = math.Max(worst, math.Abs(float64(d.Bias[j]-n.Bias[j])))
		}
		t.Logf("dense%d: max |fit − headtrain.Fit| = %.2g", i+1, worst)
		if worst > 1e-5 {
			t.Errorf("dense%d: train fit -fine-tune 0 and headtrain.Fit differ by %.3g, want ≤ 1e-5", i+1, worst)
		}
	}
}
