//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX512() {
		maxPoolPixel = maxPoolPixelAVX512
	}
}

// maxPoolPixelAVX512 is maxPoolPixelScalar 16 channels at a time.
func maxPoolPixelAVX512(dst, a, b, c, d []float32) {
	n := len(a)
	b, c, d, dst = b[:n], c[:n], d[:n], dst[:n]
	i := 0
	for ; i+16 <= n; i += 16 {
		m := archsimd.LoadFloat32x16(a[i : i+16]).Max(archsimd.LoadFloat32x16(b[i : i+16]))
		m = m.Max(archsimd.LoadFloat32x16(c[i : i+16])).Max(archsimd.LoadFloat32x16(d[i : i+16]))
		m.Store(dst[i : i+16])
	}
	if i < n {
		maxPoolPixelScalar(dst[i:], a[i:], b[i:], c[i:], d[i:])
	}
}
