//go:build goexperiment.simd && wasm

package kernels

import "simd/archsimd"

// The SIMD128 twins of winoInput4Scalar and winoOutput4Scalar: the same
// arithmetic on 4 channels at a time. This file is winograd_amd64.go with
// Float32x4 replaced by Float32x4; keep the two in step.

func init() {
	winoInput4 = winoInput4SIMD128
	winoOutput4 = winoOutput4SIMD128
}

// winoIn6x4 applies B^T of F(4x4) to six vectors (see winoIn6).
func winoIn6x4(d0, d1, d2, d3, d4, d5 archsimd.Float32x4) (r0, r1, r2, r3, r4, r5 archsimd.Float32x4) {
	two := archsimd.BroadcastFloat32x4(2)
	four := archsimd.BroadcastFloat32x4(4)
	five := archsimd.BroadcastFloat32x4(5)
	r0 = d0.Mul(four).Sub(d2.Mul(five)).Add(d4)
	r1 = d3.Add(d4).Sub(d1.Add(d2).Mul(four))
	r2 = d1.Sub(d2).Mul(four).Add(d4.Sub(d3))
	r3 = d3.Sub(d1).Mul(two).Add(d4.Sub(d2))
	r4 = d1.Sub(d3).Mul(two).Add(d4.Sub(d2))
	r5 = d1.Mul(four).Sub(d3.Mul(five)).Add(d5)
	return
}

// winoOut6x4 applies A^T of F(4x4) to six vectors (see winoOut6).
func winoOut6x4(m0, m1, m2, m3, m4, m5 archsimd.Float32x4) (o0, o1, o2, o3 archsimd.Float32x4) {
	two := archsimd.BroadcastFloat32x4(2)
	four := archsimd.BroadcastFloat32x4(4)
	eight := archsimd.BroadcastFloat32x4(8)
	s12, d12 := m1.Add(m2), m1.Sub(m2)
	s34, d34 := m3.Add(m4), m3.Sub(m4)
	o0 = m0.Add(s12).Add(s34)
	o1 = d12.Add(d34.Mul(two))
	o2 = s12.Add(s34.Mul(four))
	o3 = d12.Add(d34.Mul(eight)).Add(m5)
	return
}

// load4 loads nc ≤ 4 floats, zero-filling the rest of the vector.
func load4(s []float32, nc int) archsimd.Float32x4 {
	if nc == 4 {
		return archsimd.LoadFloat32x4(s[:4])
	}
	var buf [4]float32
	copy(buf[:nc], s[:nc])
	return archsimd.LoadFloat32x4Array(&buf)
}

// store4 stores the first nc ≤ 4 lanes of x.
func store4(x archsimd.Float32x4, s []float32, nc int) {
	if nc == 4 {
		x.Store(s[:4])
		return
	}
	var buf [4]float32
	x.StoreArray(&buf)
	copy(s[:nc], buf[:nc])
}

func winoInput4SIMD128(in []float32, h, w, stride, nch, y0, x0 int, v []float32, plane int) {
	if nch%4 == 0 {
		if y0 >= 0 && x0 >= 0 && y0+6 <= h && x0+6 <= w {
			winoInput4SIMD128Interior(in, w, stride, nch, y0, x0, v, plane)
		} else {
			winoInput4SIMD128Edge(in, h, w, stride, nch, y0, x0, v, plane)
		}
		return
	}
	var t [36]archsimd.Float32x4
	for c0 := 0; c0 < nch; c0 += 4 {
		nc := min(4, nch-c0)
		for i := 0; i < 6; i++ {
			var d [6]archsimd.Float32x4
			if y := y0 + i; y >= 0 && y < h {
				for j := 0; j < 6; j++ {
					if x := x0 + j; x >= 0 && x < w {
						d[j] = load4(in[(y*w+x)*stride+c0:], nc)
					}
				}
			}
			t[i*6], t[i*6+1], t[i*6+2], t[i*6+3], t[i*6+4], t[i*6+5] = winoIn6x4(d[0], d[1], d[2], d[3], d[4], d[5])
		}
		for j := 0; j < 6; j++ {
			r0, r1, r2, r3, r4, r5 := winoIn6x4(t[j], t[6+j], t[12+j], t[18+j], t[24+j], t[30+j])
			store4(r0, v[j*plane+c0:], nc)
			store4(r1, v[(6+j)*plane+c0:], nc)
			store4(r2, v[(12+j)*plane+c0:], nc)
			store4(r3, v[(18+j)*plane+c0:], nc)
			store4(r4, v[(24+j)*plane+c0:], nc)
			store4(r5, v[(30+j)*plane+c0:], nc)
		}
	}
}

func winoOutput4SIMD128(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, h, w, y0, x0 int) {
	if cout%4 == 0 {
		if y0+4 <= h && x0+4 <= w {
			winoOutput4SIMD128Interior(mo, plane, cout, bias, relu, out, w, y0, x0)
		} else {
			winoOutput4SIMD128Edge(mo, plane, cout, bias, relu, out, h, w, y0, x0)
		}
		return
	}
	var t [24]archsimd.Float32x4 // t[j*4+i']: A^T applied down column j
	var zero archsimd.Float32x4
	rows, cols := min(4, h-y0), min(4, w-x0)
	for c0 := 0; c0 < cout; c0 += 4 {
		nc := min(4, cout-c0)
		b := load4(bias[c0:], nc)
		for j := 0; j < 6; j++ {
			t[j*4], t[j*4+1], t[j*4+2], t[j*4+3] = winoOut6x4(
				load4(mo[j*plane+c0:], nc), load4(mo[(6+j)*plane+c0:], nc), load4(mo[(12+j)*plane+c0:], nc),
				load4(mo[(18+j)*plane+c0:], nc), load4(mo[(24+j)*plane+c0:], nc), load4(mo[(30+j)*plane+c0:], nc))
		}
		for i := 0; i < rows; i++ {
			o0, o1, o2, o3 := winoOut6x4(t[i], t[4+i], t[8+i], t[12+i], t[16+i], t[20+i])
			o := [4]archsimd.Float32x4{o0, o1, o2, o3}
			for j := 0; j < cols; j++ {
				s := o[j].Add(b)
				if relu {
					s = s.Max(zero)
				}
				store4(s, out[((y0+i)*w+x0+j)*cout+c0:], nc)
			}
		}
	}
}

// Interior fast paths in wasm assembly (winograd_simd128_wasm.s). Go's
// wasm backend keeps SIMD values in linear memory, which made the Go
// versions of these transforms barely faster than scalar code; the
// assembly keeps all vectors in wasm locals. Byte strides throughout.

//go:noescape
func winoIn4WasmAsm(src *float32, rowStep, colStep int, dst *float32, plane int, tmp *float32, chunks int)

//go:noescape
func winoOut4WasmAsm(mo *float32, plane int, bias, dst *float32, rowStep, colStep int, tmp *float32, chunks int)

//go:noescape
func winoOut4ReLUWasmAsm(mo *float32, plane int, bias, dst *float32, rowStep, colStep int, tmp *float32, chunks int)

// winoInput4SIMD128Interior transforms a tile whose 6x6 patch lies inside
// the image, nch a multiple of 4, after checking every address it touches.
func winoInput4SIMD128Interior(in []float32, w, stride, nch, y0, x0 int, v []float32, plane int) {
	if nch == 0 {
		return
	}
	base := (y0*w + x0) * stride
	if base < 0 || base+5*w*stride+5*stride+nch > len(in) || 35*plane+nch > len(v) {
		panic("kernels: winoInput4SIMD128Interior: buffer too short")
	}
	var tmp [36 * 4]float32
	winoIn4WasmAsm(&in[base], w*stride*4, stride*4, &v[0], plane*4, &tmp[0], nch/4)
}

// winoOutput4SIMD128Interior transforms a full 4x4 tile inside the image,
// cout a multiple of 4, after checking every address it touches.
func winoOutput4SIMD128Interior(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, w, y0, x0 int) {
	if cout == 0 {
		return
	}
	base := (y0*w + x0) * cout
	if base < 0 || base+3*w*cout+3*cout+cout > len(out) || 35*plane+cout > len(mo) || len(bias) < cout {
		panic("kernels: winoOutput4SIMD128Interior: buffer too short")
	}
	var tmp [24 * 4]float32
	if relu {
		winoOut4ReLUWasmAsm(&mo[0], plane*4, &bias[0], &out[base], w*cout*4, cout*4, &tmp[0], cout/4)
	} else {
		winoOut4WasmAsm(&mo[0], plane*4, &bias[0], &out[base], w*cout*4, cout*4, &tmp[0], cout/4)
	}
}

// winoEdgeGroup is how many channels the edge paths stage at once.
const winoEdgeGroup = 64

// winoInput4SIMD128Edge handles a tile that hangs over the image edge: it
// copies the patch, zero padding included, into a small buffer laid out as
// its own 6x6 image and runs the assembly transform on that.
func winoInput4SIMD128Edge(in []float32, h, w, stride, nch, y0, x0 int, v []float32, plane int) {
	if 35*plane+nch > len(v) {
		panic("kernels: winoInput4SIMD128Edge: buffer too short")
	}
	var patch [36 * winoEdgeGroup]float32
	var tmp [36 * 4]float32
	for c0 := 0; c0 < nch; c0 += winoEdgeGroup {
		g := min(winoEdgeGroup, nch-c0)
		for i := 0; i < 6; i++ {
			for j := 0; j < 6; j++ {
				dst := patch[(i*6+j)*g : (i*6+j+1)*g]
				if y, x := y0+i, x0+j; y >= 0 && y < h && x >= 0 && x < w {
					copy(dst, in[(y*w+x)*stride+c0:(y*w+x)*stride+c0+g])
				} else {
					clear(dst)
				}
			}
		}
		winoIn4WasmAsm(&patch[0], 6*g*4, g*4, &v[c0], plane*4, &tmp[0], g/4)
	}
}

// winoOutput4SIMD128Edge handles a partial tile at the image edge: the
// assembly writes the full 4x4 tile into a small buffer and the pixels
// inside the image are copied out.
func winoOutput4SIMD128Edge(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, h, w, y0, x0 int) {
	if 35*plane+cout > len(mo) || len(bias) < cout {
		panic("kernels: winoOutput4SIMD128Edge: buffer too short")
	}
	var tile [16 * winoEdgeGroup]float32
	var tmp [24 * 4]float32
	rows, cols := min(4, h-y0), min(4, w-x0)
	for c0 := 0; c0 < cout; c0 += winoEdgeGroup {
		g := min(winoEdgeGroup, cout-c0)
		if relu {
			winoOut4ReLUWasmAsm(&mo[c0], plane*4, &bias[c0], &tile[0], 4*g*4, g*4, &tmp[0], g/4)
		} else {
			winoOut4WasmAsm(&mo[c0], plane*4, &bias[c0], &tile[0], 4*g*4, g*4, &tmp[0], g/4)
		}
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				o := ((y0+i)*w + x0 + j) * cout
				copy(out[o+c0:o+c0+g], tile[(i*4+j)*g:(i*4+j+1)*g])
			}
		}
	}
}
