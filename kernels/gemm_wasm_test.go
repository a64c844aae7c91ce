//go:build goexperiment.simd && wasm

package kernels

import (
	"math"
	"testing"
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
