//go:build goexperiment.simd && wasm

package kernels

import "testing"

// TestGemmVariantSelection: the SIMD128 assembly kernel must be the one
// PackB, Gemm and NewConv3x3 use in a GOEXPERIMENT=simd wasm build.
func TestGemmVariantSelection(t *testing.T) {
	if bestGemm != simd128AsmGemm || len(gemmVariants) != 2 {
		t.Fatalf("best variant %q of %d, want simd128asm of 2", bestGemm.name, len(gemmVariants))
	}
	if pb := PackB(false, 3, 3, make([]float32, 9), 3); pb.kern != simd128AsmGemm {
		t.Fatalf("PackB packs for %q", pb.kern.name)
	}
}
