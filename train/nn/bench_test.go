package nn

import (
	"math/rand/v2"
	"testing"

	"vggo/model"
)

// BenchmarkTrainStep measures one training step (forward, backward, Adam)
// of the whole VGG16 at width/8 on 32x32 inputs, batch 32; it reports
// images per second.
func BenchmarkTrainStep(b *testing.B) {
	spec := Spec{Arch: model.Arch{WidthDiv: 8}, InputSize: 32, Boundary: 0, Head: model.HeadGAP, Hidden: []int{32}, Classes: 5, Dropout: 0.2}
	p := spec.InitParams(nil, 1)
	const batch = 32
	g, err := spec.Build(p, batch, true)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := randSlice(rng, batch*32*32*3)
	tg := make([]float32, batch*5)
	for i := 0; i < batch; i++ {
		tg[i*5+i%5] = 1
	}
	mask := make([]float32, batch*32)
	for i := range mask {
		mask[i] = 1
	}
	s, _ := NewSolver("adam", 1e-4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := g.Step(x, tg, mask); err != nil {
			b.Fatal(err)
		}
		if err := s.Step(g.ValueGrads()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
}
