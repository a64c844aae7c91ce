package kernels

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkGemm measures GemmPacked (B packed once outside the loop, A
// packed inside as in real use) for square sizes, per variant, with one
// thread and with all threads. Compare variants within one run: timings on
// a shared machine are only meaningful as ratios.
//
//	go test -run '^$' -bench Gemm ./kernels
func BenchmarkGemm(b *testing.B) {
	for _, kern := range gemmVariants {
		for _, size := range []int{256, 512, 1024} {
			threadCounts := []int{1}
			if defaultThreads() > 1 {
				threadCounts = append(threadCounts, defaultThreads())
			}
			for _, threads := range threadCounts {
				name := fmt.Sprintf("%s/%d/threads=%d", kern.name, size, threads)
				b.Run(name, func(b *testing.B) { benchGemm(b, kern, size, size, size, threads) })
			}
		}
	}
}

func benchGemm(b *testing.B, kern *gemmKernel, m, n, k, threads int) {
	rng := newRand(1)
	a := randFloats(rng, m*k)
	pb := packBWith(kern, false, k, n, randFloats(rng, k*n), n)
	c := make([]float32, m*n)
	SetThreads(threads)
	defer SetThreads(0)
	b.ResetTimer()
	c0 := processCPUTime()
	for i := 0; i < b.N; i++ {
		gemmWith(kern, false, m, a, k, pb, c, n, false, nil, false)
	}
	reportGFLOPS(b, 2*float64(m)*float64(n)*float64(k), c0)
}

// reportGFLOPS reports flopsPerOp·b.N per second of wall time ("GFLOP/s")
// and per second of process CPU time since cpu0 ("cpu-GFLOP/s"). On the
// shared build machine wall time grows with other people's load; CPU time
// much less, so cpu-GFLOP/s is the steadier number (with T threads it is
// the throughput per busy core, roughly GFLOP/s / T on an idle machine).
func reportGFLOPS(b *testing.B, flopsPerOp float64, cpu0 time.Duration) {
	total := flopsPerOp * float64(b.N)
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(total/s/1e9, "GFLOP/s")
	}
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(total/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}

// BenchmarkGemmTransA times C = AᵀB with the shapes of the Winograd kernel
// gradient (one frequency, M = cin, N = cout, K = a chunk of tiles) and of
// the im2col one (M = 9·cin), on the best kernel with its k-major twin
// (A packed by contiguous copies) and without it (A transposed into
// row-major strips), in one process.
func BenchmarkGemmTransA(b *testing.B) {
	kern := bestGemm
	if kern.transATwin == nil {
		b.Skip("the best kernel has no k-major twin on this machine")
	}
	plain := *kern
	plain.transATwin = nil
	for _, s := range []struct{ m, n, k int }{{64, 64, 455}, {128, 128, 1000}, {576, 64, 3640}} {
		rng := newRand(1)
		a, bm := randFloats(rng, s.k*s.m), randFloats(rng, s.k*s.n)
		c := make([]float32, s.m*s.n)
		pb := packBWith(kern, false, s.k, s.n, bm, s.n)
		for _, v := range []struct {
			name string
			kern *gemmKernel
		}{{"kmajor", kern}, {"rowmajor", &plain}} {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s.m, s.n, s.k, v.name), func(b *testing.B) {
				for range b.N {
					gemmWith(v.kern, true, s.m, a, s.m, pb, c, s.n, false, nil, false)
				}
			})
		}
	}
}
