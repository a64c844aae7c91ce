//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX2() {
		adamSpan = adamSpanAVX2
		adamSpans = append(adamSpans, struct {
			name string
			fn   func(a *Adam, w, g, m, v []float32)
		}{"avx2", adamSpanAVX2})
	}
	if archsimd.X86.AVX512() {
		adamSpan = adamSpanAVX512
		adamSpans = append(adamSpans, struct {
			name string
			fn   func(a *Adam, w, g, m, v []float32)
		}{"avx512", adamSpanAVX512})
	}
}

// adamSpanAVX512 is adamSpanScalar 8 elements at a time (8 float64 lanes
// fill a zmm register), the same operations in the same order.
func adamSpanAVX512(a *Adam, w, g, m, v []float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1, b2 := archsimd.BroadcastFloat32x8(a.Beta1), archsimd.BroadcastFloat32x8(a.Beta2)
	ob1, ob2 := archsimd.BroadcastFloat32x8(1-a.Beta1), archsimd.BroadcastFloat32x8(1-a.Beta2)
	lo, hi := archsimd.BroadcastFloat32x8(-a.Clip), archsimd.BroadcastFloat32x8(a.Clip)
	c1, c2 := archsimd.BroadcastFloat64x8(a.C1), archsimd.BroadcastFloat64x8(a.C2)
	lr, eps := archsimd.BroadcastFloat64x8(a.LR), archsimd.BroadcastFloat64x8(a.Eps)
	var zero archsimd.Float32x8
	j := 0
	for ; j+8 <= n; j += 8 {
		gj := archsimd.LoadFloat32x8(g[j : j+8])
		if a.Clip > 0 {
			gj = gj.Min(hi).Max(lo)
		}
		mj := b1.Mul(archsimd.LoadFloat32x8(m[j : j+8])).Add(ob1.Mul(gj))
		vj := b2.Mul(archsimd.LoadFloat32x8(v[j : j+8])).Add(ob2.Mul(gj).Mul(gj))
		mj.Store(m[j : j+8])
		vj.Store(v[j : j+8])
		mh := mj.ConvertToFloat64().Div(c1)
		vh := vj.ConvertToFloat64().Div(c2)
		upd := lr.Mul(mh).Div(vh.Sqrt().Add(eps)).ConvertToFloat32()
		archsimd.LoadFloat32x8(w[j : j+8]).Sub(upd).Store(w[j : j+8])
		zero.Store(g[j : j+8])
	}
	if j < n {
		adamSpanScalar(a, w[j:], g[j:], m[j:], v[j:])
	}
}

// adamSpanAVX2 is adamSpanScalar 4 elements at a time (4 float64 lanes of
// a ymm register).
func adamSpanAVX2(a *Adam, w, g, m, v []float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1, b2 := archsimd.BroadcastFloat32x4(a.Beta1), archsimd.BroadcastFloat32x4(a.Beta2)
	ob1, ob2 := archsimd.BroadcastFloat32x4(1-a.Beta1), archsimd.BroadcastFloat32x4(1-a.Beta2)
	lo, hi := archsimd.BroadcastFloat32x4(-a.Clip), archsimd.BroadcastFloat32x4(a.Clip)
	c1, c2 := archsimd.BroadcastFloat64x4(a.C1), archsimd.BroadcastFloat64x4(a.C2)
	lr, eps := archsimd.BroadcastFloat64x4(a.LR), archsimd.BroadcastFloat64x4(a.Eps)
	var zero archsimd.Float32x4
	j := 0
	for ; j+4 <= n; j += 4 {
		gj := archsimd.LoadFloat32x4(g[j : j+4])
		if a.Clip > 0 {
			gj = gj.Min(hi).Max(lo)
		}
		mj := b1.Mul(archsimd.LoadFloat32x4(m[j : j+4])).Add(ob1.Mul(gj))
		vj := b2.Mul(archsimd.LoadFloat32x4(v[j : j+4])).Add(ob2.Mul(gj).Mul(gj))
		mj.Store(m[j : j+4])
		vj.Store(v[j : j+4])
		mh := mj.ConvertToFloat64().Div(c1)
		vh := vj.ConvertToFloat64().Div(c2)
		upd := lr.Mul(mh).Div(vh.Sqrt().Add(eps)).ConvertToFloat32()
		archsimd.LoadFloat32x4(w[j : j+4]).Sub(upd).Store(w[j : j+4])
		zero.Store(g[j : j+4])
	}
	if j < n {
		adamSpanScalar(a, w[j:], g[j:], m[j:], v[j:])
	}
}
