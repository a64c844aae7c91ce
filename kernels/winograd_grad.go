package kernels

// The kernel gradient of a 3x3 convolution by Winograd's F(m×m, 3×3), the
// same tiling as the forward pass. The forward pass computes each output
// tile as Y = A^T [U ⊙ V] A with U = G g G^T and V = B^T d B, so by the
// chain rule
//
//	∂L/∂U = (A dY A^T) ⊙ V   and   ∂L/∂g = G^T (∂L/∂U) G,
//
// summed over tiles. Summed over tiles, the pointwise products become
// alpha² GEMMs, (cin × tiles)·(tiles × cout), one per frequency: alpha²·9/m²
// times fewer multiplications than im2col's (9 for F(4x4), 4 for F(2x2)),
// at the price of three transforms.

// winoFilterGradChunkFloats bounds the transformed input and output
// gradient of one chunk of tiles (in floats, 8 MiB). It depends only on
// the shape, so the summation order, and every bit of the result, is the
// same for any thread count.
const winoFilterGradChunkFloats = 2 << 20

// winoFilterGrad holds the buffers of the Winograd kernel gradient, kept by
// a layer from one step to the next.
type winoFilterGrad struct {
	tile        int
	chunkFloats int       // winoFilterGradChunkFloats; tests make it small
	v, dy       []float32 // one chunk's B^T d B ([f][tile][cin]) and A dY A^T ([f][tile][cout])
	du          []float32 // ∂L/∂U summed over tiles, [f][cin][cout]
	packed      []float32 // packed copy of one frequency's dy, the GEMMs' right-hand side
}

// backward computes dkernel ([3][3][cin][cout]) and, unless dbias is nil,
// dbias, from the input in and output gradient dout (NHWC), adding to them
// when accumulate is set, like Conv3x3BackwardFilter.
func (s *winoFilterGrad) backward(n, h, w, cin, cout int, in, dout, dkernel, dbias []float32, accumulate bool) {
	checkLen("Winograd filter gradient in", in, n*h*w*cin)
	checkLen("Winograd filter gradient dout", dout, n*h*w*cout)
	checkLen("Winograd filter gradient dkernel", dkernel, 9*cin*cout)
	if dbias != nil {
		BiasBackward(n*h*w, cout, dout, dbias, accumulate)
	}
	mt := winoMatricesFor(s.tile)
	m, a := mt.m, mt.alpha
	freqs := a * a
	tilesX, tilesY := (w+m-1)/m, (h+m-1)/m
	perImage := tilesX * tilesY
	tiles := n * perImage
	budget := winoFilterGradChunkFloats
	if s.chunkFloats > 0 {
		budget = s.chunkFloats
	}
	chunk := max(1, min(tiles, budget/(freqs*(cin+cout))))
	s.v = grow(s.v, freqs*chunk*cin)
	s.dy = grow(s.dy, freqs*chunk*cout)
	s.du = grow(s.du, freqs*cin*cout)
	inputTile, _ := winoTileFuncs(m)
	gradTile := winoGradOutput4
	if m == 2 {
		gradTile = winoGradOutput2
	}

	for t0 := 0; t0 < tiles; t0 += chunk {
		cnt := min(chunk, tiles-t0)
		vPlane, dyPlane := cnt*cin, cnt*cout
		const tilesPerTask = 4
		parallelFor((cnt+tilesPerTask-1)/tilesPerTask, nil, func(_, task int) {
			for j := task * tilesPerTask; j < min(cnt, (task+1)*tilesPerTask); j++ {
				b, r := (t0+j)/perImage, (t0+j)%perImage
				y0, x0 := (r/tilesX)*m, (r%tilesX)*m
				inputTile(in[b*h*w*cin:(b+1)*h*w*cin], h, w, cin, cin, y0-1, x0-1, s.v[j*cin:], vPlane)
				gradTile(dout[b*h*w*cout:(b+1)*h*w*cout], h, w, cout, y0, x0, s.dy[j*cout:], dyPlane)
			}
		})
		for f := 0; f < freqs; f++ {
			pb := packBInto(bestGemm, false, cnt, cout, s.dy[f*dyPlane:], cout, s.packed)
			s.packed = pb.data
			gemmWith(pb.kern, true, cin, s.v[f*vPlane:], cin, pb, s.du[f*cin*cout:], cout, t0 > 0, nil, false)
		}
	}
	parallelFor(cin, nil, func(_, ci int) {
		winoKernelGradRow(a, s.du, cin, cout, ci, dkernel, accumulate)
	})
}

// grow returns s resliced to n floats, reallocated only when too short.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// winoKernelGradRow writes dkernel = G^T dU G for input channel ci and
// every output channel (adding to dkernel when accumulate is set). dU is
// [f][cin][cout] with alpha a: 6 for F(4x4), 4 for F(2x2).
func winoKernelGradRow(a int, du []float32, cin, cout, ci int, dkernel []float32, accumulate bool) {
	plane := cin * cout
	kernelT := func(d *[6]float32) (r0, r1, r2 float32) {
		if a == 6 {
			return winoKernelT6(d)
		}
		return winoKernelT4(d)
	}
	for co := 0; co < cout; co++ {
		var t [3][6]float32 // G^T dU: kernel row k, frequency column j
		for j := 0; j < a; j++ {
			var col [6]float32
			for i := 0; i < a; i++ {
				col[i] = du[(i*a+j)*plane+ci*cout+co]
			}
			t[0][j], t[1][j], t[2][j] = kernelT(&col)
		}
		for k := 0; k < 3; k++ {
			g0, g1, g2 := kernelT(&t[k])
			for l, g := range [3]float32{g0, g1, g2} {
				at := ((k*3+l)*cin+ci)*cout + co
				if accumulate {
					g += dkernel[at]
				}
				dkernel[at] = g
			}
		}
	}
}

// winoKernelT6 applies G^T of F(4x4) to six values (the columns of G
// become rows): (1/4, −1/6, −1/6, 1/24, 1/24, 0), (0, −1/6, 1/6, 1/12,
// −1/12, 0), (0, −1/6, −1/6, 1/6, 1/6, 1).
func winoKernelT6(d *[6]float32) (r0, r1, r2 float32) {
	s12, d12 := d[1]+d[2], d[2]-d[1]
	s34, d34 := d[3]+d[4], d[3]-d[4]
	return d[0]*0.25 - s12*(1.0/6) + s34*(1.0/24), d12*(1.0/6) + d34*(1.0/12), s34*(1.0/6) - s12*(1.0/6) + d[5]
}

// winoKernelT4 applies G^T of F(2x2) to the first four values: (1, 1/2,
// 1/2, 0), (0, 1/2, −1/2, 0), (0, 1/2, 1/2, 1).
func winoKernelT4(d *[6]float32) (r0, r1, r2 float32) {
	s12 := (d[1] + d[2]) * 0.5
	return d[0] + s12, (d[1] - d[2]) * 0.5, s12 + d[3]
}

// winoGradOutputFunc transforms the m×m output-gradient tile at (y0, x0) of
// one image ([h][w][cout]; pixels past the edge count as 0) into
// W = A dY A^T: frequency f of channel c goes to wt[f*plane+c].
type winoGradOutputFunc func(dout []float32, h, w, cout, y0, x0 int, wt []float32, plane int)

// winoGradOutput4 and winoGradOutput2 are the F(4x4) and F(2x2) gradient
// transforms; SIMD builds replace them at init when the CPU allows.
var (
	winoGradOutput4 winoGradOutputFunc = winoGradOutput4Scalar
	winoGradOutput2 winoGradOutputFunc = winoGradOutput2Scalar
)

// winoGradOutput4Scalar is the F(4x4) gradient transform, one channel at a
// time.
func winoGradOutput4Scalar(dout []float32, h, w, cout, y0, x0 int, wt []float32, plane int) {
	rows, cols := min(4, h-y0), min(4, w-x0)
	var t [6][4]float32 // A applied down each column of the tile
	for c := 0; c < cout; c++ {
		for j := 0; j < 4; j++ {
			var d [4]float32
			if j < cols {
				for i := 0; i < rows; i++ {
					d[i] = dout[((y0+i)*w+x0+j)*cout+c]
				}
			}
			t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j] = winoGradOut6(d[0], d[1], d[2], d[3])
		}
		for i := 0; i < 6; i++ {
			r0, r1, r2, r3, r4, r5 := winoGradOut6(t[i][0], t[i][1], t[i][2], t[i][3])
			wt[(i*6)*plane+c] = r0
			wt[(i*6+1)*plane+c] = r1
			wt[(i*6+2)*plane+c] = r2
			wt[(i*6+3)*plane+c] = r3
			wt[(i*6+4)*plane+c] = r4
			wt[(i*6+5)*plane+c] = r5
		}
	}
}

// winoGradOut6 applies A of F(4x4) (A^T's transpose) to four values.
func winoGradOut6(d0, d1, d2, d3 float32) (r0, r1, r2, r3, r4, r5 float32) {
	s02, s13 := d0+d2, d1+d3
	p := d0 + 4*d2
	q := 2*d1 + 8*d3
	return d0, s02 + s13, s02 - s13, p + q, p - q, d3
}

// winoGradOutput2Scalar is the F(2x2) gradient transform: 2x2 tiles, 4x4 W.
func winoGradOutput2Scalar(dout []float32, h, w, cout, y0, x0 int, wt []float32, plane int) {
	rows, cols := min(2, h-y0), min(2, w-x0)
	var t [4][2]float32
	for c := 0; c < cout; c++ {
		for j := 0; j < 2; j++ {
			var d [2]float32
			if j < cols {
				for i := 0; i < rows; i++ {
					d[i] = dout[((y0+i)*w+x0+j)*cout+c]
				}
			}
			t[0][j], t[1][j], t[2][j], t[3][j] = winoGradOut4(d[0], d[1])
		}
		for i := 0; i < 4; i++ {
			r0, r1, r2, r3 := winoGradOut4(t[i][0], t[i][1])
			wt[(i*4)*plane+c] = r0
			wt[(i*4+1)*plane+c] = r1
			wt[(i*4+2)*plane+c] = r2
			wt[(i*4+3)*plane+c] = r3
		}
	}
}

// winoGradOut4 applies A of F(2x2) to two values.
func winoGradOut4(d0, d1 float32) (r0, r1, r2, r3 float32) {
	return d0, d0 + d1, d0 - d1, -d1
}
