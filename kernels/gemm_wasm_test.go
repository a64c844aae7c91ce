//go:build goexperiment.simd && wasm

package kernels

import (
	"math"
	"testing"
	"time"
)

// TestGemmVariantSelection: the SIMD128 assembly kernel (the relaxed-madd
// one in a relaxedsimd build) must be the one PackB, Gemm and NewConv3x3 use
// in a GOEXPERIMENT=simd wasm build.
func TestGemmVariantSelection(t *testing.T) {
	if bestGemm != simd128AsmGemm || len(gemmVariants) != 2 {
		t.Fatalf("best variant %q of %d, want %s of 2", bestGemm.name, len(gemmVariants), wasmAsmGemmName())
	}
	if pb := PackB(false, 3, 3, make([]float32, 9), 3); pb.kern != simd128AsmGemm {
		t.Fatalf("PackB packs for %q", pb.kern.name)
	}
}

// TestWasmMicrokernelRounding pins what each build's microkernel step
// computes on a case where fusing shows: acc = -1, then acc += x*x with
// x = 1+2^-12, whose exact product 1 + 2^-11 + 2^-24 is not a float32.
// Rounded separately (the plain build) the product ties to 1 + 2^-11 and
// the sum is 2^-11; fused, the sum is 2^-11 + 2^-24. The relaxed build may
// give either (relaxed_madd fuses where the CPU has FMA), but the same in
// every lane. Either way the float64-reference tests (Gemm and the 3x3
// convolutions within 1e-5 of max|ref|, Winograd within 1e-4) use the same
// tolerance for both builds: fusing drops the product's rounding, so its
// error bound is never larger than the unfused one.
func TestWasmMicrokernelRounding(t *testing.T) {
	x := float32(1 + math.Ldexp(1, -12))
	unfused := float32(math.Ldexp(1, -11))
	fused := float32(math.Ldexp(1, -11) + math.Ldexp(1, -24))
	const kc = 2
	a := make([]float32, 6*kc) // row i: a[i*kc+k]
	b := make([]float32, kc*8) // step k: b[k*8+j]
	for i := 0; i < 6; i++ {
		a[i*kc], a[i*kc+1] = -1, x
	}
	for j := 0; j < 8; j++ {
		b[j], b[8+j] = 1, x
	}
	var tile [6 * 8]float32
	gemmSIMD128Asm6x8(kc, &a[0], &b[0], &tile[0])
	got := tile[0]
	switch {
	case !RelaxedSIMD && got != unfused:
		t.Fatalf("plain SIMD128 kernel gave %g, want the unfused %g", got, unfused)
	case RelaxedSIMD && got != unfused && got != fused:
		t.Fatalf("relaxed kernel gave %g, want fused %g or unfused %g", got, fused, unfused)
	}
	for i, v := range tile {
		if v != got {
			t.Fatalf("lane %d gave %g, lane 0 %g", i, v, got)
		}
	}
	t.Logf("RelaxedSIMD=%v, fused=%v", RelaxedSIMD, got == fused)
}

// TestWasmDirectStore: full tiles stored by the kernel itself
// (directStore) give the bits the epilogue path gives, with and without
// accumulating into C, across K blocks and with a row stride wider than
// N, and write nothing outside C.
func TestWasmDirectStore(t *testing.T) {
	defer func(old bool) { directStore = old }(directStore)
	for i, tc := range []gemmCase{
		{m: 60, n: 64, k: 256},
		{m: 60, n: 64, k: 256, accumulate: true, ldExtra: 3},
		{m: 18, n: 24, k: 600, ldExtra: 8},           // two K blocks: the second loads C
		{m: 13, n: 20, k: 27, accumulate: true},      // partial tiles take the epilogue
		{m: 12, n: 16, k: 5, bias: true, relu: true}, // so do tiles with bias and ReLU
	} {
		directStore = false
		viaEpilogue, want := runGemmCase(t, simd128AsmGemm, tc, uint64(i), true)
		directStore = true
		direct, _ := runGemmCase(t, simd128AsmGemm, tc, uint64(i), false)
		for j := range direct {
			if math.Float32bits(direct[j]) != math.Float32bits(viaEpilogue[j]) {
				t.Fatalf("%+v: element %d: direct store %g, epilogue %g", tc, j, direct[j], viaEpilogue[j])
			}
		}
		if e := maxRelErr(direct, want); e > 1e-5 {
			t.Fatalf("%+v: max relative error %.3g > 1e-5", tc, e)
		}
	}
}

// BenchmarkWasmDirectStore times VGG16's 13 conv layers at 224x224
// (each as the model runs it: direct for the first, Winograd F(4x4) for
// the rest, per WinogradTile), with the kernel storing full tiles itself
// (directStore, the default) and through the stack and the epilogue,
// alternating pass by pass in one process, and reports both times and
// their ratio. In Chromium, the engine users have: make bench-browser.
func BenchmarkWasmDirectStore(b *testing.B) {
	defer func(old bool) { directStore = old }(directStore)
	type layer struct {
		hw   int
		in   []float32
		out  []float32
		conv interface {
			Forward(n, h, w int, in, out []float32, relu bool)
		}
	}
	var layers []layer
	hw := 224
	rng := newRand(3)
	for l, ch := range vgg16ConvChannels {
		cin, cout := ch[0], ch[1]
		kernel, bias := randFloats(rng, 9*cin*cout), randFloats(rng, cout)
		ly := layer{hw: hw, in: randFloats(rng, hw*hw*cin), out: make([]float32, hw*hw*cout)}
		if tile := WinogradTile(1, cin, hw, hw); tile == 0 {
			ly.conv = NewConv3x3(cin, cout, kernel, bias)
		} else {
			ly.conv = NewWinograd3x3Tile(cin, cout, kernel, bias, tile)
		}
		layers = append(layers, ly)
		if vgg16PoolAfter[l] {
			hw /= 2
		}
	}
	pass := func(direct bool) time.Duration {
		directStore = direct
		t0 := time.Now()
		for _, ly := range layers {
			ly.conv.Forward(1, ly.hw, ly.hw, ly.in, ly.out, true)
		}
		return time.Since(t0)
	}
	pass(true) // Chromium compiles hot functions with its optimizing tier
	pass(false)
	var on, off time.Duration
	for b.Loop() {
		on += pass(true)
		off += pass(false)
	}
	b.ReportMetric(ms(on)/float64(b.N), "direct-ms/pass")
	b.ReportMetric(ms(off)/float64(b.N), "epilogue-ms/pass")
	b.ReportMetric(float64(on)/float64(off), "direct/epilogue")
}
