package kernels

import (
	"fmt"
	"testing"
)

func f64Dense(batch, in, out int, x, kernel, bias []float64, relu bool) []float64 {
	y := make([]float64, batch*out)
	for b := 0; b < batch; b++ {
		for j := 0; j < out; j++ {
			s := 0.0
			if bias != nil {
				s = bias[j]
			}
			for i := 0; i < in; i++ {
				s += x[b*in+i] * kernel[i*out+j]
			}
			if relu {
				s = max(s, 0)
			}
			y[b*out+j] = s
		}
	}
	return y
}

var denseShapes = []struct{ batch, in, out int }{
	{1, 1, 1}, {1, 3, 10}, {2, 17, 5}, {3, 20, 30}, {1, 512, 300}, {7, 64, 33}, {64, 100, 10}, {1, 1000, 600},
}

func TestDenseForward(t *testing.T) {
	for i, s := range denseShapes {
		for _, relu := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d->%d/relu=%v", s.batch, s.in, s.out, relu), func(t *testing.T) {
				rng := newRand(uint64(300 + i))
				x := randFloats(rng, s.batch*s.in)
				kernel := randFloats(rng, s.in*s.out)
				bias := randFloats(rng, s.out)
				d := NewDense(s.in, s.out, kernel, bias)
				y := newGuarded(s.batch * s.out)
				d.Forward(s.batch, x, y.data, relu)
				y.check(t)
				if e := maxRelErr(y.data, f64Dense(s.batch, s.in, s.out, to64(x), to64(kernel), to64(bias), relu)); e > 1e-5 {
					t.Fatalf("error %g", e)
				}
			})
		}
	}
}

func TestDenseForwardThreadsBitIdentical(t *testing.T) {
	rng := newRand(31)
	const in, out = 700, 1100
	kernel := randFloats(rng, in*out)
	d := NewDense(in, out, kernel, nil)
	for _, batch := range []int{1, 5} {
		x := randFloats(rng, batch*in)
		var ref []float32
		for _, threads := range []int{1, 2, 3} {
			y := make([]float32, batch*out)
			withThreads(threads, func() { d.Forward(batch, x, y, false) })
			if ref == nil {
				ref = y
			} else if j := bitsEqual(ref, y); j >= 0 {
				t.Fatalf("batch %d threads %d differs at %d", batch, threads, j)
			}
		}
	}
}

func TestDenseBackward(t *testing.T) {
	for i, s := range denseShapes[:7] {
		t.Run(fmt.Sprintf("%dx%d->%d", s.batch, s.in, s.out), func(t *testing.T) {
			rng := newRand(uint64(400 + i))
			x := randFloats(rng, s.batch*s.in)
			kernel := randFloats(rng, s.in*s.out)
			dy := randFloats(rng, s.batch*s.out)
			dx := newGuarded(len(x))
			dk := newGuarded(len(kernel))
			db := newGuarded(s.out)
			DenseBackward(s.batch, s.in, s.out, x, kernel, dy, dx.data, dk.data, db.data, false)
			dx.check(t)
			dk.check(t)
			db.check(t)

			// Analytic float64 reference.
			wantDx := make([]float64, len(x))
			wantDk := make([]float64, len(kernel))
			wantDb := make([]float64, s.out)
			for b := 0; b < s.batch; b++ {
				for j := 0; j < s.out; j++ {
					g := float64(dy[b*s.out+j])
					wantDb[j] += g
					for k := 0; k < s.in; k++ {
						wantDx[b*s.in+k] += g * float64(kernel[k*s.out+j])
						wantDk[k*s.out+j] += g * float64(x[b*s.in+k])
					}
				}
			}
			for name, c := range map[string]struct {
				got  []float32
				want []float64
			}{"dx": {dx.data, wantDx}, "dkernel": {dk.data, wantDk}, "dbias": {db.data, wantDb}} {
				if e := maxRelErr(c.got, c.want); e > 1e-5 {
					t.Fatalf("%s error %g", name, e)
				}
			}

			if s.batch*s.in*s.out <= 5000 { // finite differences of the float64 forward pass (small cases: cost grows cubically)
				x64, k64, dy64 := to64(x), to64(kernel), to64(dy)
				fdX := numericGrad(func(v []float64) []float64 { return f64Dense(s.batch, s.in, s.out, v, k64, nil, false) }, x64, dy64, 1e-4)
				fdK := numericGrad(func(v []float64) []float64 { return f64Dense(s.batch, s.in, s.out, x64, v, nil, false) }, k64, dy64, 1e-4)
				fdB := numericGrad(func(v []float64) []float64 { return f64Dense(s.batch, s.in, s.out, x64, k64, v, false) }, make([]float64, s.out), dy64, 1e-4)
				if e := maxRelErr(dx.data, fdX); e > 1e-5 {
					t.Fatalf("dx vs finite differences %g", e)
				}
				if e := maxRelErr(dk.data, fdK); e > 1e-5 {
					t.Fatalf("dkernel vs finite differences %g", e)
				}
				if e := maxRelErr(db.data, fdB); e > 1e-5 {
					t.Fatalf("dbias vs finite differences %g", e)
				}
			}

			// dx nil and accumulate: dkernel and dbias double.
			DenseBackward(s.batch, s.in, s.out, x, kernel, dy, nil, dk.data, db.data, true)
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

// TestDenseRows4Variants checks the SIMD four-row update against the scalar
// one on lengths around the vector widths.
func TestDenseRows4Variants(t *testing.T) {
	rng := newRand(8)
	for _, n := range []int{1, 3, 4, 5, 15, 16, 17, 31, 64, 70, 256} {
		k0, k1, k2, k3 := randFloats(rng, n), randFloats(rng, n), randFloats(rng, n), randFloats(rng, n)
		y0 := randFloats(rng, n)
		a := randFloats(rng, 4)
		want := make([]float64, n)
		for j := range want {
			want[j] = float64(y0[j]) + float64(a[0])*float64(k0[j]) + float64(a[1])*float64(k1[j]) +
				float64(a[2])*float64(k2[j]) + float64(a[3])*float64(k3[j])
		}
		y := newGuarded(n)
		copy(y.data, y0)
		denseRows4(y.data, a[0], a[1], a[2], a[3], k0, k1, k2, k3)
		y.check(t)
		if e := maxRelErr(y.data, want); e > 1e-6 {
			t.Fatalf("n=%d: error %g", n, e)
		}
	}
}

// BenchmarkDenseBatch1 is the matrix-vector path (a 4096→4096 layer, as in
// the "seed" head) with the scalar row update next to the SIMD one.
func BenchmarkDenseBatch1(b *testing.B) {
	const in, out = 4096, 4096
	rng := newRand(1)
	d := NewDense(in, out, randFloats(rng, in*out), nil)
	x := randFloats(rng, in)
	y := make([]float32, out)
	active := denseRows4
	for _, v := range []struct {
		name string
		fn   func(y []float32, a0, a1, a2, a3 float32, k0, k1, k2, k3 []float32)
	}{{"scalar", denseRows4Scalar}, {"active", active}} {
		b.Run(v.name, func(b *testing.B) {
			denseRows4 = v.fn
			defer func() { denseRows4 = active }()
			c0 := processCPUTime()
			defer reportCPU(b, c0)
			for b.Loop() {
				d.Forward(1, x, y, false)
			}
			b.ReportMetric(float64(in*out*4)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}
