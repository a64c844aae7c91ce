package kernels

import (
	"fmt"
	"testing"
)

// refConv3x3 is the float64 reference: stride 1, zero padding 1, HWIO
// kernel, optional bias and ReLU.
func refConv3x3(n, h, w, cin, cout int, in, kernel, bias []float32, relu bool) []float64 {
	out := make([]float64, n*h*w*cout)
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := out[((b*h+y)*w+x)*cout:][:cout]
				for co := range o {
					if bias != nil {
						o[co] = float64(bias[co])
					}
				}
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						sy, sx := y+ky-1, x+kx-1
						if sy < 0 || sy >= h || sx < 0 || sx >= w {
							continue
						}
						px := in[((b*h+sy)*w+sx)*cin:][:cin]
						for ci, v := range px {
							wrow := kernel[((ky*3+kx)*cin+ci)*cout:][:cout]
							for co, wv := range wrow {
								o[co] += float64(v) * float64(wv)
							}
						}
					}
				}
				if relu {
					for co := range o {
						o[co] = max(o[co], 0)
					}
				}
			}
		}
	}
	return out
}

type convCase struct {
	n, h, w, cin, cout int
	bias, relu         bool
}

func convCases() []convCase {
	return []convCase{
		{n: 1, h: 1, w: 1, cin: 3, cout: 5, bias: true},
		{n: 2, h: 3, w: 5, cin: 3, cout: 17, bias: true, relu: true},
		{n: 1, h: 7, w: 7, cin: 5, cout: 7, relu: true},
		{n: 3, h: 7, w: 7, cin: 17, cout: 33, bias: true, relu: true},
		{n: 2, h: 5, w: 3, cin: 33, cout: 1},
		{n: 1, h: 9, w: 11, cin: 64, cout: 40, bias: true},
		{n: 2, h: 6, w: 6, cin: 70, cout: 19, bias: true, relu: true}, // K = 630 crosses the K block
		{n: 1, h: 4, w: 5, cin: 100, cout: 9, bias: true},             // K blocks split kernel rows and taps
		{n: 2, h: 2, w: 1, cin: 1, cout: 3, relu: true},
	}
}

func runConvCase(t *testing.T, kern *gemmKernel, tc convCase, seed uint64) ([]float32, []float64) {
	t.Helper()
	rng := newRand(seed)
	in := randFloats(rng, tc.n*tc.h*tc.w*tc.cin)
	kernel := randFloats(rng, 9*tc.cin*tc.cout)
	var bias []float32
	if tc.bias {
		bias = randFloats(rng, tc.cout)
	}
	conv := newConv3x3With(kern, tc.cin, tc.cout, kernel, bias)
	g := newGuarded(tc.n * tc.h * tc.w * tc.cout)
	conv.Forward(tc.n, tc.h, tc.w, in, g.data, tc.relu)
	g.check(t)
	return g.data, refConv3x3(tc.n, tc.h, tc.w, tc.cin, tc.cout, in, kernel, bias, tc.relu)
}

func TestConv3x3Variants(t *testing.T) {
	for _, kern := range gemmVariants {
		for i, tc := range convCases() {
			t.Run(fmt.Sprintf("%s/%+v", kern.name, tc), func(t *testing.T) {
				got, want := runConvCase(t, kern, tc, uint64(i))
				if e := maxRelErr(got, want); e > 1e-5 {
					t.Fatalf("max relative error %.3g > 1e-5", e)
				}
			})
		}
	}
}

func TestConv3x3PublicAPI(t *testing.T) {
	rng := newRand(3)
	n, h, w, cin, cout := 2, 5, 4, 3, 9
	in := randFloats(rng, n*h*w*cin)
	kernel := randFloats(rng, 9*cin*cout)
	bias := randFloats(rng, cout)
	conv := NewConv3x3(cin, cout, kernel, bias)
	g := newGuarded(n * h * w * cout)
	conv.Forward(n, h, w, in, g.data, true)
	g.check(t)
	if e := maxRelErr(g.data, refConv3x3(n, h, w, cin, cout, in, kernel, bias, true)); e > 1e-5 {
		t.Fatalf("max relative error %.3g > 1e-5", e)
	}
}

func TestConv3x3ThreadsBitIdentical(t *testing.T) {
	tc := convCase{n: 2, h: 13, w: 11, cin: 24, cout: 40, bias: true, relu: true}
	for _, kern := range gemmVariants {
		t.Run(kern.name, func(t *testing.T) {
			var ref []float32
			for _, threads := range []int{1, 2, 5} {
				var got []float32
				withThreads(threads, func() { got, _ = runConvCase(t, kern, tc, 5) })
				if ref == nil {
					ref = got
				} else if i := bitsEqual(ref, got); i >= 0 {
					t.Fatalf("threads=%d differs at %d: %v vs %v", threads, i, got[i], ref[i])
				}
			}
		})
	}
}

func TestConv3x3RejectsBadSizes(t *testing.T) {
	mustPanic := func(name string, fn func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		fn()
	}
	mustPanic("short kernel", func() { NewConv3x3(3, 4, make([]float32, 10), nil) })
	mustPanic("short bias", func() { NewConv3x3(3, 4, make([]float32, 108), make([]float32, 3)) })
	conv := NewConv3x3(3, 4, make([]float32, 108), nil)
	mustPanic("short input", func() { conv.Forward(1, 2, 2, make([]float32, 11), make([]float32, 16), false) })
	mustPanic("short output", func() { conv.Forward(1, 2, 2, make([]float32, 12), make([]float32, 15), false) })
}

// TestConv3x3ConcurrentForward: one packed convolution is shared by
// goroutines (the trainer and server classify concurrently); every call
// must give the same bits as a call made alone.
func TestConv3x3ConcurrentForward(t *testing.T) {
	rng := newRand(21)
	n, h, w, cin, cout := 2, 9, 7, 20, 36
	in := randFloats(rng, n*h*w*cin)
	conv := NewConv3x3(cin, cout, randFloats(rng, 9*cin*cout), randFloats(rng, cout))
	want := make([]float32, n*h*w*cout)
	conv.Forward(n, h, w, in, want, true)
	const callers = 6
	outs := make([][]float32, callers)
	done := make(chan int)
	for g := 0; g < callers; g++ {
		go func(g int) {
			outs[g] = make([]float32, len(want))
			for rep := 0; rep < 5; rep++ {
				conv.Forward(n, h, w, in, outs[g], true)
			}
			done <- g
		}(g)
	}
	for g := 0; g < callers; g++ {
		<-done
	}
	for g, out := range outs {
		if i := bitsEqual(want, out); i >= 0 {
			t.Fatalf("caller %d differs at %d: %v vs %v", g, i, out[i], want[i])
		}
	}
}
