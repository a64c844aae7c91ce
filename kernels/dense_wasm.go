//go:build goexperiment.simd && wasm

package kernels

import "simd/archsimd"

func init() {
	denseRows4 = denseRows4SIMD128
}

// denseRows4SIMD128 is denseRows4Scalar 4 columns at a time (separate
// multiply and add, as the scalar version).
func denseRows4SIMD128(y []float32, a0, a1, a2, a3 float32, k0, k1, k2, k3 []float32) {
	n := len(y)
	k0, k1, k2, k3 = k0[:n], k1[:n], k2[:n], k3[:n]
	v0, v1 := archsimd.BroadcastFloat32x4(a0), archsimd.BroadcastFloat32x4(a1)
	v2, v3 := archsimd.BroadcastFloat32x4(a2), archsimd.BroadcastFloat32x4(a3)
	j := 0
	for ; j+4 <= n; j += 4 {
		acc := archsimd.LoadFloat32x4(y[j : j+4])
		acc = acc.Add(archsimd.LoadFloat32x4(k0[j : j+4]).Mul(v0))
		acc = acc.Add(archsimd.LoadFloat32x4(k1[j : j+4]).Mul(v1))
		acc = acc.Add(archsimd.LoadFloat32x4(k2[j : j+4]).Mul(v2))
		acc = acc.Add(archsimd.LoadFloat32x4(k3[j : j+4]).Mul(v3))
		acc.Store(y[j : j+4])
	}
	if j < n {
		denseRows4Scalar(y[j:], a0, a1, a2, a3, k0[j:], k1[j:], k2[j:], k3[j:])
	}
}
