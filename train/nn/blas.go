package nn

import (
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"

	"vggo/kernels"
)

// KernelsBLAS is the BLAS gorgonia's own matrix products use here: gonum's
// pure-Go implementation with Sgemm replaced by kernels.Gemm (the project's
// packed, SIMD SGEMM) whenever alpha is 1 and beta is 0 or 1, which is
// every call gorgonia makes for float32 matmul; other cases fall back to
// gonum.
type KernelsBLAS struct {
	gonum.Implementation
}

// SgemmCalls counts Sgemm calls served by kernels.Gemm (tests assert on it).
var SgemmCalls atomic.Int64

// Sgemm computes C = alpha·op(A)·op(B) + beta·C in row-major order.
func (KernelsBLAS) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if alpha != 1 || (beta != 0 && beta != 1) {
		gonum.Implementation{}.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	SgemmCalls.Add(1)
	kernels.Gemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, a, lda, b, ldb, c, ldc, beta == 1)
}

// UseKernelsBLAS installs KernelsBLAS as gorgonia's (and tensor's) BLAS.
func UseKernelsBLAS() { G.Use(KernelsBLAS{}) }

func init() { UseKernelsBLAS() }
