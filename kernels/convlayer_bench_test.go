package kernels

import (
	"fmt"
	"testing"
)

// vggTrainShapes are VGG16's distinct conv layer shapes (side, cin, cout)
// at 32x32 input, trained in batches of 64.
var vggTrainShapes = [][3]int{{32, 3, 64}, {32, 64, 64}, {16, 64, 128}, {16, 128, 128}, {8, 128, 256}, {8, 256, 256}, {4, 256, 512}, {4, 512, 512}, {2, 512, 512}}

// BenchmarkConv3x3FilterGrad times the kernel gradient of each VGG16 layer
// shape (32x32, batch 64) with im2col GEMM (tile=0), tap by tap (tile=-1)
// and with Winograd F(4x4) and F(2x2), the measurements behind
// filterGradTile and filterGradByTapBelow. It reports CPU time per
// call next to wall time, as the build machines are shared.
func BenchmarkConv3x3FilterGrad(b *testing.B) {
	const n = 64
	for _, s := range vggTrainShapes {
		side, cin, cout := s[0], s[1], s[2]
		rng := newRand(1)
		in, dout := randFloats(rng, n*side*side*cin), randFloats(rng, n*side*side*cout)
		dk := make([]float32, 9*cin*cout)
		for _, tile := range []int{0, -1, 4, 2} { // 0: im2col, -1: tap by tap
			b.Run(fmt.Sprintf("%dx%d/%d-%d/tile=%d", side, side, cin, cout, tile), func(b *testing.B) {
				var im2col filterGradScratch
				wino := winoFilterGrad{tile: tile}
				run := func() {
					switch tile {
					case 0:
						im2col.backwardIm2col(n, side, side, cin, cout, in, dout, dk, false)
					case -1:
						im2col.backwardByTap(n, side, side, cin, cout, in, dout, dk, false)
					default:
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

// BenchmarkConv3x3LayerPasses times a Conv3x3Layer's three passes for each
// VGG16 layer shape (32x32, batch 64) as a training step pays them: the
// forward pass with its weight transform (the weights change every step),
// the input gradient with its transform of the flipped kernel, and the
// kernel gradient. It reports CPU time per call next to wall time.
func BenchmarkConv3x3LayerPasses(b *testing.B) {
	const n = 64
	for _, s := range vggTrainShapes {
		side, cin, cout := s[0], s[1], s[2]
		rng := newRand(1)
		in, dout := randFloats(rng, n*side*side*cin), randFloats(rng, n*side*side*cout)
		kernel, bias := randFloats(rng, 9*cin*cout), randFloats(rng, cout)
		out, din, dk := make([]float32, len(dout)), make([]float32, len(in)), make([]float32, len(kernel))
		l := NewConv3x3Layer(n, side, side, cin, cout)
		l.SetKernel(kernel, bias)
		l.BackwardData(dout, din)
		passes := []struct {
			name string
			run  func()
		}{
			{"forward", func() { kernel[0]++; l.SetKernel(kernel, bias); l.Forward(in, out, true) }},
			{"data", func() { l.dataStale = true; l.BackwardData(dout, din) }},
			{"filter", func() { l.BackwardFilter(in, dout, dk, nil, false) }},
		}
		for _, p := range passes {
			b.Run(fmt.Sprintf("%dx%d/%d-%d/%s", side, side, cin, cout, p.name), func(b *testing.B) {
				p.run()
				b.ResetTimer()
				cpu := processCPUTime()
				for range b.N {
					p.run()
				}
				b.ReportMetric((processCPUTime()-cpu).Seconds()*1000/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
