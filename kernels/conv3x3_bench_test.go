package kernels

import (
	"fmt"
	"testing"
)

// vggConvShapes are the 13 VGG16 convolutions at a 224x224 input: input
// channels, output channels, spatial size. At a 32x32 input every spatial
// size is divided by 7.
var vggConvShapes = []struct{ cin, cout, size int }{
	{3, 64, 224}, {64, 64, 224},
	{64, 128, 112}, {128, 128, 112},
	{128, 256, 56}, {256, 256, 56}, {256, 256, 56},
	{256, 512, 28}, {512, 512, 28}, {512, 512, 28},
	{512, 512, 14}, {512, 512, 14}, {512, 512, 14},
}

// BenchmarkConv3x3 measures the direct (implicit-GEMM) convolution at every
// VGG16 layer shape, for a 224x224 image (batch 1) and for 32x32 images
// (batch 64), per SGEMM variant, with all threads. Layers repeated in
// VGG16 (same shape) are measured once.
//
//	go test -run '^$' -bench 'Conv3x3/224/.*/avx512asm' ./kernels
func BenchmarkConv3x3(b *testing.B) {
	for _, input := range []struct{ size, batch int }{{224, 1}, {32, 64}} {
		seen := map[[3]int]bool{}
		for i, s := range vggConvShapes {
			hw := s.size * input.size / 224
			key := [3]int{s.cin, s.cout, hw}
			if seen[key] {
				continue
			}
			seen[key] = true
			for _, kern := range gemmVariants {
				name := fmt.Sprintf("%d/layer%02d_%dx%dx%d_%d-%d/%s", input.size, i+1, input.batch, hw, hw, s.cin, s.cout, kern.name)
				b.Run(name, func(b *testing.B) {
					benchConv3x3(b, kern, input.batch, hw, hw, s.cin, s.cout)
				})
			}
		}
	}
}

func benchConv3x3(b *testing.B, kern *gemmKernel, n, h, w, cin, cout int) {
	rng := newRand(2)
	in := randFloats(rng, n*h*w*cin)
	conv := newConv3x3With(kern, cin, cout, randFloats(rng, 9*cin*cout), randFloats(rng, cout))
	out := make([]float32, n*h*w*cout)
	b.ResetTimer()
	c0 := processCPUTime()
	for i := 0; i < b.N; i++ {
		conv.Forward(n, h, w, in, out, true)
	}
	reportGFLOPS(b, 2*float64(n*h*w)*float64(9*cin*cout), c0)
}
