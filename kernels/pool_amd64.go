//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX512() {
		maxPoolPixel = maxPoolPixelAVX512
		maxPoolBackPixel = maxPoolBackPixelAVX512
		maxPoolBackPixels = append(maxPoolBackPixels, namedMaxPoolBack{"avx512", maxPoolBackPixelAVX512})
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

// maxPoolBackPixelAVX512 is maxPoolBackPixelScalar 16 channels at a time:
// the same chain of comparisons (Greater is false for NaN, like >) as
// masks, and the gradient peeled off the later winners first.
func maxPoolBackPixelAVX512(da, db, dc, dd, a, b, c, d, g []float32) {
	n := len(g)
	da, db, dc, dd = da[:n], db[:n], dc[:n], dd[:n]
	a, b, c, d = a[:n], b[:n], c[:n], d[:n]
	var zero archsimd.Float32x16
	i := 0
	for ; i+16 <= n; i += 16 {
		m := archsimd.LoadFloat32x16(a[i : i+16])
		vb := archsimd.LoadFloat32x16(b[i : i+16])
		g1 := vb.Greater(m)
		m = vb.IfElse(g1, m)
		vc := archsimd.LoadFloat32x16(c[i : i+16])
		g2 := vc.Greater(m)
		m = vc.IfElse(g2, m)
		g3 := archsimd.LoadFloat32x16(d[i : i+16]).Greater(m)
		v := archsimd.LoadFloat32x16(g[i : i+16])
		v.Masked(g3).Store(dd[i : i+16])
		v = zero.IfElse(g3, v)
		v.Masked(g2).Store(dc[i : i+16])
		v = zero.IfElse(g2, v)
		v.Masked(g1).Store(db[i : i+16])
		zero.IfElse(g1, v).Store(da[i : i+16])
	}
	if i < n {
		maxPoolBackPixelScalar(da[i:], db[i:], dc[i:], dd[i:], a[i:], b[i:], c[i:], d[i:], g[i:])
	}
}
