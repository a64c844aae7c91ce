package nn

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"vggo/model"
)

// TestTrainStepAllocatesNoTensors runs training steps (forward, backward,
// Adam) after a first one and measures the heap bytes each allocates:
// every activation, gradient and workspace is kept from the first step, so
// what is left (gorgonia's bookkeeping, the kernels' task closures: small
// and as many whatever the batch) must stay below one activation (the first
// conv layer's output is 256 KiB here), while a step that allocated its
// tensors anew would take several MiB.
func TestTrainStepAllocatesNoTensors(t *testing.T) {
	spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: 0, Head: model.HeadGAP, Hidden: []int{16}, Classes: 3, Dropout: 0.2}
	const batch = 16
	g, err := spec.Build(spec.InitParams(nil, 1), batch, true)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x := randSlice(rng, batch*32*32*3)
	tg := make([]float32, batch*spec.Classes)
	for i := range batch {
		tg[i*spec.Classes+i%spec.Classes] = 1
	}
	mask := make([]float32, batch*spec.Hidden[0])
	for i := range mask {
		mask[i] = float32(i % 2)
	}
	s, _ := NewSolver("adam", 1e-3)
	step := func() {
		if _, err := g.Step(x, tg, mask); err != nil {
			t.Fatal(err)
		}
		if err := s.Step(g.ValueGrads()); err != nil {
			t.Fatal(err)
		}
	}
	step()
	var before, after runtime.MemStats
	const runs = 5
	runtime.ReadMemStats(&before)
	for range runs {
		step()
	}
	runtime.ReadMemStats(&after)
	perStep := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("%d bytes, %d allocations per step", perStep, (after.Mallocs-before.Mallocs)/runs)
	if perStep > 128<<10 {
		t.Fatalf("%d bytes allocated per step after the first, want under 128 KiB", perStep)
	}
}
