package kernels

import (
	"fmt"
	"testing"
	"time"
)

// vgg16Layer is one conv layer of the benchmark network with both
// implementations built from the same random weights.
type vgg16Layer struct {
	cin, cout int
	direct    *Conv3x3
	wino      *Winograd3x3 // F(4x4)
	wino2     *Winograd3x3 // F(2x2)
	use       int          // 0 direct, 4 F(4x4), 2 F(2x2)
}

// forward runs implementation impl (0 direct, 4 or 2 Winograd tile) with
// bias and ReLU fused.
func (l *vgg16Layer) forward(n, hw int, in, out []float32, impl int) {
	switch impl {
	case 4:
		l.wino.Forward(n, hw, hw, in, out, true)
	case 2:
		l.wino2.Forward(n, hw, hw, in, out, true)
	default:
		l.direct.Forward(n, hw, hw, in, out, true)
	}
}

// timeOnce returns the fastest of reps runs of fn, in wall time and in
// process CPU time (the fairer measure on a loaded machine; 0 where the
// platform has none).
func timeOnce(reps int, fn func()) (wall, cpu time.Duration) {
	wall, cpu = time.Duration(1<<62), time.Duration(1<<62)
	for range reps {
		c0, t0 := processCPUTime(), time.Now()
		fn()
		wall = min(wall, time.Since(t0))
		cpu = min(cpu, processCPUTime()-c0)
	}
	return wall, cpu
}

// faster reports whether a beats b: by CPU time where the platform measures
// it (robust to other processes' load), by wall time otherwise.
func faster(aWall, aCPU, bWall, bCPU time.Duration) bool {
	if aCPU > 0 && bCPU > 0 {
		return aCPU < bCPU
	}
	return aWall < bWall
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

// BenchmarkVGG16ConvBase runs VGG16's whole conv base (13 convs with bias and
// ReLU + 5 max-pools, random weights) at 224x224 batch 1, 32x32 batch 64
// (training at 32x32) and 32x32 batch 1 (the default model in the browser).
// For each layer it first times the direct, the F(4x4) and the F(2x2)
// Winograd convolution and keeps the fastest, as a model would; the
// per-layer times and choices (and what WinogradTile would pick) are logged
// (go test -bench VGG16ConvBase -v).
func BenchmarkVGG16ConvBase(b *testing.B) {
	for _, size := range []struct{ hw, n int }{{224, 1}, {32, 64}, {32, 1}} {
		b.Run(fmt.Sprintf("%d/n=%d", size.hw, size.n), func(b *testing.B) {
			n := size.n
			rng := newRand(42)
			maxAct := n * size.hw * size.hw * 64
			bufA := make([]float32, maxAct)
			bufB := make([]float32, maxAct)
			input := randFloats(rng, n*size.hw*size.hw*3)
			var layers [13]vgg16Layer
			flops := 0.0
			hw := size.hw
			for i, ch := range vgg16ConvChannels {
				cin, cout := ch[0], ch[1]
				kernel := randFloats(rng, 9*cin*cout)
				for j := range kernel {
					kernel[j] *= 0.1
				}
				bias := randFloats(rng, cout)
				l := &layers[i]
				*l = vgg16Layer{cin: cin, cout: cout, direct: NewConv3x3(cin, cout, kernel, bias),
					wino: NewWinograd3x3(cin, cout, kernel, bias), wino2: NewWinograd3x3Tile(cin, cout, kernel, bias, 2)}
				fillRandom(rng, bufA[:n*hw*hw*cin])
				var wall, cpu [5]time.Duration
				for _, impl := range []int{0, 4, 2} {
					wall[impl], cpu[impl] = timeOnce(3, func() { l.forward(n, hw, bufA, bufB, impl) })
					if impl != 0 && faster(wall[impl], cpu[impl], wall[l.use], cpu[l.use]) {
						l.use = impl
					}
				}
				b.Logf("%-12s %3dx%-3d %3d->%3d  direct %7.2f ms (cpu %7.2f)  F(4x4) %7.2f ms (cpu %7.2f)  F(2x2) %7.2f ms (cpu %7.2f)  -> %s (WinogradTile: %d)",
					vgg16ConvNames[i], hw, hw, cin, cout, ms(wall[0]), ms(cpu[0]), ms(wall[4]), ms(cpu[4]), ms(wall[2]), ms(cpu[2]),
					map[int]string{0: "direct", 4: "F(4x4)", 2: "F(2x2)"}[l.use], WinogradTile(n, cin, hw, hw))
				flops += convFlops(n, hw, hw, cin, cout)
				if vgg16PoolAfter[i] {
					hw /= 2
				}
			}
			run := func() {
				hw := size.hw
				copy(bufA, input)
				cur, next := bufA, bufB
				for i := range layers {
					l := &layers[i]
					l.forward(n, hw, cur, next, l.use)
					cur, next = next, cur
					if vgg16PoolAfter[i] {
						MaxPool2x2(n, hw, hw, l.cout, cur, next)
						cur, next = next, cur
						hw /= 2
					}
				}
			}
			c0 := processCPUTime()
			for b.Loop() {
				run()
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(sec*1e3, "ms/forward")
			if cpu := processCPUTime() - c0; cpu > 0 {
				b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/forward")
			}
			b.ReportMetric(flops/sec/1e9, "GFLOP/s")
		})
	}
}
