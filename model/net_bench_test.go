package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"vggo/kernels"
)

// BenchmarkConvAlgorithms times direct (implicit GEMM) and Winograd F(4x4)
// 3x3 convolution on VGG16 layer shapes, batch 1; useWinograd's rule comes
// from these numbers (see its doc comment). Compare the two lines of one
// shape from the same run: absolute times on shared machines are noisy.
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
