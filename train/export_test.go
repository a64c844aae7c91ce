package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"vggo/kernels"
	"vggo/model"
	"vggo/train/checkpoint"
	"vggo/train/nn"
)

// TestGraphMatchesExportedNet checks, for every head kind, that the
// gorgonia graph and model.Net built from the exported model compute the
// same probabilities: same layouts (HWIO kernels, NHWC flatten order,
// [in][out] dense kernels), same head structure.
func TestGraphMatchesExportedNet(t *testing.T) {
	for _, tc := range []struct {
		head     string
		boundary int
	}{{model.HeadSeed, 11}, {model.HeadGAP, 0}, {model.HeadLinear, model.ConvLayers}} {
		t.Run(tc.head, func(t *testing.T) {
			arch := model.Arch{WidthDiv: 16}
			hidden, _ := nn.DefaultHidden(tc.head, 16)
			spec := nn.Spec{Arch: arch, InputSize: 64, Boundary: tc.boundary, Head: tc.head, Hidden: hidden, Classes: 3}
			base := randomBase(arch, 7)
			params := spec.InitParams(base, 8)
			// Non-zero biases everywhere, so a misplaced bias shows.
			rng := rand.New(rand.NewPCG(1, 1))
			for i, sh := range params.Shapes {
				if len(sh) == 1 {
					for j := range params.Tensors[i].Float32s() {
						params.Tensors[i].Float32s()[j] = float32(rng.NormFloat64() * 0.1)
					}
				}
			}
			const batch = 2
			g, err := spec.Build(params, batch, false)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float32, batch*64*64*3)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			c := &fitConfig{InputSize: 64, WidthDiv: 16, Preprocess: model.PreprocessTorch, FineTune: model.ConvLayers - tc.boundary, Data: "d"}
			m := exportModel(c, spec, base, params, []string{"a", "b", "c"})
			net, err := model.NewNet(m)
			if err != nil {
				t.Fatal(err)
			}
			want := net.Forward(batch, x)
			fnet, _ := model.NewFeatureNet(base, 64)
			in := x
			if tc.boundary > 0 {
				in = fnet.ForwardTo(batch, x, tc.boundary-1)
			}
			if _, err := g.Step(in, make([]float32, batch*3), nil); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, batch*3)
			kernels.Softmax(batch, 3, g.LogitsValue(), got)
			spread := 0.0
			for i := range want {
				spread = math.Max(spread, math.Abs(float64(want[i])-1.0/3))
			}
			if spread < 1e-3 {
				t.Fatalf("probabilities %v are all ≈ 1/3: the comparison would prove nothing", want)
			}
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-4 {
					t.Fatalf("probability %d: graph %g, exported net %g", i, got[i], want[i])
				}
			}
		})
	}
}

// TestEarlyStoppingRestoresBest overfits a tiny training set with patience
// 1: training stops one epoch after the best validation loss, and the
// exported head is the best epoch's weights, not the last epoch's.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	dir := t.TempDir()
	c := smallFit(fixture, dir+"/run", dir+"/cache", 40)
	c.TrainPerClass, c.Patience, c.LR, c.Export = 4, 1, 0.01, "float32"
	res, err := fit(context.Background(), c, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h := res.History
	if !h.StoppedEarly || len(h.Epochs) != h.BestEpoch+1 {
		t.Fatalf("stopped early %v after %d epochs, best %d", h.StoppedEarly, len(h.Epochs), h.BestEpoch)
	}
	st, err := checkpoint.Load(dir + "/run/checkpoint.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ReadModelFile(res.ModelPath)
	if err != nil {
		t.Fatal(err)
	}
	last := len(m.Head.Dense)
	best, final := st.Tensors[fmt.Sprintf("best/dense%d/kernel", last)], st.Tensors[fmt.Sprintf("param/dense%d/kernel", last)]
	if !slices.Equal(m.Head.Dense[last-1].Kernel, best) {
		t.Fatal("exported head is not the best epoch's")
	}
	if slices.Equal(best, final) {
		t.Fatal("best and last weights are equal: the test cannot tell them apart")
	}
}

// TestFitDescription: -description reaches the exported model's Info, and
// a description of more than one line is refused with the flag's name.
func TestFitDescription(t *testing.T) {
	const desc = "28x28 grey garments, light on a dark background"
	c, err := parseFitFlags("fit", []string{"-data", "d", "-from-scratch", "-description", desc}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	arch := model.Arch{WidthDiv: 16}
	hidden, _ := nn.DefaultHidden(model.HeadLinear, 16)
	spec := nn.Spec{Arch: arch, InputSize: 32, Boundary: model.ConvLayers, Head: model.HeadLinear, Hidden: hidden, Classes: 2}
	base := randomBase(arch, 1)
	m := exportModel(c, spec, base, spec.InitParams(base, 1), []string{"a", "b"})
	if m.Info.Description != desc {
		t.Errorf("exported Description %q, want %q", m.Info.Description, desc)
	}
	_, err = parseFitFlags("fit", []string{"-data", "d", "-from-scratch", "-description", "two\nlines"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--description") {
		t.Errorf("a two-line description: error %v, want one naming --description", err)
	}
}
