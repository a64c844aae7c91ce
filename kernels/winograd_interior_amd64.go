//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// Fast paths of the F(4x4) transforms for the common case: a tile away
// from the image edge and a channel count that fills whole vectors.
// Fully unrolled (mechanically, from winoIn6/winoOut6) so every
// intermediate is a local the compiler can keep in registers instead of
// an indexed array; the edge and tail cases stay in winograd_amd64.go.

// winoInput4AVX512Interior is the input transform of a tile whose 6x6 patch
// lies inside the image, for nch a multiple of 16: fully unrolled, every
// value a local, so the compiler keeps them out of memory.
func winoInput4AVX512Interior(in []float32, w, stride, nch, y0, x0 int, v []float32, plane int) {
	base := (y0*w + x0) * stride
	rowStep := w * stride
	for c0 := 0; c0+16 <= nch; c0 += 16 {
		p0 := base + 0*rowStep + c0
		t00, t01, t02, t03, t04, t05 := winoIn6x16(archsimd.LoadFloat32x16(in[p0+0*stride:p0+0*stride+16]), archsimd.LoadFloat32x16(in[p0+1*stride:p0+1*stride+16]), archsimd.LoadFloat32x16(in[p0+2*stride:p0+2*stride+16]), archsimd.LoadFloat32x16(in[p0+3*stride:p0+3*stride+16]), archsimd.LoadFloat32x16(in[p0+4*stride:p0+4*stride+16]), archsimd.LoadFloat32x16(in[p0+5*stride:p0+5*stride+16]))
		p1 := base + 1*rowStep + c0
		t10, t11, t12, t13, t14, t15 := winoIn6x16(archsimd.LoadFloat32x16(in[p1+0*stride:p1+0*stride+16]), archsimd.LoadFloat32x16(in[p1+1*stride:p1+1*stride+16]), archsimd.LoadFloat32x16(in[p1+2*stride:p1+2*stride+16]), archsimd.LoadFloat32x16(in[p1+3*stride:p1+3*stride+16]), archsimd.LoadFloat32x16(in[p1+4*stride:p1+4*stride+16]), archsimd.LoadFloat32x16(in[p1+5*stride:p1+5*stride+16]))
		p2 := base + 2*rowStep + c0
		t20, t21, t22, t23, t24, t25 := winoIn6x16(archsimd.LoadFloat32x16(in[p2+0*stride:p2+0*stride+16]), archsimd.LoadFloat32x16(in[p2+1*stride:p2+1*stride+16]), archsimd.LoadFloat32x16(in[p2+2*stride:p2+2*stride+16]), archsimd.LoadFloat32x16(in[p2+3*stride:p2+3*stride+16]), archsimd.LoadFloat32x16(in[p2+4*stride:p2+4*stride+16]), archsimd.LoadFloat32x16(in[p2+5*stride:p2+5*stride+16]))
		p3 := base + 3*rowStep + c0
		t30, t31, t32, t33, t34, t35 := winoIn6x16(archsimd.LoadFloat32x16(in[p3+0*stride:p3+0*stride+16]), archsimd.LoadFloat32x16(in[p3+1*stride:p3+1*stride+16]), archsimd.LoadFloat32x16(in[p3+2*stride:p3+2*stride+16]), archsimd.LoadFloat32x16(in[p3+3*stride:p3+3*stride+16]), archsimd.LoadFloat32x16(in[p3+4*stride:p3+4*stride+16]), archsimd.LoadFloat32x16(in[p3+5*stride:p3+5*stride+16]))
		p4 := base + 4*rowStep + c0
		t40, t41, t42, t43, t44, t45 := winoIn6x16(archsimd.LoadFloat32x16(in[p4+0*stride:p4+0*stride+16]), archsimd.LoadFloat32x16(in[p4+1*stride:p4+1*stride+16]), archsimd.LoadFloat32x16(in[p4+2*stride:p4+2*stride+16]), archsimd.LoadFloat32x16(in[p4+3*stride:p4+3*stride+16]), archsimd.LoadFloat32x16(in[p4+4*stride:p4+4*stride+16]), archsimd.LoadFloat32x16(in[p4+5*stride:p4+5*stride+16]))
		p5 := base + 5*rowStep + c0
		t50, t51, t52, t53, t54, t55 := winoIn6x16(archsimd.LoadFloat32x16(in[p5+0*stride:p5+0*stride+16]), archsimd.LoadFloat32x16(in[p5+1*stride:p5+1*stride+16]), archsimd.LoadFloat32x16(in[p5+2*stride:p5+2*stride+16]), archsimd.LoadFloat32x16(in[p5+3*stride:p5+3*stride+16]), archsimd.LoadFloat32x16(in[p5+4*stride:p5+4*stride+16]), archsimd.LoadFloat32x16(in[p5+5*stride:p5+5*stride+16]))
		r00, r10, r20, r30, r40, r50 := winoIn6x16(t00, t10, t20, t30, t40, t50)
		r01, r11, r21, r31, r41, r51 := winoIn6x16(t01, t11, t21, t31, t41, t51)
		r02, r12, r22, r32, r42, r52 := winoIn6x16(t02, t12, t22, t32, t42, t52)
		r03, r13, r23, r33, r43, r53 := winoIn6x16(t03, t13, t23, t33, t43, t53)
		r04, r14, r24, r34, r44, r54 := winoIn6x16(t04, t14, t24, t34, t44, t54)
		r05, r15, r25, r35, r45, r55 := winoIn6x16(t05, t15, t25, t35, t45, t55)
		r00.Store(v[0*plane+c0 : 0*plane+c0+16])
		r01.Store(v[1*plane+c0 : 1*plane+c0+16])
		r02.Store(v[2*plane+c0 : 2*plane+c0+16])
		r03.Store(v[3*plane+c0 : 3*plane+c0+16])
		r04.Store(v[4*plane+c0 : 4*plane+c0+16])
		r05.Store(v[5*plane+c0 : 5*plane+c0+16])
		r10.Store(v[6*plane+c0 : 6*plane+c0+16])
		r11.Store(v[7*plane+c0 : 7*plane+c0+16])
		r12.Store(v[8*plane+c0 : 8*plane+c0+16])
		r13.Store(v[9*plane+c0 : 9*plane+c0+16])
		r14.Store(v[10*plane+c0 : 10*plane+c0+16])
		r15.Store(v[11*plane+c0 : 11*plane+c0+16])
		r20.Store(v[12*plane+c0 : 12*plane+c0+16])
		r21.Store(v[13*plane+c0 : 13*plane+c0+16])
		r22.Store(v[14*plane+c0 : 14*plane+c0+16])
		r23.Store(v[15*plane+c0 : 15*plane+c0+16])
		r24.Store(v[16*plane+c0 : 16*plane+c0+16])
		r25.Store(v[17*plane+c0 : 17*plane+c0+16])
		r30.Store(v[18*plane+c0 : 18*plane+c0+16])
		r31.Store(v[19*plane+c0 : 19*plane+c0+16])
		r32.Store(v[20*plane+c0 : 20*plane+c0+16])
		r33.Store(v[21*plane+c0 : 21*plane+c0+16])
		r34.Store(v[22*plane+c0 : 22*plane+c0+16])
		r35.Store(v[23*plane+c0 : 23*plane+c0+16])
		r40.Store(v[24*plane+c0 : 24*plane+c0+16])
		r41.Store(v[25*plane+c0 : 25*plane+c0+16])
		r42.Store(v[26*plane+c0 : 26*plane+c0+16])
		r43.Store(v[27*plane+c0 : 27*plane+c0+16])
		r44.Store(v[28*plane+c0 : 28*plane+c0+16])
		r45.Store(v[29*plane+c0 : 29*plane+c0+16])
		r50.Store(v[30*plane+c0 : 30*plane+c0+16])
		r51.Store(v[31*plane+c0 : 31*plane+c0+16])
		r52.Store(v[32*plane+c0 : 32*plane+c0+16])
		r53.Store(v[33*plane+c0 : 33*plane+c0+16])
		r54.Store(v[34*plane+c0 : 34*plane+c0+16])
		r55.Store(v[35*plane+c0 : 35*plane+c0+16])
	}
}

// winoOutput4AVX512Interior is the output transform of a full 4x4 tile inside
// the image, for cout a multiple of 16, unrolled like the input one.
func winoOutput4AVX512Interior(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, w, y0, x0 int) {
	var zero archsimd.Float32x16
	base := (y0*w + x0) * cout
	rowStep := w * cout
	for c0 := 0; c0+16 <= cout; c0 += 16 {
		b := archsimd.LoadFloat32x16(bias[c0 : c0+16])
		c00, c01, c02, c03 := winoOut6x16(archsimd.LoadFloat32x16(mo[0*plane+c0:0*plane+c0+16]), archsimd.LoadFloat32x16(mo[6*plane+c0:6*plane+c0+16]), archsimd.LoadFloat32x16(mo[12*plane+c0:12*plane+c0+16]), archsimd.LoadFloat32x16(mo[18*plane+c0:18*plane+c0+16]), archsimd.LoadFloat32x16(mo[24*plane+c0:24*plane+c0+16]), archsimd.LoadFloat32x16(mo[30*plane+c0:30*plane+c0+16]))
		c10, c11, c12, c13 := winoOut6x16(archsimd.LoadFloat32x16(mo[1*plane+c0:1*plane+c0+16]), archsimd.LoadFloat32x16(mo[7*plane+c0:7*plane+c0+16]), archsimd.LoadFloat32x16(mo[13*plane+c0:13*plane+c0+16]), archsimd.LoadFloat32x16(mo[19*plane+c0:19*plane+c0+16]), archsimd.LoadFloat32x16(mo[25*plane+c0:25*plane+c0+16]), archsimd.LoadFloat32x16(mo[31*plane+c0:31*plane+c0+16]))
		c20, c21, c22, c23 := winoOut6x16(archsimd.LoadFloat32x16(mo[2*plane+c0:2*plane+c0+16]), archsimd.LoadFloat32x16(mo[8*plane+c0:8*plane+c0+16]), archsimd.LoadFloat32x16(mo[14*plane+c0:14*plane+c0+16]), archsimd.LoadFloat32x16(mo[20*plane+c0:20*plane+c0+16]), archsimd.LoadFloat32x16(mo[26*plane+c0:26*plane+c0+16]), archsimd.LoadFloat32x16(mo[32*plane+c0:32*plane+c0+16]))
		c30, c31, c32, c33 := winoOut6x16(archsimd.LoadFloat32x16(mo[3*plane+c0:3*plane+c0+16]), archsimd.LoadFloat32x16(mo[9*plane+c0:9*plane+c0+16]), archsimd.LoadFloat32x16(mo[15*plane+c0:15*plane+c0+16]), archsimd.LoadFloat32x16(mo[21*plane+c0:21*plane+c0+16]), archsimd.LoadFloat32x16(mo[27*plane+c0:27*plane+c0+16]), archsimd.LoadFloat32x16(mo[33*plane+c0:33*plane+c0+16]))
		c40, c41, c42, c43 := winoOut6x16(archsimd.LoadFloat32x16(mo[4*plane+c0:4*plane+c0+16]), archsimd.LoadFloat32x16(mo[10*plane+c0:10*plane+c0+16]), archsimd.LoadFloat32x16(mo[16*plane+c0:16*plane+c0+16]), archsimd.LoadFloat32x16(mo[22*plane+c0:22*plane+c0+16]), archsimd.LoadFloat32x16(mo[28*plane+c0:28*plane+c0+16]), archsimd.LoadFloat32x16(mo[34*plane+c0:34*plane+c0+16]))
		c50, c51, c52, c53 := winoOut6x16(archsimd.LoadFloat32x16(mo[5*plane+c0:5*plane+c0+16]), archsimd.LoadFloat32x16(mo[11*plane+c0:11*plane+c0+16]), archsimd.LoadFloat32x16(mo[17*plane+c0:17*plane+c0+16]), archsimd.LoadFloat32x16(mo[23*plane+c0:23*plane+c0+16]), archsimd.LoadFloat32x16(mo[29*plane+c0:29*plane+c0+16]), archsimd.LoadFloat32x16(mo[35*plane+c0:35*plane+c0+16]))
		o00, o01, o02, o03 := winoOut6x16(c00, c10, c20, c30, c40, c50)
		o10, o11, o12, o13 := winoOut6x16(c01, c11, c21, c31, c41, c51)
		o20, o21, o22, o23 := winoOut6x16(c02, c12, c22, c32, c42, c52)
		o30, o31, o32, o33 := winoOut6x16(c03, c13, c23, c33, c43, c53)
		o00 = o00.Add(b)
		o01 = o01.Add(b)
		o02 = o02.Add(b)
		o03 = o03.Add(b)
		o10 = o10.Add(b)
		o11 = o11.Add(b)
		o12 = o12.Add(b)
		o13 = o13.Add(b)
		o20 = o20.Add(b)
		o21 = o21.Add(b)
		o22 = o22.Add(b)
		o23 = o23.Add(b)
		o30 = o30.Add(b)
		o31 = o31.Add(b)
		o32 = o32.Add(b)
		o33 = o33.Add(b)
		if relu {
			o00 = o00.Max(zero)
			o01 = o01.Max(zero)
			o02 = o02.Max(zero)
			o03 = o03.Max(zero)
			o10 = o10.Max(zero)
			o11 = o11.Max(zero)
			o12 = o12.Max(zero)
			o13 = o13.Max(zero)
			o20 = o20.Max(zero)
			o21 = o21.Max(zero)
			o22 = o22.Max(zero)
			o23 = o23.Max(zero)
			o30 = o30.Max(zero)
			o31 = o31.Max(zero)
			o32 = o32.Max(zero)
			o33 = o33.Max(zero)
		}
		q0 := base + 0*rowStep + c0
		o00.Store(out[q0+0*cout : q0+0*cout+16])
		o01.Store(out[q0+1*cout : q0+1*cout+16])
		o02.Store(out[q0+2*cout : q0+2*cout+16])
		o03.Store(out[q0+3*cout : q0+3*cout+16])
		q1 := base + 1*rowStep + c0
		o10.Store(out[q1+0*cout : q1+0*cout+16])
		o11.Store(out[q1+1*cout : q1+1*cout+16])
		o12.Store(out[q1+2*cout : q1+2*cout+16])
		o13.Store(out[q1+3*cout : q1+3*cout+16])
		q2 := base + 2*rowStep + c0
		o20.Store(out[q2+0*cout : q2+0*cout+16])
		o21.Store(out[q2+1*cout : q2+1*cout+16])
		o22.Store(out[q2+2*cout : q2+2*cout+16])
		o23.Store(out[q2+3*cout : q2+3*cout+16])
		q3 := base + 3*rowStep + c0
		o30.Store(out[q3+0*cout : q3+0*cout+16])
		o31.Store(out[q3+1*cout : q3+1*cout+16])
		o32.Store(out[q3+2*cout : q3+2*cout+16])
		o33.Store(out[q3+3*cout : q3+3*cout+16])
	}
}
