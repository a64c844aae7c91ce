//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// The AVX-512 twins of winoKernel4Scalar and winoKernel2Scalar: the same
// arithmetic on 16 output channels at a time, which lie side by side in
// one packed panel when the microkernel's nr is a multiple of 16.

func init() {
	if archsimd.X86.AVX512() {
		winoKernel4 = winoKernel4AVX512
		winoKernel2 = winoKernel2AVX512
	}
}

// winoKernel6x16 applies G of F(4x4) to three vectors (see winoKernel6).
func winoKernel6x16(g0, g1, g2 archsimd.Float32x16) (r0, r1, r2, r3, r4, r5 archsimd.Float32x16) {
	s := g0.Add(g2)
	p := g0.Mul(archsimd.BroadcastFloat32x16(1.0 / 24)).Add(g2.Mul(archsimd.BroadcastFloat32x16(1.0 / 6)))
	q := g1.Mul(archsimd.BroadcastFloat32x16(1.0 / 12))
	m6 := archsimd.BroadcastFloat32x16(-1.0 / 6)
	return g0.Mul(archsimd.BroadcastFloat32x16(0.25)), s.Add(g1).Mul(m6), s.Sub(g1).Mul(m6), p.Add(q), p.Sub(q), g2
}

// winoKernel4x16 applies G of F(2x2) to three vectors (see winoKernel4c).
func winoKernel4x16(g0, g1, g2 archsimd.Float32x16) (r0, r1, r2, r3 archsimd.Float32x16) {
	s := g0.Add(g2)
	half := archsimd.BroadcastFloat32x16(0.5)
	return g0, s.Add(g1).Mul(half), s.Sub(g1).Mul(half), g2
}

// winoKernelVectors is where the AVX-512 transforms, which take output
// channels 16 at a time from co0, stop; the scalar code does the rest.
func winoKernelVectors(co0, co1, nr int) int {
	if nr%16 != 0 || co0%16 != 0 {
		return co0
	}
	return co0 + (co1-co0)/16*16
}

func winoKernel4AVX512(kernel []float32, cin, cout, co0, co1 int, u []*PackedB) {
	stride, nr := cin*cout, u[0].kern.nr
	vec := winoKernelVectors(co0, co1, nr)
	for ci := 0; ci < cin; ci++ {
		src := kernel[ci*cout:]
		for co := co0; co < vec; co += 16 {
			var c [6][3]archsimd.Float32x16
			for l := 0; l < 3; l++ {
				c[0][l], c[1][l], c[2][l], c[3][l], c[4][l], c[5][l] = winoKernel6x16(
					archsimd.LoadFloat32x16(src[l*stride+co:][:16]),
					archsimd.LoadFloat32x16(src[(3+l)*stride+co:][:16]),
					archsimd.LoadFloat32x16(src[(6+l)*stride+co:][:16]))
			}
			off := packedOffset(ci, co, cin, nr)
			for i := 0; i < 6; i++ {
				r0, r1, r2, r3, r4, r5 := winoKernel6x16(c[i][0], c[i][1], c[i][2])
				r := u[i*6 : i*6+6]
				r0.Store(r[0].data[off:][:16])
				r1.Store(r[1].data[off:][:16])
				r2.Store(r[2].data[off:][:16])
				r3.Store(r[3].data[off:][:16])
				r4.Store(r[4].data[off:][:16])
				r5.Store(r[5].data[off:][:16])
			}
		}
		winoKernel4Row(kernel, cin, cout, ci, vec, co1, u)
	}
}

func winoKernel2AVX512(kernel []float32, cin, cout, co0, co1 int, u []*PackedB) {
	stride, nr := cin*cout, u[0].kern.nr
	vec := winoKernelVectors(co0, co1, nr)
	for ci := 0; ci < cin; ci++ {
		src := kernel[ci*cout:]
		for co := co0; co < vec; co += 16 {
			var c [4][3]archsimd.Float32x16
			for l := 0; l < 3; l++ {
				c[0][l], c[1][l], c[2][l], c[3][l] = winoKernel4x16(
					archsimd.LoadFloat32x16(src[l*stride+co:][:16]),
					archsimd.LoadFloat32x16(src[(3+l)*stride+co:][:16]),
					archsimd.LoadFloat32x16(src[(6+l)*stride+co:][:16]))
			}
			off := packedOffset(ci, co, cin, nr)
			for i := 0; i < 4; i++ {
				r0, r1, r2, r3 := winoKernel4x16(c[i][0], c[i][1], c[i][2])
				r := u[i*4 : i*4+4]
				r0.Store(r[0].data[off:][:16])
				r1.Store(r[1].data[off:][:16])
				r2.Store(r[2].data[off:][:16])
				r3.Store(r[3].data[off:][:16])
			}
		}
		winoKernel2Row(kernel, cin, cout, ci, vec, co1, u)
	}
}
