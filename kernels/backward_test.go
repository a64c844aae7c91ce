package kernels

import (
	"fmt"
	"math"
	"testing"
)

// f64Conv3x3Of is the float64 reference convolution on float64 data (no
// bias, no ReLU), the function finite differences perturb.
func f64Conv3x3Of(n, h, w, cin, cout int, in, kernel []float64) []float64 {
	out := make([]float64, n*h*w*cout)
	for img := 0; img < n; img++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := out[((img*h+y)*w+x)*cout:][:cout]
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						yy, xx := y+ky-1, x+kx-1
						if yy < 0 || yy >= h || xx < 0 || xx >= w {
							continue
						}
						for ci := 0; ci < cin; ci++ {
							v := in[((img*h+yy)*w+xx)*cin+ci]
							for co := range o {
								o[co] += v * kernel[((ky*3+kx)*cin+ci)*cout+co]
							}
						}
					}
				}
			}
		}
	}
	return out
}

// f64ConvGrads is the float64 reference of the analytic gradients, written
// straight from the chain rule on the forward definition.
func f64ConvGrads(n, h, w, cin, cout int, in, kernel, dout []float32) (din, dkernel, dbias []float64) {
	din = make([]float64, n*h*w*cin)
	dkernel = make([]float64, 9*cin*cout)
	dbias = make([]float64, cout)
	for img := 0; img < n; img++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g := dout[((img*h+y)*w+x)*cout:][:cout]
				for co, v := range g {
					dbias[co] += float64(v)
				}
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						yy, xx := y+ky-1, x+kx-1
						if yy < 0 || yy >= h || xx < 0 || xx >= w {
							continue
						}
						for ci := 0; ci < cin; ci++ {
							p := ((img*h+yy)*w+xx)*cin + ci
							kr := ((ky*3+kx)*cin + ci) * cout
							for co, v := range g {
								din[p] += float64(v) * float64(kernel[kr+co])
								dkernel[kr+co] += float64(v) * float64(in[p])
							}
						}
					}
				}
			}
		}
	}
	return din, dkernel, dbias
}

func TestReLUBackward(t *testing.T) {
	y := []float32{-1, 0, 0.5, 3, -0.0}
	dy := []float32{10, 20, 30, 40, 50}
	dx := newGuarded(5)
	ReLUBackward(y, dy, dx.data)
	dx.check(t)
	want := []float64{0, 0, 30, 40, 0}
	if e := maxRelErr(dx.data, want); e != 0 {
		t.Fatalf("got %v, want %v", dx.data, want)
	}
	ReLUBackward(y, dy, dy) // in place
	if e := maxRelErr(dy, want); e != 0 {
		t.Fatalf("in place: got %v", dy)
	}
}

// TestReLUBackwardVariants checks every variant on lengths around the
// SIMD widths and ReLUBackward across chunks, against the definition
// (dy where y > 0, else +0; NaN and -0 count as not positive), with guard
// bands, out of place and in place.
func TestReLUBackwardVariants(t *testing.T) {
	for _, n := range []int{1, 7, 8, 15, 16, 17, 100, 2*reluChunk + 5} {
		rng := newRand(uint64(n))
		y, dy := randFloats(rng, n), randFloats(rng, n)
		for i := range y {
			switch i % 7 {
			case 1:
				y[i] = 0
			case 3:
				y[i] = float32(math.Copysign(0, -1))
			case 5:
				y[i] = float32(math.NaN())
			}
		}
		want := make([]float32, n)
		for i := range y {
			if y[i] > 0 {
				want[i] = dy[i]
			}
		}
		variants := append(reluBackwardSpans, namedReLUBackward{"ReLUBackward", ReLUBackward})
		for _, v := range variants {
			t.Run(fmt.Sprintf("n=%d/%s", n, v.name), func(t *testing.T) {
				dx := newGuarded(n)
				v.fn(y, dy, dx.data)
				dx.check(t)
				if at := bitsEqual(dx.data, want); at >= 0 {
					t.Fatalf("dx[%d] = %v, want %v (y %v, dy %v)", at, dx.data[at], want[at], y[at], dy[at])
				}
				in := newGuarded(n)
				copy(in.data, dy)
				v.fn(y, in.data, in.data)
				in.check(t)
				if at := bitsEqual(in.data, want); at >= 0 {
					t.Fatalf("in place: dx[%d] = %v, want %v", at, in.data[at], want[at])
				}
			})
		}
	}
}

// BenchmarkReLUBackward times the ReLU gradient over the activations of
// VGG16's first layer at 32x32, batch 64 (4.2 M floats), with the active
// variant and the portable loop, each threaded as ReLUBackward runs it.
func BenchmarkReLUBackward(b *testing.B) {
	const n = 64 * 32 * 32 * 64
	rng := newRand(1)
	y, dy, dx := randFloats(rng, n), randFloats(rng, n), make([]float32, n)
	for _, v := range []namedReLUBackward{{"active", reluBackwardSpan}, {"scalar", reluBackwardScalar}} {
		b.Run(v.name, func(b *testing.B) {
			saved := reluBackwardSpan
			reluBackwardSpan = v.fn
			defer func() { reluBackwardSpan = saved }()
			for range b.N {
				ReLUBackward(y, dy, dx)
			}
		})
	}
}

func TestConv3x3BackwardMatchesReference(t *testing.T) {
	for i, s := range awkwardConvShapes {
		t.Run(fmt.Sprintf("%dx%dx%dx%d->%d", s.n, s.h, s.w, s.cin, s.cout), func(t *testing.T) {
			rng := newRand(uint64(200 + i))
			in := randFloats(rng, s.n*s.h*s.w*s.cin)
			kernel := randFloats(rng, 9*s.cin*s.cout)
			dout := randFloats(rng, s.n*s.h*s.w*s.cout)
			wantDin, wantDk, wantDb := f64ConvGrads(s.n, s.h, s.w, s.cin, s.cout, in, kernel, dout)

			din := newGuarded(len(in))
			Conv3x3BackwardData(s.n, s.h, s.w, s.cin, s.cout, kernel, dout, din.data)
			din.check(t)
			if e := maxRelErr(din.data, wantDin); e > 1e-5 {
				t.Fatalf("din error %g", e)
			}
			dk := newGuarded(len(kernel))
			db := newGuarded(s.cout)
			Conv3x3BackwardFilter(s.n, s.h, s.w, s.cin, s.cout, in, dout, dk.data, db.data, false)
			dk.check(t)
			db.check(t)
			if e := maxRelErr(dk.data, wantDk); e > 1e-5 {
				t.Fatalf("dkernel error %g", e)
			}
			if e := maxRelErr(db.data, wantDb); e > 1e-5 {
				t.Fatalf("dbias error %g", e)
			}
			// accumulate adds a second copy of the same gradients.
			Conv3x3BackwardFilter(s.n, s.h, s.w, s.cin, s.cout, in, dout, dk.data, db.data, true)
			for j := range wantDk {
				wantDk[j] *= 2
			}
			for j := range wantDb {
				wantDb[j] *= 2
			}
			if e := maxRelErr(dk.data, wantDk); e > 1e-5 {
				t.Fatalf("accumulated dkernel error %g", e)
			}
			if e := maxRelErr(db.data, wantDb); e > 1e-5 {
				t.Fatalf("accumulated dbias error %g", e)
			}
		})
	}
}

// TestTransposeBlocked checks the blocked transpose (with the SIMD 16x16
// blocks where the build has them) against the definition on shapes that
// are and are not multiples of 16 and 32, with guard bands.
func TestTransposeBlocked(t *testing.T) {
	for _, s := range [][2]int{{16, 16}, {64, 32}, {3, 64}, {48, 80}, {33, 17}, {512, 256}, {1, 1}} {
		rows, cols := s[0], s[1]
		src := randFloats(newRand(uint64(rows*1000+cols)), rows*cols)
		dst := newGuarded(rows * cols)
		transposeBlocked(dst.data, src, rows, cols)
		dst.check(t)
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				if dst.data[c*rows+r] != src[r*cols+c] {
					t.Fatalf("%dx%d: dst[%d][%d] = %v, want %v", rows, cols, c, r, dst.data[c*rows+r], src[r*cols+c])
				}
			}
		}
	}
}

// BenchmarkFlipKernel3x3 times the flip of a 512→512 kernel (every step
// of a training run does it for every layer), with the SIMD 16x16 blocks
// and without them, in one process.
func BenchmarkFlipKernel3x3(b *testing.B) {
	const cin, cout = 512, 512
	kernel, flipped := randFloats(newRand(1), 9*cin*cout), make([]float32, 9*cin*cout)
	simdBlock := transposeBlock16
	for _, v := range []struct {
		name  string
		block func(dst []float32, ld int, src []float32, ls int)
	}{{"simd", simdBlock}, {"scalar", nil}} {
		if v.name == "simd" && simdBlock == nil {
			continue
		}
		b.Run(v.name, func(b *testing.B) {
			transposeBlock16 = v.block
			defer func() { transposeBlock16 = simdBlock }()
			for range b.N {
				FlipKernel3x3(cin, cout, kernel, flipped)
			}
		})
	}
}

// TestFilterGradByTapChunks runs the tap-by-tap kernel gradient with
// chunks of a few pixels, so each tap sums several GEMMs, against the
// float64 reference, overwriting a poisoned output and accumulating.
func TestFilterGradByTapChunks(t *testing.T) {
	for _, s := range []convShape{{3, 4, 4, 20, 24}, {2, 2, 2, 33, 17}, {1, 7, 5, 16, 16}, {2, 1, 1, 8, 8}} {
		for _, chunk := range []int{1, 5, 64} {
			t.Run(fmt.Sprintf("%v/chunk=%d", s, chunk), func(t *testing.T) {
				rng := newRand(uint64(chunk))
				in := randFloats(rng, s.n*s.h*s.w*s.cin)
				kernel := randFloats(rng, 9*s.cin*s.cout)
				dout := randFloats(rng, s.n*s.h*s.w*s.cout)
				_, want, _ := f64ConvGrads(s.n, s.h, s.w, s.cin, s.cout, in, kernel, dout)
				ws := filterGradScratch{chunkFloats: chunk * (s.cin + s.cout)}
				dk := newGuarded(len(kernel))
				ws.backwardByTap(s.n, s.h, s.w, s.cin, s.cout, in, dout, dk.data, false)
				dk.check(t)
				if e := maxRelErr(dk.data, want); e > 1e-5 {
					t.Fatalf("dkernel error %g", e)
				}
				ws.backwardByTap(s.n, s.h, s.w, s.cin, s.cout, in, dout, dk.data, true)
				for j := range want {
					want[j] *= 2
				}
				if e := maxRelErr(dk.data, want); e > 1e-5 {
					t.Fatalf("accumulated dkernel error %g", e)
				}
			})
		}
	}
}

// TestConv3x3BackwardFiniteDifferences checks the analytic gradients against
// central differences of the float64 forward convolution.
func TestConv3x3BackwardFiniteDifferences(t *testing.T) {
	const n, h, w, cin, cout = 2, 3, 4, 3, 5
	rng := newRand(17)
	in := randFloats(rng, n*h*w*cin)
	kernel := randFloats(rng, 9*cin*cout)
	dout := randFloats(rng, n*h*w*cout)
	in64, k64 := to64(in), to64(kernel)

	din := make([]float32, len(in))
	Conv3x3BackwardData(n, h, w, cin, cout, kernel, dout, din)
	fdIn := numericGrad(func(x []float64) []float64 { return f64Conv3x3Of(n, h, w, cin, cout, x, k64) }, in64, to64(dout), 1e-4)
	if e := maxRelErr(din, fdIn); e > 1e-5 {
		t.Fatalf("din vs finite differences: %g", e)
	}

	dk := make([]float32, len(kernel))
	db := make([]float32, cout)
	Conv3x3BackwardFilter(n, h, w, cin, cout, in, dout, dk, db, false)
	fdK := numericGrad(func(k []float64) []float64 { return f64Conv3x3Of(n, h, w, cin, cout, in64, k) }, k64, to64(dout), 1e-4)
	if e := maxRelErr(dk, fdK); e > 1e-5 {
		t.Fatalf("dkernel vs finite differences: %g", e)
	}
	// The bias adds b[co] to every output pixel of channel co.
	withBias := func(b []float64) []float64 {
		out := f64Conv3x3Of(n, h, w, cin, cout, in64, k64)
		for i := range out {
			out[i] += b[i%cout]
		}
		return out
	}
	fdB := numericGrad(withBias, make([]float64, cout), to64(dout), 1e-4)
	if e := maxRelErr(db, fdB); e > 1e-5 {
		t.Fatalf("dbias vs finite differences: %g", e)
	}
}

func TestConv3x3BackwardThreadsBitIdentical(t *testing.T) {
	const n, h, w, cin, cout = 3, 11, 9, 21, 34
	rng := newRand(19)
	in := randFloats(rng, n*h*w*cin)
	kernel := randFloats(rng, 9*cin*cout)
	dout := randFloats(rng, n*h*w*cout)
	var refDin, refDk []float32
	for _, threads := range []int{1, 2, 5} {
		din := make([]float32, len(in))
		dk := make([]float32, len(kernel))
		withThreads(threads, func() {
			Conv3x3BackwardData(n, h, w, cin, cout, kernel, dout, din)
			Conv3x3BackwardFilter(n, h, w, cin, cout, in, dout, dk, nil, false)
		})
		if refDin == nil {
			refDin, refDk = din, dk
			continue
		}
		if i := bitsEqual(refDin, din); i >= 0 {
			t.Fatalf("threads=%d: din differs at %d", threads, i)
		}
		if i := bitsEqual(refDk, dk); i >= 0 {
			t.Fatalf("threads=%d: dkernel differs at %d", threads, i)
		}
	}
}
