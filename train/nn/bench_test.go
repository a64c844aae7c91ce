package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"vggo/model"
)

// BenchmarkTrainStep measures one training step (forward, backward, Adam)
// of the whole VGG16 with a GAP head on 32x32 inputs: at width/8, batch 32
// (quick), and at full width, batch 64 (issue 15's comparison with
// PyTorch). It reports images per second, the process's CPU time per step
// (steadier than wall time on a loaded machine) and the heap allocated per
// step.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct{ widthDiv, batch int }{{8, 32}, {1, 64}} {
		b.Run(fmt.Sprintf("width=1/%d/batch=%d", c.widthDiv, c.batch), func(b *testing.B) { benchTrainStep(b, c.widthDiv, c.batch) })
	}
}

func benchTrainStep(b *testing.B, widthDiv, batch int) {
	spec := Spec{Arch: model.Arch{WidthDiv: widthDiv}, InputSize: 32, Boundary: 0, Head: model.HeadGAP, Hidden: []int{256 / widthDiv}, Classes: 5, Dropout: 0.2}
	p := spec.InitParams(nil, 1)
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
	mask := make([]float32, batch*spec.Hidden[0])
	for i := range mask {
		mask[i] = 1
	}
	s, _ := NewSolver("adam", 1e-4)
	step := func() {
		if _, err := g.Step(x, tg, mask); err != nil {
			b.Fatal(err)
		}
		if err := s.Step(g.ValueGrads()); err != nil {
			b.Fatal(err)
		}
	}
	step() // the first step allocates the buffers and the optimizer state
	b.ReportAllocs()
	b.ResetTimer()
	cpu := processCPUTime()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric((processCPUTime()-cpu).Seconds()*1000/float64(b.N), "cpu-ms/step")
}

// BenchmarkFineTuneLast measures one training step of the last conv layer
// and a gap head on cached inputs of that layer (fit -fine-tune 1) at
// 224x224, width/8, batch 32 (bench's fine-tune row): the gorgonia graph
// against lastconv's step, which NewRunner now picks, in one process.
func BenchmarkFineTuneLast(b *testing.B) {
	spec := Spec{Arch: model.Arch{WidthDiv: 8}, InputSize: 224, Boundary: model.ConvLayers - 1, Head: model.HeadGAP, Hidden: []int{32}, Classes: 5, Dropout: 0.2}
	const batch = 32
	for _, runner := range []string{"graph", "lastconv"} {
		b.Run(runner, func(b *testing.B) {
			p := spec.InitParams(nil, 1)
			var r Runner
			var err error
			if runner == "graph" {
				r, err = spec.Build(p, batch, true)
			} else {
				r, err = spec.NewRunner(p, batch, true)
			}
			if err != nil {
				b.Fatal(err)
			}
			in := spec.InputShape()
			rng := rand.New(rand.NewPCG(1, 1))
			x := randSlice(rng, batch*in[0]*in[1]*in[2])
			for i := range x {
				x[i] = max(0, x[i])
			}
			tg := make([]float32, batch*5)
			for i := 0; i < batch; i++ {
				tg[i*5+i%5] = 1
			}
			mask := make([]float32, r.MaskLen())
			for i := range mask {
				mask[i] = 1.25
			}
			s, _ := NewSolver("adam", 1e-4)
			step := func() {
				if _, err := r.Step(x, tg, mask); err != nil {
					b.Fatal(err)
				}
				if err := s.Step(r.ValueGrads()); err != nil {
					b.Fatal(err)
				}
			}
			step()
			b.ResetTimer()
			cpu := processCPUTime()
			for i := 0; i < b.N; i++ {
				step()
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
			b.ReportMetric((processCPUTime()-cpu).Seconds()*1000/float64(b.N), "cpu-ms/step")
		})
	}
}
