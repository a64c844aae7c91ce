package model

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"vggo/kernels"
)

// BenchmarkConvAlgorithms times direct (implicit GEMM) and Winograd F(4x4)
// 3x3 convolution on single VGG16 layer shapes, batch 1. winogradTile's
// rule comes from kernels' BenchmarkVGG16ConvBase, which also times
// F(2x2). Compare the two lines of one shape from the same run: absolute
// times on shared machines are noisy.
func BenchmarkConvAlgorithms(b *testing.B) {
	shapes := []struct{ cin, cout, hw int }{
		{3, 64, 224}, {64, 64, 224}, {128, 128, 112}, {256, 256, 56}, {512, 512, 28}, {512, 512, 14},
		{512, 512, 7}, {512, 512, 4}, {64, 64, 16}, {64, 64, 8}, {32, 32, 16}, {32, 32, 8}, {16, 16, 32}, {4, 4, 64}, {32, 32, 4},
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		kernel := uniformFloats(rng, 9*s.cin*s.cout, 0.05)
		bias := uniformFloats(rng, s.cout, 0.1)
		in := uniformFloats(rng, s.hw*s.hw*s.cin, 1)
		out := make([]float32, s.hw*s.hw*s.cout)
		direct := kernels.NewConv3x3(s.cin, s.cout, kernel, bias)
		wino := kernels.NewWinograd3x3(s.cin, s.cout, kernel, bias)
		name := fmt.Sprintf("cin%d_cout%d_%dx%d", s.cin, s.cout, s.hw, s.hw)
		b.Run(name+"/direct", func(b *testing.B) {
			for b.Loop() {
				direct.Forward(1, s.hw, s.hw, in, out, true)
			}
		})
		b.Run(name+"/winograd", func(b *testing.B) {
			for b.Loop() {
				wino.Forward(1, s.hw, s.hw, in, out, true)
			}
		})
	}
}

func uniformFloats(rng *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32((2*rng.Float64() - 1) * scale)
	}
	return x
}

// BenchmarkVGG16Forward runs the full-width VGG16 (random weights, GAP head,
// 10 classes) through NewNet and Forward, at the ImageNet size 224 batch 1
// (one photo in the browser) and at 32 batch 64 (Fashion-MNIST training
// batches); ms/image is the figure to compare.
func BenchmarkVGG16Forward(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 11))
	base := randomConvBase(rng, FullVGG16)
	for _, c := range []struct{ size, batch int }{{224, 1}, {32, 64}} {
		b.Run(fmt.Sprintf("%dx%d_batch%d", c.size, c.size, c.batch), func(b *testing.B) {
			m := &Model{
				Info: Info{Arch: "vgg16", InputSize: c.size, WidthDiv: 1, Head: HeadGAP,
					Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, Preprocess: PreprocessCaffe},
				Base: *base,
				Head: Head{Kind: HeadGAP, Dense: []DenseParams{randomDenseParams(rng, 512, 256), randomDenseParams(rng, 256, 10)}},
			}
			net, err := NewNet(m)
			if err != nil {
				b.Fatal(err)
			}
			x := uniformFloats(rng, c.batch*c.size*c.size*3, 100)
			net.Forward(c.batch, x) // size the buffers outside the timing
			b.ResetTimer()
			for b.Loop() {
				net.Forward(c.batch, x)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N*c.batch), "ms/image")
		})
	}
}

// BenchmarkShardOfTwo times shard 0 of a 2-way split of the full-width
// VGG16 (its own channels of every layer; its exchange only places its own
// part) against the whole network as one shard, alternating pass by pass,
// at 224 and 32 batch 1, and reports the ratio: what two pool workers
// could at best take of one worker's time, before exchanges and barriers.
// In Chromium: make bench-browser BENCH=ShardOfTwo.
func BenchmarkShardOfTwo(b *testing.B) {
	rng := rand.New(rand.NewPCG(11, 11))
	base := randomConvBase(rng, FullVGG16)
	for _, size := range []int{224, 32} {
		b.Run(fmt.Sprintf("%dx%d", size, size), func(b *testing.B) {
			m := &Model{
				Info: Info{Arch: "vgg16", InputSize: size, WidthDiv: 1, Head: HeadGAP,
					Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, Preprocess: PreprocessCaffe},
				Base: *base,
				Head: Head{Kind: HeadGAP, Dense: []DenseParams{randomDenseParams(rng, 512, 256), randomDenseParams(rng, 256, 10)}},
			}
			x := uniformFloats(rng, size*size*3, 1)
			timed := func(count int) func() time.Duration {
				s, err := NewShard(m, 0, count)
				if err != nil {
					b.Fatal(err)
				}
				ex := func(layer int, cut Cut, part, full []float32) error {
					lo, hi := cut.Range(count, 0)
					cut.Place(full, lo, hi, part)
					return nil
				}
				return func() time.Duration {
					t0 := time.Now()
					if _, _, err := s.ForwardOOD(1, x, ex); err != nil {
						b.Fatal(err)
					}
					return time.Since(t0)
				}
			}
			whole, half := timed(1), timed(2)
			for range 3 { // Chromium compiles hot functions with its optimizing tier
				whole()
				half()
			}
			var w, h time.Duration
			for b.Loop() {
				w += whole()
				h += half()
			}
			b.ReportMetric(float64(w.Microseconds())/1000/float64(b.N), "whole-ms/pass")
			b.ReportMetric(float64(h.Microseconds())/1000/float64(b.N), "shard-ms/pass")
			b.ReportMetric(float64(h)/float64(w), "shard/whole")
		})
	}
}
