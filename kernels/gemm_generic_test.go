//go:build !goexperiment.simd || !(amd64 || wasm)

package kernels

import "testing"

// TestGemmVariantSelection: builds without SIMD kernels use the portable one.
func TestGemmVariantSelection(t *testing.T) {
	if bestGemm != genericGemm || len(gemmVariants) != 1 {
		t.Fatalf("best variant %q of %d, want generic only", bestGemm.name, len(gemmVariants))
	}
}
