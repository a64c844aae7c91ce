package kernels

import (
	"fmt"
	"testing"
)

// refGemm is the float64 reference: op(A)·op(B) (+ C) (+ bias), ReLU.
func refGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c0 []float32, ldc int, accumulate bool, bias []float32, relu bool) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for kk := 0; kk < k; kk++ {
				var av, bv float32
				if transA {
					av = a[kk*lda+i]
				} else {
					av = a[i*lda+kk]
				}
				if transB {
					bv = b[j*ldb+kk]
				} else {
					bv = b[kk*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			if accumulate {
				s += float64(c0[i*ldc+j])
			}
			if bias != nil {
				s += float64(bias[j])
			}
			if relu && s < 0 {
				s = 0
			}
			out[i*n+j] = s
		}
	}
	return out
}

// gemmCase is one shape for the SGEMM tests.
type gemmCase struct {
	m, n, k        int
	transA, transB bool
	accumulate     bool
	bias, relu     bool
	ldExtra        int // added to every leading dimension
}

func gemmCases() []gemmCase {
	var cases []gemmCase
	sizes := []int{1, 3, 5, 7, 17, 33}
	i := 0
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range sizes {
				i++
				cases = append(cases, gemmCase{
					m: m, n: n, k: k,
					transA: i%2 == 0, transB: i%3 == 0,
					accumulate: i%5 == 0, bias: i%7 == 0, relu: i%4 == 1,
					ldExtra: i % 3,
				})
			}
		}
	}
	// Shapes that cross the K block, several row blocks and many panels.
	cases = append(cases,
		gemmCase{m: 131, n: 77, k: 600, accumulate: true, ldExtra: 5},
		gemmCase{m: 200, n: 130, k: 300, transA: true, transB: true, bias: true, relu: true},
		gemmCase{m: 64, n: 64, k: 0, accumulate: true, bias: true},
		gemmCase{m: 9, n: 70, k: 1100, bias: true, relu: true, ldExtra: 1},
	)
	return cases
}

// runGemmCase runs one case through kern and returns the result (m×n) and
// (when withRef) the float64 reference; accumulating cases start from random C.
func runGemmCase(t *testing.T, kern *gemmKernel, tc gemmCase, seed uint64, withRef bool) ([]float32, []float64) {
	t.Helper()
	rng := newRand(seed)
	m, n, k := tc.m, tc.n, tc.k
	lda := k + tc.ldExtra
	arows := m
	if tc.transA {
		lda, arows = m+tc.ldExtra, k
	}
	ldb := n + tc.ldExtra
	brows := k
	if tc.transB {
		ldb, brows = k+tc.ldExtra, n
	}
	ldc := n + tc.ldExtra
	a := randFloats(rng, arows*lda)
	b := randFloats(rng, brows*ldb)
	var bias []float32
	if tc.bias {
		bias = randFloats(rng, n)
	}
	g := newGuarded(m * ldc)
	if tc.accumulate {
		fillRandom(rng, g.data)
	}
	var want []float64
	if withRef {
		want = refGemm(tc.transA, tc.transB, m, n, k, a, lda, b, ldb, g.data, ldc, tc.accumulate, bias, tc.relu)
	}
	pb := packBWith(kern, tc.transB, k, n, b, ldb)
	gemmWith(kern, tc.transA, m, a, lda, pb, g.data, ldc, tc.accumulate, bias, tc.relu)
	g.check(t)
	got := make([]float32, 0, m*n)
	for i := 0; i < m; i++ {
		got = append(got, g.data[i*ldc:i*ldc+n]...)
	}
	return got, want
}

// allGemmKernels is every variant plus the k-major twins gemmWith runs
// for a transposed A; run directly, a twin also packs a plain A k-major.
func allGemmKernels() []*gemmKernel {
	var all []*gemmKernel
	for _, k := range gemmVariants {
		all = append(all, k)
		if k.transATwin != nil {
			all = append(all, k.transATwin)
		}
	}
	return all
}

func TestGemmVariants(t *testing.T) {
	for _, kern := range allGemmKernels() {
		t.Run(kern.name, func(t *testing.T) {
			for i, tc := range gemmCases() {
				got, want := runGemmCase(t, kern, tc, uint64(i), true)
				if e := maxRelErr(got, want); e > 1e-5 {
					t.Fatalf("%+v: max relative error %.3g > 1e-5", tc, e)
				}
			}
		})
	}
}

// TestGemmPublicAPI checks Gemm and GemmPacked (the best variant) against
// the reference, including that accumulate=false never reads C (it is NaN).
func TestGemmPublicAPI(t *testing.T) {
	rng := newRand(7)
	m, n, k := 37, 45, 29
	a := randFloats(rng, k*m) // used transposed: k rows of m
	b := randFloats(rng, n*k) // used transposed: n rows of k
	g := newGuarded(m * n)
	Gemm(true, true, m, n, k, a, m, b, k, g.data, n, false)
	g.check(t)
	want := refGemm(true, true, m, n, k, a, m, b, k, nil, n, false, nil, false)
	if e := maxRelErr(g.data, want); e > 1e-5 {
		t.Fatalf("Gemm: max relative error %.3g", e)
	}

	a2 := randFloats(rng, m*k)
	bias := randFloats(rng, n)
	pb := PackB(true, k, n, b, k)
	if pb.K() != k || pb.N() != n {
		t.Fatalf("PackB dims = %dx%d, want %dx%d", pb.K(), pb.N(), k, n)
	}
	g2 := newGuarded(m * n)
	GemmPacked(m, a2, k, pb, g2.data, n, false, bias, true)
	g2.check(t)
	want2 := refGemm(false, true, m, n, k, a2, k, b, k, nil, n, false, bias, true)
	if e := maxRelErr(g2.data, want2); e > 1e-5 {
		t.Fatalf("GemmPacked: max relative error %.3g", e)
	}
}

// TestGemmThreadsBitIdentical: the result must not depend on SetThreads.
func TestGemmThreadsBitIdentical(t *testing.T) {
	for _, kern := range allGemmKernels() {
		for _, tc := range []gemmCase{
			{m: 300, n: 70, k: 700, bias: true, relu: true},
			{m: 7, n: 500, k: 333, accumulate: true},
			{m: 1000, n: 5, k: 20},
		} {
			t.Run(fmt.Sprintf("%s/%dx%dx%d", kern.name, tc.m, tc.n, tc.k), func(t *testing.T) {
				var ref []float32
				for _, threads := range []int{1, 2, 3, 8} {
					var got []float32
					withThreads(threads, func() { got, _ = runGemmCase(t, kern, tc, 99, false) })
					if ref == nil {
						ref = got
						continue
					}
					if i := bitsEqual(ref, got); i >= 0 {
						t.Fatalf("threads=%d differs from threads=1 at %d: %v vs %v", threads, i, got[i], ref[i])
					}
				}
			})
		}
	}
}

func TestThreadsSetting(t *testing.T) {
	defer SetThreads(0)
	SetThreads(3)
	if Threads() != 3 {
		t.Fatalf("Threads() = %d after SetThreads(3)", Threads())
	}
	SetThreads(0)
	if Threads() != defaultThreads() {
		t.Fatalf("Threads() = %d after reset, want default %d", Threads(), defaultThreads())
	}
}

// TestGemmReusesPackBuffer: Gemm recycles its packed copy of B between
// calls; a second call with different (smaller, transposed) B must not see
// stale values from the first, including in the padding of the last panel.
func TestGemmReusesPackBuffer(t *testing.T) {
	rng := newRand(11)
	for i, s := range []struct {
		m, n, k int
		transB  bool
	}{{20, 70, 90, false}, {9, 13, 30, true}, {9, 13, 30, false}, {5, 3, 7, true}} {
		a := randFloats(rng, s.m*s.k)
		b := randFloats(rng, s.k*s.n)
		ldb := s.n
		if s.transB {
			ldb = s.k
		}
		g := newGuarded(s.m * s.n)
		Gemm(false, s.transB, s.m, s.n, s.k, a, s.k, b, ldb, g.data, s.n, false)
		g.check(t)
		want := refGemm(false, s.transB, s.m, s.n, s.k, a, s.k, b, ldb, nil, s.n, false, nil, false)
		if e := maxRelErr(g.data, want); e > 1e-5 {
			t.Fatalf("call %d %+v: max relative error %.3g", i, s, e)
		}
	}
}

func TestGemmRejectsBadSizes(t *testing.T) {
	mustPanic := func(name string, fn func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		fn()
	}
	f := func(n int) []float32 { return make([]float32, n) }
	mustPanic("short a", func() { Gemm(false, false, 2, 2, 2, f(3), 2, f(4), 2, f(4), 2, false) })
	mustPanic("short b", func() { Gemm(false, false, 2, 2, 2, f(4), 2, f(3), 2, f(4), 2, false) })
	mustPanic("short c", func() { Gemm(false, false, 2, 2, 2, f(4), 2, f(4), 2, f(3), 2, false) })
	mustPanic("lda < k", func() { Gemm(false, false, 2, 2, 2, f(8), 1, f(4), 2, f(4), 2, false) })
	mustPanic("ldc < n", func() { Gemm(false, false, 2, 2, 2, f(4), 2, f(4), 2, f(8), 1, false) })
	mustPanic("negative m", func() { Gemm(false, false, -1, 2, 2, f(4), 2, f(4), 2, f(4), 2, false) })
	pb := PackB(false, 2, 2, f(4), 2)
	mustPanic("short bias", func() { GemmPacked(2, f(4), 2, pb, f(4), 2, false, f(1), false) })
}
