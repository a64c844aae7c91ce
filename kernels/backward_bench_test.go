package kernels

import (
	"fmt"
	"testing"
)

// BenchmarkConv3x3Backward times the two backward kernels next to the
// direct forward convolution of the same layer (the in-process baseline:
// all three do the same number of flops) at the shapes fine-tuning VGG16's
// last block sees: 14x14 (224 input) and 2x2 (32 input).
func BenchmarkConv3x3Backward(b *testing.B) {
	for _, s := range []convShape{{8, 14, 14, 512, 512}, {64, 2, 2, 512, 512}, {16, 28, 28, 256, 512}} {
		rng := newRand(1)
		in := randFloats(rng, s.n*s.h*s.w*s.cin)
		kernel := randFloats(rng, 9*s.cin*s.cout)
		dout := randFloats(rng, s.n*s.h*s.w*s.cout)
		din := make([]float32, len(in))
		dk := make([]float32, len(kernel))
		db := make([]float32, s.cout)
		out := make([]float32, len(dout))
		conv := NewConv3x3(s.cin, s.cout, kernel, nil)
		flops := convFlops(s.n, s.h, s.w, s.cin, s.cout)
		for _, c := range []struct {
			name string
			fn   func()
		}{
			{"forward-direct", func() { conv.Forward(s.n, s.h, s.w, in, out, false) }},
			{"backward-data", func() { Conv3x3BackwardData(s.n, s.h, s.w, s.cin, s.cout, kernel, dout, din) }},
			{"backward-filter", func() { Conv3x3BackwardFilter(s.n, s.h, s.w, s.cin, s.cout, in, dout, dk, db, false) }},
		} {
			b.Run(fmt.Sprintf("%dx%dx%dx%d->%d/%s", s.n, s.h, s.w, s.cin, s.cout, c.name), func(b *testing.B) {
				c0 := processCPUTime()
				defer reportCPU(b, c0)
				for b.Loop() {
					c.fn()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
