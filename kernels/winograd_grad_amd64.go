//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// The AVX-512 twins of winoGradOutput4Scalar and winoGradOutput2Scalar: the
// same arithmetic on 16 channels at a time.

func init() {
	if archsimd.X86.AVX512() {
		winoGradOutput4 = winoGradOutput4AVX512
		winoGradOutput2 = winoGradOutput2AVX512
	}
}

// winoGradOut6x16 applies A of F(4x4) to four vectors (see winoGradOut6).
func winoGradOut6x16(d0, d1, d2, d3 archsimd.Float32x16) (r0, r1, r2, r3, r4, r5 archsimd.Float32x16) {
	s02, s13 := d0.Add(d2), d1.Add(d3)
	p := d0.Add(d2.Mul(archsimd.BroadcastFloat32x16(4)))
	q := d1.Mul(archsimd.BroadcastFloat32x16(2)).Add(d3.Mul(archsimd.BroadcastFloat32x16(8)))
	return d0, s02.Add(s13), s02.Sub(s13), p.Add(q), p.Sub(q), d3
}

func winoGradOutput4AVX512(dout []float32, h, w, cout, y0, x0 int, wt []float32, plane int) {
	rows, cols := min(4, h-y0), min(4, w-x0)
	var t [6][4]archsimd.Float32x16
	for c0 := 0; c0 < cout; c0 += 16 {
		nc := min(16, cout-c0)
		for j := 0; j < 4; j++ {
			var d [4]archsimd.Float32x16
			if j < cols {
				for i := 0; i < rows; i++ {
					d[i] = load16(dout[((y0+i)*w+x0+j)*cout+c0:], nc)
				}
			}
			t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j] = winoGradOut6x16(d[0], d[1], d[2], d[3])
		}
		for i := 0; i < 6; i++ {
			r0, r1, r2, r3, r4, r5 := winoGradOut6x16(t[i][0], t[i][1], t[i][2], t[i][3])
			store16(r0, wt[(i*6)*plane+c0:], nc)
			store16(r1, wt[(i*6+1)*plane+c0:], nc)
			store16(r2, wt[(i*6+2)*plane+c0:], nc)
			store16(r3, wt[(i*6+3)*plane+c0:], nc)
			store16(r4, wt[(i*6+4)*plane+c0:], nc)
			store16(r5, wt[(i*6+5)*plane+c0:], nc)
		}
	}
}

// winoGradOut4x16 applies A of F(2x2) to two vectors (see winoGradOut4).
func winoGradOut4x16(d0, d1 archsimd.Float32x16) (r0, r1, r2, r3 archsimd.Float32x16) {
	return d0, d0.Add(d1), d0.Sub(d1), d1.Mul(archsimd.BroadcastFloat32x16(-1)) // −d1, zero's sign too
}

func winoGradOutput2AVX512(dout []float32, h, w, cout, y0, x0 int, wt []float32, plane int) {
	rows, cols := min(2, h-y0), min(2, w-x0)
	var t [4][2]archsimd.Float32x16
	for c0 := 0; c0 < cout; c0 += 16 {
		nc := min(16, cout-c0)
		for j := 0; j < 2; j++ {
			var d [2]archsimd.Float32x16
			if j < cols {
				for i := 0; i < rows; i++ {
					d[i] = load16(dout[((y0+i)*w+x0+j)*cout+c0:], nc)
				}
			}
			t[0][j], t[1][j], t[2][j], t[3][j] = winoGradOut4x16(d[0], d[1])
		}
		for i := 0; i < 4; i++ {
			r0, r1, r2, r3 := winoGradOut4x16(t[i][0], t[i][1])
			store16(r0, wt[(i*4)*plane+c0:], nc)
			store16(r1, wt[(i*4+1)*plane+c0:], nc)
			store16(r2, wt[(i*4+2)*plane+c0:], nc)
			store16(r3, wt[(i*4+3)*plane+c0:], nc)
		}
	}
}
