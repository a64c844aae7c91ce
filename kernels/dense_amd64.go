//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX512() {
		denseRows4 = denseRows4AVX512
	}
}

// denseRows4AVX512 is denseRows4Scalar 16 columns at a time (fused
// multiply-adds, so the last bits can differ from the scalar tail).
func denseRows4AVX512(y []float32, a0, a1, a2, a3 float32, k0, k1, k2, k3 []float32) {
	n := len(y)
	k0, k1, k2, k3 = k0[:n], k1[:n], k2[:n], k3[:n]
	v0, v1 := archsimd.BroadcastFloat32x16(a0), archsimd.BroadcastFloat32x16(a1)
	v2, v3 := archsimd.BroadcastFloat32x16(a2), archsimd.BroadcastFloat32x16(a3)
	j := 0
	for ; j+16 <= n; j += 16 {
		acc := archsimd.LoadFloat32x16(y[j : j+16])
		acc = archsimd.LoadFloat32x16(k0[j:j+16]).MulAdd(v0, acc)
		acc = archsimd.LoadFloat32x16(k1[j:j+16]).MulAdd(v1, acc)
		acc = archsimd.LoadFloat32x16(k2[j:j+16]).MulAdd(v2, acc)
		acc = archsimd.LoadFloat32x16(k3[j:j+16]).MulAdd(v3, acc)
		acc.Store(y[j : j+16])
	}
	if j < n {
		denseRows4Scalar(y[j:], a0, a1, a2, a3, k0[j:], k1[j:], k2[j:], k3[j:])
	}
}
