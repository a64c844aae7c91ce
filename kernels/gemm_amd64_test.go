//go:build goexperiment.simd && amd64

package kernels

import (
	"simd/archsimd"
	"testing"
)

// TestGemmVariantSelection guards against the SIMD kernels silently
// dropping out of the build or the run-time choice: on a CPU with AVX-512
// the assembly kernel must be the one PackB, Gemm and NewConv3x3 use.
func TestGemmVariantSelection(t *testing.T) {
	var names []string
	for _, v := range gemmVariants {
		names = append(names, v.name)
	}
	t.Logf("variants on this CPU: %v", names)
	switch {
	case archsimd.X86.AVX512():
		if bestGemm != avx512AsmGemm {
			t.Fatalf("AVX-512 CPU but best variant is %q", bestGemm.name)
		}
		if len(gemmVariants) != 5 {
			t.Fatalf("AVX-512 CPU: want 5 variants (avx512asm, avx512, avx2asm, avx2, generic), have %v", names)
		}
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		if bestGemm != avx2AsmGemm {
			t.Fatalf("AVX2 CPU but best variant is %q", bestGemm.name)
		}
	}
	if pb := PackB(false, 3, 3, make([]float32, 9), 3); pb.kern != bestGemm {
		t.Fatalf("PackB packs for %q, want %q", pb.kern.name, bestGemm.name)
	}
}
