package kernels

import (
	"fmt"
	"math"
	"testing"
)

// adamReference is one Adam step in float64 throughout, the independent
// reference for Adam.Update (which keeps the moments in float32).
func adamReference(a *Adam, w, g, m, v []float64) {
	for j := range w {
		gj := g[j]
		if a.Clip > 0 {
			gj = math.Max(-float64(a.Clip), math.Min(float64(a.Clip), gj))
		}
		b1, b2 := float64(a.Beta1), float64(a.Beta2)
		m[j] = b1*m[j] + (1-b1)*gj
		v[j] = b2*v[j] + (1-b2)*gj*gj
		w[j] -= a.LR * (m[j] / a.C1) / (math.Sqrt(v[j]/a.C2) + a.Eps)
	}
}

// TestAdamUpdate checks every variant of the Adam step: against the
// float64 reference within 1e-5 relative on w, m and v; bit for bit
// against the portable loop; the gradient zeroed; nothing written outside
// the buffers; the same bits with 1 and 2 threads.
func TestAdamUpdate(t *testing.T) {
	for _, n := range []int{1, 7, 8, 13, 16, 33, 100, adamChunk + 21} {
		for _, clip := range []float32{0, 0.3} {
			a := &Adam{Beta1: 0.9, Beta2: 0.999, LR: 1e-3, Eps: 1e-7, C1: 1 - math.Pow(0.9, 3), C2: 1 - math.Pow(0.999, 3), Clip: clip}
			rng := newRand(uint64(n))
			w0, g0, m0, v0 := randFloats(rng, n), randFloats(rng, n), randFloats(rng, n), randFloats(rng, n)
			for i := range v0 {
				v0[i] *= v0[i] // second moments are not negative
				if i%3 == 0 {
					m0[i], v0[i] = 0, 0 // as at the first step, where every rounding shows
				}
			}
			wr, gr, mr, vr := f64s(w0), f64s(g0), f64s(m0), f64s(v0)
			adamReference(a, wr, gr, mr, vr)
			var want [][]float32 // the portable loop's w, m, v
			for _, sp := range adamSpans {
				t.Run(fmt.Sprintf("n=%d/clip=%g/%s", n, clip, sp.name), func(t *testing.T) {
					bufs := make([]*guarded, 4)
					for i, src := range [][]float32{w0, g0, m0, v0} {
						bufs[i] = newGuarded(n)
						copy(bufs[i].data, src)
					}
					w, g, m, v := bufs[0].data, bufs[1].data, bufs[2].data, bufs[3].data
					sp.fn(a, w, g, m, v)
					for _, b := range bufs {
						b.check(t)
					}
					for i, x := range g {
						if x != 0 || math.Signbit(float64(x)) {
							t.Fatalf("g[%d] = %v after the step, want +0", i, x)
						}
					}
					for _, c := range []struct {
						name string
						got  []float32
						ref  []float64
					}{{"w", w, wr}, {"m", m, mr}, {"v", v, vr}} {
						for i := range c.got {
							if d := math.Abs(float64(c.got[i]) - c.ref[i]); d > 1e-5*math.Max(1, math.Abs(c.ref[i])) {
								t.Fatalf("%s[%d] = %v, float64 reference %v", c.name, i, c.got[i], c.ref[i])
							}
						}
					}
					if want == nil {
						want = [][]float32{append([]float32(nil), w...), append([]float32(nil), m...), append([]float32(nil), v...)}
						return
					}
					for i, got := range [][]float32{w, m, v} {
						if at := bitsEqual(got, want[i]); at >= 0 {
							t.Fatalf("%s differs from the portable loop at %d: %v vs %v", "wmv"[i:i+1], at, got[at], want[i][at])
						}
					}
				})
			}
			for _, threads := range []int{1, 2} {
				SetThreads(threads)
				w, g, m, v := clone32(w0), clone32(g0), clone32(m0), clone32(v0)
				a.Update(w, g, m, v)
				for i, got := range [][]float32{w, m, v} {
					if at := bitsEqual(got, want[i]); at >= 0 {
						t.Fatalf("n=%d threads=%d: Update's %s differs from the portable loop at %d", n, threads, "wmv"[i:i+1], at)
					}
				}
			}
			SetThreads(0)
		}
	}
}

func f64s(s []float32) []float64 {
	r := make([]float64, len(s))
	for i, v := range s {
		r[i] = float64(v)
	}
	return r
}

func clone32(s []float32) []float32 { return append([]float32(nil), s...) }

// BenchmarkAdamUpdate times one Adam step over VGG16's conv weights
// (14.7 M parameters) with the active variant and the portable loop.
func BenchmarkAdamUpdate(b *testing.B) {
	const n = 14_714_688
	rng := newRand(1)
	w, g, m, v := randFloats(rng, n), make([]float32, n), make([]float32, n), make([]float32, n)
	a := &Adam{Beta1: 0.9, Beta2: 0.999, LR: 1e-3, Eps: 1e-7, C1: 0.1, C2: 0.001}
	for _, sp := range []struct {
		name string
		fn   func(a *Adam, w, g, m, v []float32)
	}{{"active", adamSpan}, {"scalar", adamSpanScalar}} {
		b.Run(sp.name, func(b *testing.B) {
			saved := adamSpan
			adamSpan = sp.fn
			defer func() { adamSpan = saved }()
			for range b.N {
				a.Update(w, g, m, v)
			}
		})
	}
}
