package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Test helpers shared by every kernel test in the package.

// guardLen is the number of sentinel floats on each side of a guarded buffer.
const guardLen = 37

// guardBits is the bit pattern of the sentinel stored in guard bands: a NaN
// with a payload no arithmetic produces, compared bit for bit.
const guardBits = 0x7fa5_5a5a

// guarded is a float32 buffer surrounded by guard bands, to catch kernels
// that write outside their output. data is the body the kernel may use.
type guarded struct {
	buf  []float32
	data []float32
}

// newGuarded returns a guarded buffer whose body (len n) is filled with NaN,
// so any element a kernel forgets to write (or reads before writing, when it
// must not) shows up in the comparison with the reference.
func newGuarded(n int) *guarded {
	buf := make([]float32, n+2*guardLen)
	sentinel := math.Float32frombits(guardBits)
	for i := range buf {
		buf[i] = sentinel
	}
	data := buf[guardLen : guardLen+n : guardLen+n]
	for i := range data {
		data[i] = float32(math.NaN())
	}
	return &guarded{buf: buf, data: data}
}

// poison refills the body with NaN (before reusing the buffer for another call).
func (g *guarded) poison() {
	for i := range g.data {
		g.data[i] = float32(math.NaN())
	}
}

// check fails the test if any guard value changed.
func (g *guarded) check(t testing.TB) {
	t.Helper()
	n := len(g.data)
	for i, v := range g.buf {
		if i >= guardLen && i < guardLen+n {
			continue
		}
		if math.Float32bits(v) != guardBits {
			pos := i - guardLen
			t.Fatalf("guard band overwritten at offset %d (body length %d): %v", pos, n, v)
		}
	}
}

// randFloats returns n uniform random floats in [-1, 1).
func randFloats(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	fillRandom(rng, s)
	return s
}

// fillRandom fills s with uniform random floats in [-1, 1).
func fillRandom(rng *rand.Rand, s []float32) {
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
}

// maxRelErr returns max|got-want| / max(max|want|, tiny). A NaN in got (an
// element never written) gives +Inf, so it always fails a tolerance check.
func maxRelErr(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	const tiny = 1e-30
	scale, worst := tiny, 0.0
	for i, w := range want {
		scale = max(scale, math.Abs(w))
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		worst = max(worst, math.Abs(g-w))
	}
	return worst / scale
}

// newRand returns a deterministic generator for a test, seeded from seed.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// bitsEqual reports the first index where a and b differ bit for bit, or -1.
func bitsEqual(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// withThreads runs fn with SetThreads(n) and restores the default after.
func withThreads(n int, fn func()) {
	SetThreads(n)
	defer SetThreads(0)
	fn()
}

func TestGuardedDetectsOverwrite(t *testing.T) {
	g := newGuarded(5)
	for _, v := range g.data {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("body not NaN-poisoned: %v", v)
		}
	}
	g.data[4] = 1
	g.check(t) // writing the body is fine
	ft := &fakeTB{TB: t}
	g.buf[guardLen+5] = 0 // just past the end
	func() {
		defer func() { recover() }()
		g.check(ft)
	}()
	if !ft.failed {
		t.Fatal("check did not notice an overwritten guard")
	}
}

func TestMaxRelErr(t *testing.T) {
	if e := maxRelErr([]float32{1, 2}, []float64{1, 2.5}); math.Abs(e-0.2) > 1e-12 {
		t.Fatalf("maxRelErr = %v, want 0.2", e)
	}
	if e := maxRelErr([]float32{float32(math.NaN())}, []float64{1}); !math.IsInf(e, 1) {
		t.Fatalf("maxRelErr with NaN = %v, want +Inf", e)
	}
}

// fakeTB records Fatalf instead of stopping the real test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}
