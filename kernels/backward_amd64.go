//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX2() {
		reluBackwardSpan = reluBackwardAVX2
		reluBackwardSpans = append(reluBackwardSpans, namedReLUBackward{"avx2", reluBackwardAVX2})
	}
	if archsimd.X86.AVX512() {
		reluBackwardSpan = reluBackwardAVX512
		reluBackwardSpans = append(reluBackwardSpans, namedReLUBackward{"avx512", reluBackwardAVX512})
	}
}

// reluBackwardAVX512 is reluBackwardScalar 16 lanes at a time: dy where
// y > 0 (false for NaN), else +0.
func reluBackwardAVX512(y, dy, dx []float32) {
	n := len(y)
	dy, dx = dy[:n], dx[:n]
	var zero archsimd.Float32x16
	i := 0
	for ; i+16 <= n; i += 16 {
		pos := archsimd.LoadFloat32x16(y[i : i+16]).Greater(zero)
		archsimd.LoadFloat32x16(dy[i : i+16]).Masked(pos).Store(dx[i : i+16])
	}
	if i < n {
		reluBackwardScalar(y[i:], dy[i:], dx[i:])
	}
}

// reluBackwardAVX2 is reluBackwardScalar 8 lanes at a time.
func reluBackwardAVX2(y, dy, dx []float32) {
	n := len(y)
	dy, dx = dy[:n], dx[:n]
	var zero archsimd.Float32x8
	i := 0
	for ; i+8 <= n; i += 8 {
		pos := archsimd.LoadFloat32x8(y[i : i+8]).Greater(zero)
		archsimd.LoadFloat32x8(dy[i : i+8]).Masked(pos).Store(dx[i : i+8])
	}
	if i < n {
		reluBackwardScalar(y[i:], dy[i:], dx[i:])
	}
}
