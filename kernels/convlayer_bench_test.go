package kernels

import (
	"fmt"
	"testing"
)

// vggTrainShapes are VGG16's distinct conv layer shapes (side, cin, cout)
// at 32x32 input, trained in batches of 64.
var vggTrainShapes = [][3]int{{32, 3, 64}, {32, 64, 64}, {16, 64, 128}, {16, 128, 128}, {8, 128, 256}, {8, 256, 256}, {4, 256, 512}, {4, 512, 512}, {2, 512, 512}}

// BenchmarkConv3x3FilterGrad times the kernel gradient of each VGG16 layer
// shape (32x32, batch 64) with im2col GEMM and with Winograd F(4x4) and
// F(2x2), the measurement behind filterGradTile. It reports CPU time per
// call next to wall time, as the build machines are shared.
func BenchmarkConv3x3FilterGrad(b *testing.B) {
	const n = 64
	for _, s := range vggTrainShapes {
		side, cin, cout := s[0], s[1], s[2]
		rng := newRand(1)
		in, dout := randFloats(rng, n*side*side*cin), randFloats(rng, n*side*side*cout)
		dk := make([]float32, 9*cin*cout)
		for _, tile := range []int{0, 4, 2} {
			b.Run(fmt.Sprintf("%dx%d/%d-%d/tile=%d", side, side, cin, cout, tile), func(b *testing.B) {
				var im2col filterGradScratch
				wino := winoFilterGrad{tile: tile}
				run := func() {
					if tile == 0 {
						im2col.backward(n, side, side, cin, cout, in, dout, dk, nil, false)
					} else {
						wino.backward(n, side, side, cin, cout, in, dout, dk, nil, false)
					}
				}
				run()
				b.ResetTimer()
				cpu := processCPUTime()
				for range b.N {
					run()
				}
				b.ReportMetric((processCPUTime()-cpu).Seconds()*1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
