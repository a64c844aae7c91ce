//go:build goexperiment.simd && wasm

package kernels

import "simd/archsimd"

func init() {
	maxPoolPixel = maxPoolPixelSIMD128
}

// maxPoolPixelSIMD128 is maxPoolPixelScalar 4 channels at a time.
func maxPoolPixelSIMD128(dst, a, b, c, d []float32) {
	n := len(a)
	b, c, d, dst = b[:n], c[:n], d[:n], dst[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		m := archsimd.LoadFloat32x4(a[i : i+4]).Max(archsimd.LoadFloat32x4(b[i : i+4]))
		m = m.Max(archsimd.LoadFloat32x4(c[i : i+4])).Max(archsimd.LoadFloat32x4(d[i : i+4]))
		m.Store(dst[i : i+4])
	}
	if i < n {
		maxPoolPixelScalar(dst[i:], a[i:], b[i:], c[i:], d[i:])
	}
}
