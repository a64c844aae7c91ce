//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// The AVX-512 twins of winoInput4Scalar and winoOutput4Scalar: the same
// arithmetic on 16 channels at a time. winograd_wasm.go holds the SIMD128
// copy (Float32x4); keep the two in step.

func init() {
	if archsimd.X86.AVX512() {
		winoInput4 = winoInput4AVX512
		winoOutput4 = winoOutput4AVX512
		winoInput2 = winoInput2AVX512
		winoOutput2 = winoOutput2AVX512
	}
}

// winoIn6x16 applies B^T of F(4x4) to six vectors (see winoIn6).
func winoIn6x16(d0, d1, d2, d3, d4, d5 archsimd.Float32x16) (r0, r1, r2, r3, r4, r5 archsimd.Float32x16) {
	two := archsimd.BroadcastFloat32x16(2)
	four := archsimd.BroadcastFloat32x16(4)
	five := archsimd.BroadcastFloat32x16(5)
	r0 = d0.Mul(four).Sub(d2.Mul(five)).Add(d4)
	r1 = d3.Add(d4).Sub(d1.Add(d2).Mul(four))
	r2 = d1.Sub(d2).Mul(four).Add(d4.Sub(d3))
	r3 = d3.Sub(d1).Mul(two).Add(d4.Sub(d2))
	r4 = d1.Sub(d3).Mul(two).Add(d4.Sub(d2))
	r5 = d1.Mul(four).Sub(d3.Mul(five)).Add(d5)
	return
}

// winoOut6x16 applies A^T of F(4x4) to six vectors (see winoOut6).
func winoOut6x16(m0, m1, m2, m3, m4, m5 archsimd.Float32x16) (o0, o1, o2, o3 archsimd.Float32x16) {
	two := archsimd.BroadcastFloat32x16(2)
	four := archsimd.BroadcastFloat32x16(4)
	eight := archsimd.BroadcastFloat32x16(8)
	s12, d12 := m1.Add(m2), m1.Sub(m2)
	s34, d34 := m3.Add(m4), m3.Sub(m4)
	o0 = m0.Add(s12).Add(s34)
	o1 = d12.Add(d34.Mul(two))
	o2 = s12.Add(s34.Mul(four))
	o3 = d12.Add(d34.Mul(eight)).Add(m5)
	return
}

// load16 loads nc ≤ 16 floats, zero-filling the rest of the vector.
func load16(s []float32, nc int) archsimd.Float32x16 {
	if nc == 16 {
		return archsimd.LoadFloat32x16(s[:16])
	}
	var buf [16]float32
	copy(buf[:nc], s[:nc])
	return archsimd.LoadFloat32x16Array(&buf)
}

// store16 stores the first nc ≤ 16 lanes of x.
func store16(x archsimd.Float32x16, s []float32, nc int) {
	if nc == 16 {
		x.Store(s[:16])
		return
	}
	var buf [16]float32
	x.StoreArray(&buf)
	copy(s[:nc], buf[:nc])
}

func winoInput4AVX512(in []float32, h, w, stride, nch, y0, x0 int, v []float32, plane int) {
	if y0 >= 0 && x0 >= 0 && y0+6 <= h && x0+6 <= w && nch%16 == 0 {
		winoInput4AVX512Interior(in, w, stride, nch, y0, x0, v, plane)
		return
	}
	var t [36]archsimd.Float32x16
	for c0 := 0; c0 < nch; c0 += 16 {
		nc := min(16, nch-c0)
		for i := 0; i < 6; i++ {
			var d [6]archsimd.Float32x16
			if y := y0 + i; y >= 0 && y < h {
				for j := 0; j < 6; j++ {
					if x := x0 + j; x >= 0 && x < w {
						d[j] = load16(in[(y*w+x)*stride+c0:], nc)
					}
				}
			}
			t[i*6], t[i*6+1], t[i*6+2], t[i*6+3], t[i*6+4], t[i*6+5] = winoIn6x16(d[0], d[1], d[2], d[3], d[4], d[5])
		}
		for j := 0; j < 6; j++ {
			r0, r1, r2, r3, r4, r5 := winoIn6x16(t[j], t[6+j], t[12+j], t[18+j], t[24+j], t[30+j])
			store16(r0, v[j*plane+c0:], nc)
			store16(r1, v[(6+j)*plane+c0:], nc)
			store16(r2, v[(12+j)*plane+c0:], nc)
			store16(r3, v[(18+j)*plane+c0:], nc)
			store16(r4, v[(24+j)*plane+c0:], nc)
			store16(r5, v[(30+j)*plane+c0:], nc)
		}
	}
}

func winoOutput4AVX512(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, h, w, y0, x0 int) {
	if y0+4 <= h && x0+4 <= w && cout%16 == 0 {
		winoOutput4AVX512Interior(mo, plane, cout, bias, relu, out, w, y0, x0)
		return
	}
	var t [24]archsimd.Float32x16 // t[j*4+i']: A^T applied down column j
	var zero archsimd.Float32x16
	rows, cols := min(4, h-y0), min(4, w-x0)
	for c0 := 0; c0 < cout; c0 += 16 {
		nc := min(16, cout-c0)
		b := load16(bias[c0:], nc)
		for j := 0; j < 6; j++ {
			t[j*4], t[j*4+1], t[j*4+2], t[j*4+3] = winoOut6x16(
				load16(mo[j*plane+c0:], nc), load16(mo[(6+j)*plane+c0:], nc), load16(mo[(12+j)*plane+c0:], nc),
				load16(mo[(18+j)*plane+c0:], nc), load16(mo[(24+j)*plane+c0:], nc), load16(mo[(30+j)*plane+c0:], nc))
		}
		for i := 0; i < rows; i++ {
			o0, o1, o2, o3 := winoOut6x16(t[i], t[4+i], t[8+i], t[12+i], t[16+i], t[20+i])
			o := [4]archsimd.Float32x16{o0, o1, o2, o3}
			for j := 0; j < cols; j++ {
				s := o[j].Add(b)
				if relu {
					s = s.Max(zero)
				}
				store16(s, out[((y0+i)*w+x0+j)*cout+c0:], nc)
			}
		}
	}
}

// winoIn4x16 applies B^T of F(2x2) to four vectors (see winoIn4).
func winoIn4x16(d0, d1, d2, d3 archsimd.Float32x16) (r0, r1, r2, r3 archsimd.Float32x16) {
	return d0.Sub(d2), d1.Add(d2), d2.Sub(d1), d1.Sub(d3)
}

// winoOut4x16 applies A^T of F(2x2) to four vectors (see winoOut4).
func winoOut4x16(m0, m1, m2, m3 archsimd.Float32x16) (o0, o1 archsimd.Float32x16) {
	return m0.Add(m1).Add(m2), m1.Sub(m2).Sub(m3)
}

func winoInput2AVX512(in []float32, h, w, stride, nch, y0, x0 int, v []float32, plane int) {
	var t [16]archsimd.Float32x16
	for c0 := 0; c0 < nch; c0 += 16 {
		nc := min(16, nch-c0)
		for i := 0; i < 4; i++ {
			var d [4]archsimd.Float32x16
			if y := y0 + i; y >= 0 && y < h {
				for j := 0; j < 4; j++ {
					if x := x0 + j; x >= 0 && x < w {
						d[j] = load16(in[(y*w+x)*stride+c0:], nc)
					}
				}
			}
			t[i*4], t[i*4+1], t[i*4+2], t[i*4+3] = winoIn4x16(d[0], d[1], d[2], d[3])
		}
		for j := 0; j < 4; j++ {
			r0, r1, r2, r3 := winoIn4x16(t[j], t[4+j], t[8+j], t[12+j])
			store16(r0, v[j*plane+c0:], nc)
			store16(r1, v[(4+j)*plane+c0:], nc)
			store16(r2, v[(8+j)*plane+c0:], nc)
			store16(r3, v[(12+j)*plane+c0:], nc)
		}
	}
}

func winoOutput2AVX512(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, h, w, y0, x0 int) {
	var zero archsimd.Float32x16
	rows, cols := min(2, h-y0), min(2, w-x0)
	for c0 := 0; c0 < cout; c0 += 16 {
		nc := min(16, cout-c0)
		b := load16(bias[c0:], nc)
		var t [8]archsimd.Float32x16 // t[j*2+i']: A^T applied down column j
		for j := 0; j < 4; j++ {
			t[j*2], t[j*2+1] = winoOut4x16(load16(mo[j*plane+c0:], nc), load16(mo[(4+j)*plane+c0:], nc),
				load16(mo[(8+j)*plane+c0:], nc), load16(mo[(12+j)*plane+c0:], nc))
		}
		for i := 0; i < rows; i++ {
			o0, o1 := winoOut4x16(t[i], t[2+i], t[4+i], t[6+i])
			o := [2]archsimd.Float32x16{o0, o1}
			for j := 0; j < cols; j++ {
				s := o[j].Add(b)
				if relu {
					s = s.Max(zero)
				}
				store16(s, out[((y0+i)*w+x0+j)*cout+c0:], nc)
			}
		}
	}
}
