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

// f64CrossEntropy is the float64 reference of SoftmaxCrossEntropy.
func f64CrossEntropy(batch, k int, logits, targets []float64) float64 {
	var loss, weight float64
	for b := 0; b < batch; b++ {
		m := math.Inf(-1)
		for _, v := range logits[b*k : b*k+k] {
			m = max(m, v)
		}
		z := 0.0
		for _, v := range logits[b*k : b*k+k] {
			z += math.Exp(v - m)
		}
		for j := b * k; j < b*k+k; j++ {
			loss -= targets[j] * (logits[j] - m - math.Log(z))
			weight += targets[j]
		}
	}
	if weight == 0 {
		return 0
	}
	return loss / weight
}

// TestSoftmaxCrossEntropy checks the loss and its gradient against the
// float64 reference and central differences of it, with soft targets, a
// zero padding row and a dloss that is not 1.
func TestSoftmaxCrossEntropy(t *testing.T) {
	const batch, k = 4, 5
	rng := newRand(21)
	logits := randFloats(rng, batch*k)
	for i := range logits {
		logits[i] *= 4
	}
	targets := make([]float32, batch*k)
	targets[2] = 1
	targets[k+1], targets[k+4] = 0.25, 0.75 // soft
	targets[3*k] = 1                        // row 2 is padding
	t64 := to64(targets)

	probs := newGuarded(batch * k)
	loss := SoftmaxCrossEntropy(batch, k, logits, targets, probs.data)
	probs.check(t)
	if want := f64CrossEntropy(batch, k, to64(logits), t64); math.Abs(float64(loss)-want) > 1e-6*math.Abs(want) {
		t.Fatalf("loss %g, want %g", loss, want)
	}
	if e := maxRelErr(probs.data, f64Softmax(batch, k, logits)); e > 1e-6 {
		t.Fatalf("probabilities error %g", e)
	}

	const dloss = 0.7
	d := newGuarded(batch * k)
	SoftmaxCrossEntropyBackward(batch, k, logits, targets, dloss, d.data)
	d.check(t)
	fd := numericGrad(func(l []float64) []float64 { return []float64{f64CrossEntropy(batch, k, l, t64)} }, to64(logits), []float64{dloss}, 1e-5)
	if e := maxRelErr(d.data, fd); e > 1e-5 {
		t.Fatalf("gradient vs finite differences: %g", e)
	}
	for j := 2 * k; j < 3*k; j++ {
		if d.data[j] != 0 {
			t.Fatalf("padding row has gradient %g", d.data[j])
		}
	}
}

func TestSoftmaxCrossEntropyNoTargets(t *testing.T) {
	logits := []float32{1, 2, 3, 4}
	targets := make([]float32, 4)
	if l := SoftmaxCrossEntropy(2, 2, logits, targets, make([]float32, 4)); l != 0 {
		t.Fatalf("loss %g without targets, want 0", l)
	}
	d := make([]float32, 4)
	SoftmaxCrossEntropyBackward(2, 2, logits, targets, 1, d)
	for _, v := range d {
		if v != 0 {
			t.Fatalf("gradient %v without targets, want zeros", d)
		}
	}
}
