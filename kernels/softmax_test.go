package kernels

import (
	"math"
	"testing"
)

func f64Softmax(batch, n int, x []float32) []float64 {
	y := make([]float64, batch*n)
	for b := 0; b < batch; b++ {
		m := math.Inf(-1)
		for _, v := range x[b*n : b*n+n] {
			m = max(m, float64(v))
		}
		s := 0.0
		for i, v := range x[b*n : b*n+n] {
			y[b*n+i] = math.Exp(float64(v) - m)
			s += y[b*n+i]
		}
		for i := range n {
			y[b*n+i] /= s
		}
	}
	return y
}

func TestSoftmax(t *testing.T) {
	rng := newRand(3)
	cases := []struct {
		name     string
		batch, n int
		x        []float32
	}{
		{"one class", 2, 1, []float32{5, -3}},
		{"random", 3, 10, nil},
		{"large logits", 1, 3, []float32{1000, 1001, 999}},
		{"very negative", 1, 4, []float32{-1e4, -1e4 + 1, -1e4 + 2, -2e4}},
		{"odd width", 5, 37, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := tc.x
			if x == nil {
				x = randFloats(rng, tc.batch*tc.n)
				for i := range x {
					x[i] *= 20
				}
			}
			y := newGuarded(tc.batch * tc.n)
			Softmax(tc.batch, tc.n, x, y.data)
			y.check(t)
			if e := maxRelErr(y.data, f64Softmax(tc.batch, tc.n, x)); e > 1e-6 {
				t.Fatalf("error %g", e)
			}
			for b := 0; b < tc.batch; b++ {
				s := 0.0
				for _, v := range y.data[b*tc.n : b*tc.n+tc.n] {
					s += float64(v)
				}
				if math.Abs(s-1) > 1e-5 {
					t.Fatalf("row %d sums to %v", b, s)
				}
			}
		})
	}
}

func TestSoftmaxInPlace(t *testing.T) {
	x := randFloats(newRand(4), 2*7)
	want := f64Softmax(2, 7, x)
	Softmax(2, 7, x, x)
	if e := maxRelErr(x, want); e > 1e-6 {
		t.Fatalf("in-place error %g", e)
	}
}

func TestSoftmaxNonFiniteRows(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, row := range [][]float32{{1, inf, 2}, {float32(math.NaN()), 0, 1}, {-inf, -inf, -inf}} {
		y := make([]float32, len(row))
		Softmax(1, len(row), row, y)
		if !math.IsNaN(float64(y[0])) {
			t.Fatalf("Softmax(%v) = %v, want NaN (documented)", row, y)
		}
	}
}
