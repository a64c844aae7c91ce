package kernels

import "fmt"

// MaxPool2x2 is VGG16's 2x2 max-pool with stride 2 over NHWC activations:
// in is [n][h][w][c], out is [n][h/2][w/2][c] (floor: an odd last row or
// column is dropped, as in Keras and PyTorch with default settings).
// Which value wins when a window holds NaN is not specified (it differs
// between the scalar and SIMD paths); the model rejects NaN inputs first.
func MaxPool2x2(n, h, w, c int, in, out []float32) {
	oh, ow := h/2, w/2
	checkLen("MaxPool2x2 in", in, n*h*w*c)
	checkLen("MaxPool2x2 out", out, n*oh*ow*c)
	// One task per output row; rows are independent, so any thread count
	// gives the same result.
	parallelFor(n*oh, nil, func(_, row int) {
		img, oy := row/oh, row%oh
		for ox := 0; ox < ow; ox++ {
			p00 := ((img*h+2*oy)*w + 2*ox) * c
			p01 := p00 + c
			p10 := p00 + w*c
			p11 := p10 + c
			o := ((img*oh+oy)*ow + ox) * c
			maxPoolPixel(out[o:o+c], in[p00:p00+c], in[p01:p01+c], in[p10:p10+c], in[p11:p11+c])
		}
	})
}

// maxPoolPixel writes the elementwise maximum of four channel vectors;
// SIMD builds replace it at init.
var maxPoolPixel = maxPoolPixelScalar

func maxPoolPixelScalar(dst, a, b, c, d []float32) {
	b = b[:len(a)]
	c = c[:len(a)]
	d = d[:len(a)]
	dst = dst[:len(a)]
	for i, m := range a {
		if b[i] > m {
			m = b[i]
		}
		if c[i] > m {
			m = c[i]
		}
		if d[i] > m {
			m = d[i]
		}
		dst[i] = m
	}
}

// MaxPool2x2Backward routes the gradient of MaxPool2x2's output (dout,
// [n][h/2][w/2][c]) to the input position that held the window's maximum
// (the first one in row-major window order on ties; the same choice the
// forward pass makes). din ([n][h][w][c]) is overwritten, not accumulated;
// positions that were not a maximum, and the dropped odd row/column, get 0.
func MaxPool2x2Backward(n, h, w, c int, in, dout, din []float32) {
	oh, ow := h/2, w/2
	checkLen("MaxPool2x2Backward in", in, n*h*w*c)
	checkLen("MaxPool2x2Backward dout", dout, n*oh*ow*c)
	checkLen("MaxPool2x2Backward din", din, n*h*w*c)
	// One task per output row: it writes both input rows under it whole
	// (every window position, 0 where not the maximum), so nothing is
	// cleared first; an odd last column is cleared here, an odd last row
	// below.
	parallelFor(n*oh, nil, func(_, row int) {
		img, oy := row/oh, row%oh
		r0 := (img*h + 2*oy) * w * c
		r1 := r0 + w*c
		for ox := 0; ox < ow; ox++ {
			p00, p10 := r0+2*ox*c, r1+2*ox*c
			g := dout[((img*oh+oy)*ow+ox)*c:][:c]
			maxPoolBackPixel(din[p00:p00+c], din[p00+c:p00+2*c], din[p10:p10+c], din[p10+c:p10+2*c],
				in[p00:p00+c], in[p00+c:p00+2*c], in[p10:p10+c], in[p10+c:p10+2*c], g)
		}
		if w%2 == 1 {
			clear(din[r0+(w-1)*c : r0+w*c])
			clear(din[r1+(w-1)*c : r1+w*c])
		}
	})
	if h%2 == 1 {
		for img := 0; img < n; img++ {
			clear(din[(img*h+h-1)*w*c : (img*h+h)*w*c])
		}
	}
}

// maxPoolBackPixel writes one window's gradient g to the position (of
// a, b, c, d: the window in row-major order) that held the maximum, the
// first one on ties, as the comparisons v > m pick it (a NaN never wins
// over an earlier value), and 0 to the other three: da, db, dc, dd.
// SIMD builds replace it at init.
var maxPoolBackPixel = maxPoolBackPixelScalar

// maxPoolBackPixels lists every maxPoolBackPixel this CPU can run, for the
// tests.
var maxPoolBackPixels = []namedMaxPoolBack{{"scalar", maxPoolBackPixelScalar}}

type namedMaxPoolBack struct {
	name string
	fn   func(da, db, dc, dd, a, b, c, d, g []float32)
}

func maxPoolBackPixelScalar(da, db, dc, dd, a, b, c, d, g []float32) {
	n := len(g)
	da, db, dc, dd = da[:n], db[:n], dc[:n], dd[:n]
	a, b, c, d = a[:n], b[:n], c[:n], d[:n]
	for i, v := range g {
		m, best := a[i], 0
		if b[i] > m {
			m, best = b[i], 1
		}
		if c[i] > m {
			m, best = c[i], 2
		}
		if d[i] > m {
			best = 3
		}
		da[i], db[i], dc[i], dd[i] = 0, 0, 0, 0
		switch best {
		case 0:
			da[i] = v
		case 1:
			db[i] = v
		case 2:
			dc[i] = v
		default:
			dd[i] = v
		}
	}
}

// GlobalAvgPool averages each channel over all h*w positions:
// in [n][h][w][c] → out [n][c]. The sum is accumulated in float64 so the
// result does not depend on the spatial size's rounding behaviour.
func GlobalAvgPool(n, h, w, c int, in, out []float32) {
	checkLen("GlobalAvgPool in", in, n*h*w*c)
	checkLen("GlobalAvgPool out", out, n*c)
	hw := h * w
	sum := make([]float64, c)
	for img := 0; img < n; img++ {
		clear(sum)
		base := img * hw * c
		for p := 0; p < hw; p++ {
			row := in[base+p*c : base+p*c+c]
			for ch, v := range row {
				sum[ch] += float64(v)
			}
		}
		o := out[img*c : img*c+c]
		for ch := range o {
			o[ch] = float32(sum[ch] / float64(hw))
		}
	}
}

// GlobalAvgPoolBackward spreads dout ([n][c]) evenly over the h*w positions
// of din ([n][h][w][c]), which is overwritten.
func GlobalAvgPoolBackward(n, h, w, c int, dout, din []float32) {
	checkLen("GlobalAvgPoolBackward dout", dout, n*c)
	checkLen("GlobalAvgPoolBackward din", din, n*h*w*c)
	hw := h * w
	inv := 1 / float32(hw)
	for img := 0; img < n; img++ {
		g := dout[img*c : img*c+c]
		for p := 0; p < hw; p++ {
			row := din[(img*hw+p)*c : (img*hw+p)*c+c]
			for ch := range row {
				row[ch] = g[ch] * inv
			}
		}
	}
}

// checkLen panics with a message naming the argument when s is shorter than
// the size the kernel's dimensions imply; every kernel calls it first so a
// wrong shape fails loudly instead of reading a neighbour's memory.
func checkLen(name string, s []float32, want int) {
	if len(s) < want {
		panic(fmt.Sprintf("kernels: %s has %d elements, need %d", name, len(s), want))
	}
}
