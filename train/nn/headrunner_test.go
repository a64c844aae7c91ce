package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"vggo/model"
	"vggo/model/headtrain"
)

// TestHeadRunnerMatchesGraph: with the whole base frozen the trainer runs
// headtrain's step instead of the gorgonia graph, and with only the last
// conv layer trainable (fit -fine-tune 1) lastconv's; on the same batches,
// masks and Adam steps each gives the same losses and weights as the graph
// (its own convolution, Hadamard and chain rule are the independent
// reference).
func TestHeadRunnerMatchesGraph(t *testing.T) {
	for _, tc := range []struct {
		head     string
		boundary int
	}{
		{model.HeadGAP, model.ConvLayers},
		{model.HeadLinear, model.ConvLayers},
		{model.HeadGAP, model.ConvLayers - 1},
		{model.HeadLinear, model.ConvLayers - 1},
	} {
		head := tc.head
		t.Run(fmt.Sprintf("%s/fine-tune-%d", head, model.ConvLayers-tc.boundary), func(t *testing.T) {
			hidden, _ := DefaultHidden(head, 16)
			spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 64, Boundary: tc.boundary, Head: head, Hidden: hidden, Classes: 3, Dropout: 0.3}
			const b = 6
			pg, ph := spec.InitParams(nil, 2), spec.InitParams(nil, 2)
			g, err := spec.Build(pg, b, true)
			if err != nil {
				t.Fatal(err)
			}
			h, err := spec.NewRunner(ph, b, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := h.(*headRunner); !ok {
				t.Fatalf("NewRunner gave %T for boundary %d, want the headtrain or lastconv step", h, tc.boundary)
			}
			if g.MaskLen() != h.MaskLen() {
				t.Fatalf("mask length: graph %d, head step %d", g.MaskLen(), h.MaskLen())
			}
			sg, _ := NewSolver("adam", 0.01)
			sh, _ := NewSolver("adam", 0.01)
			in := spec.InputShape()
			rng := rand.New(rand.NewPCG(5, 6))
			x := make([]float32, b*in[0]*in[1]*in[2])
			targets := make([]float32, b*3)
			mask := make([]float32, g.MaskLen())
			for step := 0; step < 6; step++ {
				for i := range x {
					x[i] = float32(max(0, rng.NormFloat64()+1))
				}
				clear(targets)
				for r := 0; r < b-1; r++ { // the last row is padding
					targets[r*3+rng.IntN(3)] = 1
				}
				headtrain.DropoutMask(mask, spec.Dropout, 1, 1, step)
				lg, err := g.Step(x, targets, mask)
				if err != nil {
					t.Fatal(err)
				}
				lh, err := h.Step(x, targets, mask)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(float64(lg-lh)) > 1e-5 {
					t.Fatalf("step %d: loss %g (graph) vs %g (head step)", step, lg, lh)
				}
				if err := sg.Step(g.ValueGrads()); err != nil {
					t.Fatal(err)
				}
				if err := sh.Step(h.ValueGrads()); err != nil {
					t.Fatal(err)
				}
			}
			for i := range pg.Tensors {
				a, c := pg.Tensors[i].Float32s(), ph.Tensors[i].Float32s()
				d := 0.0
				for j := range a {
					d = max(d, math.Abs(float64(a[j]-c[j])))
				}
				if d > 1e-5 {
					t.Errorf("%s: graph and head step differ by %.3g after 6 Adam steps, want ≤ 1e-5", pg.Names[i], d)
				}
			}
		})
	}
}
