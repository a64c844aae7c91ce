//go:build linux

package cuda

// cuBLAS (cublas_api.h), v2 API. Every function returns a cublasStatus_t,
// 0 on success.
var (
	cublasCreate      func(h *uintptr) int32
	cublasDestroy     func(h uintptr) int32
	cublasSetMathMode func(h uintptr, mode int32) int32
	cublasSgemm       func(h uintptr, ta, tb int32, m, n, k int32, alpha *float32, a uintptr, lda int32, b uintptr, ldb int32, beta *float32, c uintptr, ldc int32) int32
	blasSymbols       = []symbol{
		{"cublasCreate_v2", &cublasCreate},
		{"cublasDestroy_v2", &cublasDestroy},
		{"cublasSetMathMode", &cublasSetMathMode},
		{"cublasSgemm_v2", &cublasSgemm},
	}
)

// cuBLAS enum values used here.
const (
	blasOpN      = 0
	blasOpT      = 1
	blasDefault  = 0 // CUBLAS_DEFAULT_MATH: no TF32 unless NVIDIA_TF32_OVERRIDE says so
	blasPedantic = 2 // CUBLAS_PEDANTIC_MATH: full fp32 whatever the environment
)

func blasErr(call string, code int32) error { return statusErr("cuBLAS", call, code, nil) }

// gemm is C = alpha·op(A)·op(B) + beta·C in cuBLAS' column-major terms.
func (d *Device) gemm(ta, tb int32, m, n, k int, a uintptr, lda int, b uintptr, ldb int, beta float32, c uintptr, ldc int) error {
	alpha := float32(1)
	return blasErr("cublasSgemm", cublasSgemm(d.blas, ta, tb, int32(m), int32(n), int32(k), &alpha, a, int32(lda), b, int32(ldb), &beta, c, int32(ldc)))
}
