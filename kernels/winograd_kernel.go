package kernels

// The kernel transform U = G g G^T, redone at every optimizer step when a
// Winograd convolution trains, so it is written out like the input and
// output transforms: straight-line float32 arithmetic on the structure of
// G, one output channel at a time (SIMD builds: 16 at a time), written
// straight into the packed layout of the alpha² GEMM matrices. Against the
// float64 matrix form it differs by a few float32 roundings (about 1e-7
// relative), far below Winograd's own error.

// winoKernelFunc transforms the 3x3 kernels of output channels [co0, co1)
// and every input channel into columns [co0, co1) of the packed
// (cin × cout) matrices u, one per frequency. Callers split the work by
// packed panels, so each task writes every matrix sequentially, row by row
// of its panel.
type winoKernelFunc func(kernel []float32, cin, cout, co0, co1 int, u []*PackedB)

// winoKernel4 and winoKernel2 are the F(4x4) and F(2x2) kernel transforms;
// SIMD builds replace them at init when the CPU allows.
var (
	winoKernel4 winoKernelFunc = winoKernel4Scalar
	winoKernel2 winoKernelFunc = winoKernel2Scalar
)

// winoKernel6 applies G of F(4x4) to one column of three values:
// rows (1/4, 0, 0), −(1, 1, 1)/6, −(1, −1, 1)/6, (1/24, 1/12, 1/6),
// (1/24, −1/12, 1/6), (0, 0, 1).
func winoKernel6(g0, g1, g2 float32) (r0, r1, r2, r3, r4, r5 float32) {
	s := g0 + g2
	p := g0*(1.0/24) + g2*(1.0/6)
	q := g1 * (1.0 / 12)
	return g0 * 0.25, (s + g1) * (-1.0 / 6), (s - g1) * (-1.0 / 6), p + q, p - q, g2
}

// winoKernel4c applies G of F(2x2) to one column of three values:
// rows (1, 0, 0), (1, 1, 1)/2, (1, −1, 1)/2, (0, 0, 1).
func winoKernel4c(g0, g1, g2 float32) (r0, r1, r2, r3 float32) {
	s := g0 + g2
	return g0, (s + g1) * 0.5, (s - g1) * 0.5, g2
}

// packedOffset is where element (row, col) of a K-row matrix packed by
// PackB (panels of nr columns) lives.
func packedOffset(row, col, k, nr int) int {
	return (col/nr)*k*nr + row*nr + col%nr
}

func winoKernel4Scalar(kernel []float32, cin, cout, co0, co1 int, u []*PackedB) {
	for ci := 0; ci < cin; ci++ {
		winoKernel4Row(kernel, cin, cout, ci, co0, co1, u)
	}
}

// winoKernel4Row is the F(4x4) kernel transform of input channel ci for
// output channels [co0, co1).
func winoKernel4Row(kernel []float32, cin, cout, ci, co0, co1 int, u []*PackedB) {
	stride, nr := cin*cout, u[0].kern.nr
	src := kernel[ci*cout:]
	for co := co0; co < co1; co++ {
		var c [6][3]float32 // G g: row i, kernel column l
		for l := 0; l < 3; l++ {
			c[0][l], c[1][l], c[2][l], c[3][l], c[4][l], c[5][l] = winoKernel6(src[l*stride+co], src[(3+l)*stride+co], src[(6+l)*stride+co])
		}
		off := packedOffset(ci, co, cin, nr)
		for i := 0; i < 6; i++ {
			r := u[i*6 : i*6+6]
			r[0].data[off], r[1].data[off], r[2].data[off], r[3].data[off], r[4].data[off], r[5].data[off] = winoKernel6(c[i][0], c[i][1], c[i][2])
		}
	}
}

func winoKernel2Scalar(kernel []float32, cin, cout, co0, co1 int, u []*PackedB) {
	for ci := 0; ci < cin; ci++ {
		winoKernel2Row(kernel, cin, cout, ci, co0, co1, u)
	}
}

// winoKernel2Row is the F(2x2) kernel transform of input channel ci for
// output channels [co0, co1).
func winoKernel2Row(kernel []float32, cin, cout, ci, co0, co1 int, u []*PackedB) {
	stride, nr := cin*cout, u[0].kern.nr
	src := kernel[ci*cout:]
	for co := co0; co < co1; co++ {
		var c [4][3]float32
		for l := 0; l < 3; l++ {
			c[0][l], c[1][l], c[2][l], c[3][l] = winoKernel4c(src[l*stride+co], src[(3+l)*stride+co], src[(6+l)*stride+co])
		}
		off := packedOffset(ci, co, cin, nr)
		for i := 0; i < 4; i++ {
			r := u[i*4 : i*4+4]
			r[0].data[off], r[1].data[off], r[2].data[off], r[3].data[off] = winoKernel4c(c[i][0], c[i][1], c[i][2])
		}
	}
}
