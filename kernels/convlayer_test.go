package kernels

import (
	"fmt"
	"math"
	"runtime"
	"testing"
)

// convLayerShapes cover each algorithm a Conv3x3Layer picks: Winograd F(4x4)
// and F(2x2) and the direct convolution, for the forward pass and for the
// input gradient (whose input channels are the layer's cout).
var convLayerShapes = []struct{ n, h, w, cin, cout int }{
	{2, 8, 9, 16, 24}, // F(4x4) all three passes
	{2, 5, 9, 16, 24}, // F(4x4) both ways, im2col filter gradient
	{1, 4, 4, 32, 16}, // one tile: F(2x2) both ways
	{3, 5, 7, 3, 20},  // direct forward (cin 3), F(4x4) input gradient
	{2, 3, 3, 20, 17}, // F(2x2), partial tiles
	{1, 1, 1, 17, 18}, // one pixel: direct both ways
}

// checkConvLayer runs every pass of l and compares with the float64
// references at Winograd's tolerance, and the filter gradient bit for bit
// with Conv3x3BackwardFilter where the layer picked im2col.
func checkConvLayer(t *testing.T, l *Conv3x3Layer, in, kernel, bias, dout []float32) {
	t.Helper()
	n, h, w, cin, cout := l.n, l.h, l.w, l.cin, l.cout
	out := newGuarded(n * h * w * cout)
	l.Forward(in, out.data, true)
	out.check(t)
	if e := maxRelErr(out.data, f64Conv3x3(n, h, w, cin, cout, in, kernel, bias, true)); e > 1e-4 {
		t.Fatalf("forward error %g", e)
	}
	wantDin, wantDk64, _ := f64ConvGrads(n, h, w, cin, cout, in, kernel, dout)
	din := newGuarded(len(in))
	l.BackwardData(dout, din.data)
	din.check(t)
	if e := maxRelErr(din.data, wantDin); e > 1e-4 {
		t.Fatalf("input gradient error %g", e)
	}
	dk, db := newGuarded(len(kernel)), newGuarded(cout)
	l.BackwardFilter(in, dout, dk.data, db.data, false)
	dk.check(t)
	db.check(t)
	if e := maxRelErr(dk.data, wantDk64); e > 1e-4 {
		t.Fatalf("filter gradient error %g", e)
	}
	wantDk, wantDb := make([]float32, len(kernel)), make([]float32, cout)
	Conv3x3BackwardFilter(n, h, w, cin, cout, in, dout, wantDk, wantDb, false)
	if i := bitsEqual(dk.data, wantDk); l.filterTile == 0 && i >= 0 {
		t.Fatalf("filter gradient differs from Conv3x3BackwardFilter at %d", i)
	}
	if i := bitsEqual(db.data, wantDb); i >= 0 {
		t.Fatalf("bias gradient differs from Conv3x3BackwardFilter at %d", i)
	}
}

// TestConv3x3LayerMatchesReference checks each pass, then new weights set
// into the same layer (transformed in place, the input gradient's kernel
// refreshed), and that setting them again changes nothing.
func TestConv3x3LayerMatchesReference(t *testing.T) {
	for i, s := range convLayerShapes {
		t.Run(fmt.Sprintf("%dx%dx%dx%d->%d", s.n, s.h, s.w, s.cin, s.cout), func(t *testing.T) {
			rng := newRand(uint64(300 + i))
			l := NewConv3x3Layer(s.n, s.h, s.w, s.cin, s.cout)
			in := randFloats(rng, s.n*s.h*s.w*s.cin)
			dout := randFloats(rng, s.n*s.h*s.w*s.cout)
			for step := 0; step < 2; step++ {
				kernel, bias := randFloats(rng, 9*s.cin*s.cout), randFloats(rng, s.cout)
				l.SetKernel(kernel, bias)
				checkConvLayer(t, l, in, kernel, bias, dout)
				l.SetKernel(kernel, bias)
				checkConvLayer(t, l, in, kernel, bias, dout)
			}
		})
	}
}

// TestConv3x3LayerFiniteDifferences checks the input gradient of a
// Winograd layer against central differences of the float64 convolution.
func TestConv3x3LayerFiniteDifferences(t *testing.T) {
	const n, h, w, cin, cout = 1, 6, 5, 16, 16
	rng := newRand(23)
	in, kernel, dout := randFloats(rng, n*h*w*cin), randFloats(rng, 9*cin*cout), randFloats(rng, n*h*w*cout)
	l := NewConv3x3Layer(n, h, w, cin, cout)
	l.SetKernel(kernel, make([]float32, cout))
	din := make([]float32, len(in))
	l.BackwardData(dout, din)
	k64 := to64(kernel)
	fd := numericGrad(func(x []float64) []float64 { return f64Conv3x3Of(n, h, w, cin, cout, x, k64) }, to64(in), to64(dout), 1e-4)
	if e := maxRelErr(din, fd); e > 1e-4 {
		t.Fatalf("input gradient vs finite differences: %g", e)
	}
}

// TestConv3x3LayerSeesEveryBitOfChange sets weights that differ from the
// last ones only in the sign of a zero, which == would miss.
func TestConv3x3LayerSeesEveryBitOfChange(t *testing.T) {
	const cin, cout = 16, 16
	l := NewConv3x3Layer(1, 4, 4, cin, cout)
	kernel := randFloats(newRand(29), 9*cin*cout)
	l.SetKernel(kernel, make([]float32, cout))
	negZero := make([]float32, cout)
	negZero[0] = float32(math.Copysign(0, -1))
	l.SetKernel(kernel, negZero)
	if i := bitsEqual(l.bias, negZero); i >= 0 {
		t.Fatal("a bias differing from the last only in the sign of a zero was not taken")
	}
}

func TestConv3x3LayerThreadsBitIdentical(t *testing.T) {
	const n, h, w, cin, cout = 2, 9, 11, 24, 20
	rng := newRand(31)
	in, kernel, bias, dout := randFloats(rng, n*h*w*cin), randFloats(rng, 9*cin*cout), randFloats(rng, cout), randFloats(rng, n*h*w*cout)
	var ref [][]float32
	for _, threads := range []int{1, 2, 5} {
		got := [][]float32{make([]float32, n*h*w*cout), make([]float32, len(in)), make([]float32, len(kernel))}
		withThreads(threads, func() {
			l := NewConv3x3Layer(n, h, w, cin, cout)
			l.SetKernel(kernel, bias)
			l.Forward(in, got[0], true)
			l.BackwardData(dout, got[1])
			l.BackwardFilter(in, dout, got[2], nil, false)
		})
		if ref == nil {
			ref = got
			continue
		}
		for i := range ref {
			if j := bitsEqual(ref[i], got[i]); j >= 0 {
				t.Fatalf("threads=%d: pass %d differs at %d", threads, i, j)
			}
		}
	}
}

// TestConv3x3LayerSteadyStateAllocations runs a training step's passes
// repeatedly with weights that change every step, as an optimizer does,
// and expects no buffer to be allocated after the first step: what is
// left (task closures, a few hundred bytes per parallel loop or GEMM) must
// stay far below the smallest tensor the passes touch (256 KiB here).
func TestConv3x3LayerSteadyStateAllocations(t *testing.T) {
	const n, h, w, cin, cout = 8, 16, 16, 32, 32
	rng := newRand(37)
	in, kernel, bias, dout := randFloats(rng, n*h*w*cin), randFloats(rng, 9*cin*cout), randFloats(rng, cout), randFloats(rng, n*h*w*cout)
	out, din, dk, db := make([]float32, n*h*w*cout), make([]float32, len(in)), make([]float32, len(kernel)), make([]float32, cout)
	l := NewConv3x3Layer(n, h, w, cin, cout)
	step := func() {
		kernel[0]++
		l.SetKernel(kernel, bias)
		l.Forward(in, out, true)
		l.BackwardData(dout, din)
		l.BackwardFilter(in, dout, dk, db, false)
	}
	withThreads(1, func() {
		step()
		b := allocBytesPerRun(10, step)
		t.Logf("%d bytes allocated per step after the first", b)
		if b > 32<<10 {
			t.Fatal("want under 32 KiB")
		}
	})
}

// allocBytesPerRun is the heap bytes one call of f allocates, averaged
// over runs calls.
func allocBytesPerRun(runs int, f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}
