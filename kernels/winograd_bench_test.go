package kernels

import (
	"fmt"
	"testing"
	"time"
)

// vgg16ConvChannels lists (cin, cout) of VGG16's 13 conv layers, and
// vgg16PoolAfter marks the last conv of each block (a 2x2 max-pool follows).
// Package kernels cannot import model, so the table is repeated here.
var (
	vgg16ConvChannels = [13][2]int{
		{3, 64}, {64, 64},
		{64, 128}, {128, 128},
		{128, 256}, {256, 256}, {256, 256},
		{256, 512}, {512, 512}, {512, 512},
		{512, 512}, {512, 512}, {512, 512},
	}
	vgg16PoolAfter = [13]bool{1: true, 3: true, 6: true, 9: true, 12: true}
	vgg16ConvNames = [13]string{
		"block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
		"block3_conv1", "block3_conv2", "block3_conv3",
		"block4_conv1", "block4_conv2", "block4_conv3",
		"block5_conv1", "block5_conv2", "block5_conv3",
	}
)

// convFlops is the direct method's flop count (2 per multiply-add), used as
// the common yardstick: Winograd's GFLOP/s are "effective" GFLOP/s.
func convFlops(n, h, w, cin, cout int) float64 {
	return 2 * 9 * float64(n*h*w) * float64(cin*cout)
}

// BenchmarkWinogradVGG16Layers runs Winograd F(4x4) next to the direct
// convolution (the in-process baseline) at every VGG16 conv layer shape, at
// 224x224 batch 1 and 32x32 batch 64. Compare the two lines of a layer, not
// absolute numbers: the machine is shared.
func BenchmarkWinogradVGG16Layers(b *testing.B) {
	for _, size := range []struct{ hw, n int }{{224, 1}, {32, 64}} {
		hw := size.hw
		for l, ch := range vgg16ConvChannels {
			cin, cout := ch[0], ch[1]
			lhw := hw
			var in, out []float32
			var direct *Conv3x3
			var wino, wino2 *Winograd3x3
			// Built on first use, so a -bench filter that skips the layer
			// does not pay for it.
			setup := func() {
				if in != nil {
					return
				}
				rng := newRand(uint64(l))
				in = randFloats(rng, size.n*lhw*lhw*cin)
				kernel := randFloats(rng, 9*cin*cout)
				bias := randFloats(rng, cout)
				out = make([]float32, size.n*lhw*lhw*cout)
				direct = NewConv3x3(cin, cout, kernel, bias)
				wino = NewWinograd3x3(cin, cout, kernel, bias)
				wino2 = newWinograd3x3(cin, cout, kernel, bias, 2, false)
			}
			flops := convFlops(size.n, lhw, lhw, cin, cout)
			convs := []struct {
				name string
				fwd  func()
			}{
				{"direct", func() { direct.Forward(size.n, lhw, lhw, in, out, true) }},
				{"winograd", func() { wino.Forward(size.n, lhw, lhw, in, out, true) }},
				{"winograd-blocks", func() { withWinoMode(1, func() { wino.Forward(size.n, lhw, lhw, in, out, true) }) }},
				{"winograd-phased", func() { withWinoMode(2, func() { wino.Forward(size.n, lhw, lhw, in, out, true) }) }},
				{"winograd-f2", func() { wino2.Forward(size.n, lhw, lhw, in, out, true) }},
			}
			for _, c := range convs {
				b.Run(fmt.Sprintf("%d/n=%d/%s/%s", size.hw, size.n, vgg16ConvNames[l], c.name), func(b *testing.B) {
					setup()
					c0 := processCPUTime()
					for b.Loop() {
						c.fwd()
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					if cpu := processCPUTime() - c0; cpu > 0 {
						b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/op")
					}
				})
			}
			if vgg16PoolAfter[l] {
				hw /= 2
			}
		}
	}
}

// BenchmarkWinogradTransforms isolates the input and output transforms of
// a 56x56x256 layer, scalar next to the SIMD version this build uses.
func BenchmarkWinogradTransforms(b *testing.B) {
	const h, w, c = 56, 56, 256
	in := randFloats(newRand(1), h*w*c)
	const tiles = 14 * 14
	v := make([]float32, 36*tiles*c)
	out := make([]float32, h*w*c)
	bias := make([]float32, c)
	for _, variant := range winoTransformVariants() {
		b.Run("input/"+variant.name, func(b *testing.B) {
			c0 := processCPUTime()
			defer reportCPU(b, c0)
			for b.Loop() {
				for t := 0; t < tiles; t++ {
					variant.in(in, h, w, c, c, (t/14)*4-1, (t%14)*4-1, v[t*c:], tiles*c)
				}
			}
			b.ReportMetric(float64(h*w*c*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run("output/"+variant.name, func(b *testing.B) {
			c0 := processCPUTime()
			defer reportCPU(b, c0)
			for b.Loop() {
				for t := 0; t < tiles; t++ {
					variant.out(v[t*c:], tiles*c, c, bias, true, out, h, w, (t/14)*4, (t%14)*4)
				}
			}
			b.ReportMetric(float64(h*w*c*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// reportCPU adds the process CPU time per iteration since c0, where the
// platform measures it.
func reportCPU(b *testing.B, c0 time.Duration) {
	if cpu := processCPUTime() - c0; cpu > 0 && c0 > 0 {
		b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/op")
	}
}

// BenchmarkNewWinograd3x3 is the one-time load cost of a 512→512 layer
// (kernel transform in float64 and packing of the 36 matrices).
func BenchmarkNewWinograd3x3(b *testing.B) {
	const cin, cout = 512, 512
	kernel := randFloats(newRand(1), 9*cin*cout)
	c0 := processCPUTime()
	defer reportCPU(b, c0)
	for b.Loop() {
		NewWinograd3x3(cin, cout, kernel, nil)
	}
}
