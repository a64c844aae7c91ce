package kernels

import (
	"fmt"
	"math"
	"testing"
)

// f64MaxPool2x2 is the float64 reference 2x2/2 max-pool (floor).
func f64MaxPool2x2(n, h, w, c int, in []float64) []float64 {
	oh, ow := h/2, w/2
	out := make([]float64, n*oh*ow*c)
	for img := 0; img < n; img++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for ch := 0; ch < c; ch++ {
					m := math.Inf(-1)
					for dy := 0; dy < 2; dy++ {
						for dx := 0; dx < 2; dx++ {
							m = max(m, in[((img*h+2*oy+dy)*w+2*ox+dx)*c+ch])
						}
					}
					out[((img*oh+oy)*ow+ox)*c+ch] = m
				}
			}
		}
	}
	return out
}

// f64GlobalAvgPool is the float64 reference global average pool.
func f64GlobalAvgPool(n, h, w, c int, in []float64) []float64 {
	out := make([]float64, n*c)
	for img := 0; img < n; img++ {
		for p := 0; p < h*w; p++ {
			for ch := 0; ch < c; ch++ {
				out[img*c+ch] += in[(img*h*w+p)*c+ch] / float64(h*w)
			}
		}
	}
	return out
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// numericGrad returns d/dx of Σ dout·f(x) by central differences in float64,
// the independent check of every analytic backward kernel.
func numericGrad(f func(x []float64) []float64, x, dout []float64, eps float64) []float64 {
	g := make([]float64, len(x))
	xp := append([]float64(nil), x...)
	loss := func() float64 {
		s := 0.0
		for i, v := range f(xp) {
			s += v * dout[i]
		}
		return s
	}
	for i := range x {
		xp[i] = x[i] + eps
		lp := loss()
		xp[i] = x[i] - eps
		lm := loss()
		xp[i] = x[i]
		g[i] = (lp - lm) / (2 * eps)
	}
	return g
}

// maxRelErr64 is maxRelErr for two float64 slices (reference vs reference).
func maxRelErr64(got, want []float64) float64 {
	g := make([]float32, len(got))
	for i, v := range got {
		g[i] = float32(v)
	}
	return maxRelErr(g, want)
}

var poolShapes = []struct{ n, h, w, c int }{
	{1, 1, 1, 3}, {1, 2, 2, 1}, {1, 3, 5, 3}, {2, 7, 7, 5}, {1, 4, 6, 17}, {3, 8, 9, 16}, {1, 14, 14, 33},
}

func TestMaxPool2x2(t *testing.T) {
	for i, s := range poolShapes {
		t.Run(fmt.Sprintf("%dx%dx%dx%d", s.n, s.h, s.w, s.c), func(t *testing.T) {
			in := randFloats(newRand(uint64(i)), s.n*s.h*s.w*s.c)
			out := newGuarded(s.n * (s.h / 2) * (s.w / 2) * s.c)
			MaxPool2x2(s.n, s.h, s.w, s.c, in, out.data)
			out.check(t)
			if e := maxRelErr(out.data, f64MaxPool2x2(s.n, s.h, s.w, s.c, to64(in))); e != 0 {
				t.Fatalf("max-pool differs from reference: %g", e)
			}
		})
	}
}

// TestMaxPool2x2BackwardVariants checks every window kernel through
// MaxPool2x2Backward against the definition (the gradient to the first
// position holding the maximum under v > m, so NaN never wins over an
// earlier value) on inputs full of ties and NaN, odd sizes, with guard
// bands and a poisoned output.
func TestMaxPool2x2BackwardVariants(t *testing.T) {
	for _, s := range []struct{ n, h, w, c int }{{1, 2, 2, 1}, {2, 5, 7, 17}, {1, 4, 4, 32}, {3, 6, 3, 35}} {
		rng := newRand(uint64(s.h*100 + s.c))
		in := randFloats(rng, s.n*s.h*s.w*s.c)
		for i := range in {
			switch i % 5 {
			case 1:
				in[i] = 0.5 // ties with case 2
			case 2:
				in[i] = 0.5
			case 3:
				if i%3 == 0 {
					in[i] = float32(math.NaN())
				}
			}
		}
		oh, ow := s.h/2, s.w/2
		dout := randFloats(rng, s.n*oh*ow*s.c)
		want := make([]float32, len(in))
		for img := 0; img < s.n; img++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					for ch := 0; ch < s.c; ch++ {
						best := -1
						for k := 0; k < 4; k++ {
							p := ((img*s.h+2*oy+k/2)*s.w+2*ox+k%2)*s.c + ch
							if best < 0 || in[p] > in[best] {
								best = p
							}
						}
						want[best] = dout[((img*oh+oy)*ow+ox)*s.c+ch]
					}
				}
			}
		}
		for _, v := range maxPoolBackPixels {
			t.Run(fmt.Sprintf("%v/%s", s, v.name), func(t *testing.T) {
				saved := maxPoolBackPixel
				maxPoolBackPixel = v.fn
				defer func() { maxPoolBackPixel = saved }()
				din := newGuarded(len(in))
				MaxPool2x2Backward(s.n, s.h, s.w, s.c, in, dout, din.data)
				din.check(t)
				if at := bitsEqual(din.data, want); at >= 0 {
					t.Fatalf("din[%d] = %v, want %v", at, din.data[at], want[at])
				}
			})
		}
	}
}

// BenchmarkMaxPool2x2Backward times the pool gradient of VGG16's first
// block at 32x32, batch 64, with the active window kernel and the
// portable one.
func BenchmarkMaxPool2x2Backward(b *testing.B) {
	const n, h, w, c = 64, 32, 32, 64
	rng := newRand(1)
	in, dout, din := randFloats(rng, n*h*w*c), randFloats(rng, n*h*w*c/4), make([]float32, n*h*w*c)
	for _, v := range []namedMaxPoolBack{{"active", maxPoolBackPixel}, {"scalar", maxPoolBackPixelScalar}} {
		b.Run(v.name, func(b *testing.B) {
			saved := maxPoolBackPixel
			maxPoolBackPixel = v.fn
			defer func() { maxPoolBackPixel = saved }()
			for range b.N {
				MaxPool2x2Backward(n, h, w, c, in, dout, din)
			}
		})
	}
}

func TestMaxPool2x2Backward(t *testing.T) {
	for i, s := range poolShapes {
		t.Run(fmt.Sprintf("%dx%dx%dx%d", s.n, s.h, s.w, s.c), func(t *testing.T) {
			rng := newRand(uint64(50 + i))
			in := randFloats(rng, s.n*s.h*s.w*s.c)
			dout := randFloats(rng, s.n*(s.h/2)*(s.w/2)*s.c)
			din := newGuarded(len(in))
			MaxPool2x2Backward(s.n, s.h, s.w, s.c, in, dout, din.data)
			din.check(t)
			// Analytic reference: the gradient goes to the argmax.
			want := make([]float64, len(in))
			oh, ow := s.h/2, s.w/2
			for img := 0; img < s.n; img++ {
				for oy := 0; oy < oh; oy++ {
					for ox := 0; ox < ow; ox++ {
						for ch := 0; ch < s.c; ch++ {
							best := -1
							for dy := 0; dy < 2; dy++ {
								for dx := 0; dx < 2; dx++ {
									p := ((img*s.h+2*oy+dy)*s.w+2*ox+dx)*s.c + ch
									if best < 0 || in[p] > in[best] {
										best = p
									}
								}
							}
							want[best] += float64(dout[((img*oh+oy)*ow+ox)*s.c+ch])
						}
					}
				}
			}
			if e := maxRelErr(din.data, want); e > 1e-6 {
				t.Fatalf("differs from analytic reference: %g", e)
			}
			if len(in) <= 2000 { // finite differences cost grows quadratically
				fd := numericGrad(func(x []float64) []float64 { return f64MaxPool2x2(s.n, s.h, s.w, s.c, x) }, to64(in), to64(dout), 1e-6)
				if e := maxRelErr(din.data, fd); e > 1e-5 {
					t.Fatalf("differs from finite differences: %g", e)
				}
			}
		})
	}
}

func TestGlobalAvgPool(t *testing.T) {
	for i, s := range poolShapes {
		t.Run(fmt.Sprintf("%dx%dx%dx%d", s.n, s.h, s.w, s.c), func(t *testing.T) {
			rng := newRand(uint64(90 + i))
			in := randFloats(rng, s.n*s.h*s.w*s.c)
			out := newGuarded(s.n * s.c)
			GlobalAvgPool(s.n, s.h, s.w, s.c, in, out.data)
			out.check(t)
			if e := maxRelErr(out.data, f64GlobalAvgPool(s.n, s.h, s.w, s.c, to64(in))); e > 1e-6 {
				t.Fatalf("forward error %g", e)
			}
			dout := randFloats(rng, s.n*s.c)
			din := newGuarded(len(in))
			GlobalAvgPoolBackward(s.n, s.h, s.w, s.c, dout, din.data)
			din.check(t)
			want := make([]float64, len(in))
			for j := range want {
				img, ch := j/(s.h*s.w*s.c), j%s.c
				want[j] = float64(dout[img*s.c+ch]) / float64(s.h*s.w)
			}
			if e := maxRelErr(din.data, want); e > 1e-6 {
				t.Fatalf("backward differs from analytic reference: %g", e)
			}
			if len(in) <= 2000 {
				fd := numericGrad(func(x []float64) []float64 { return f64GlobalAvgPool(s.n, s.h, s.w, s.c, x) }, to64(in), to64(dout), 1e-3)
				if e := maxRelErr(din.data, fd); e > 1e-5 {
					t.Fatalf("backward differs from finite differences: %g", e)
				}
			}
		})
	}
}

func TestPoolPanicsOnShortBuffer(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("MaxPool2x2 accepted an output buffer that is too short")
		}
	}()
	MaxPool2x2(1, 4, 4, 2, make([]float32, 32), make([]float32, 7))
}

// TestMaxPoolPixelVariants checks the SIMD row kernel against the scalar
// one on lengths around the vector widths.
func TestMaxPoolPixelVariants(t *testing.T) {
	rng := newRand(5)
	for _, n := range []int{1, 3, 4, 5, 15, 16, 17, 33, 64, 70} {
		a, b, c, d := randFloats(rng, n), randFloats(rng, n), randFloats(rng, n), randFloats(rng, n)
		want := make([]float32, n)
		maxPoolPixelScalar(want, a, b, c, d)
		got := newGuarded(n)
		maxPoolPixel(got.data, a, b, c, d)
		got.check(t)
		if i := bitsEqual(got.data, want); i >= 0 {
			t.Fatalf("n=%d: differs at %d", n, i)
		}
	}
}

func BenchmarkMaxPool2x2(b *testing.B) {
	const h, w, c = 224, 224, 64
	in := randFloats(newRand(1), h*w*c)
	out := make([]float32, h*w*c/4)
	active := maxPoolPixel
	for _, v := range []struct {
		name string
		fn   func(dst, a, b, c, d []float32)
	}{{"scalar", maxPoolPixelScalar}, {"active", active}} {
		b.Run(v.name, func(b *testing.B) {
			maxPoolPixel = v.fn
			defer func() { maxPoolPixel = active }()
			c0 := processCPUTime()
			for b.Loop() {
				MaxPool2x2(1, h, w, c, in, out)
			}
			b.ReportMetric(float64(h*w*c*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
			if cpu := processCPUTime() - c0; cpu > 0 {
				b.ReportMetric(ms(cpu)/float64(b.N), "cpu-ms/op")
			}
		})
	}
}
