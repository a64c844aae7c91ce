package kernels

import (
	"math"
	"testing"
)

func TestQuantizeInt8RoundTrip(t *testing.T) {
	for _, cout := range []int{1, 3, 17, 64} {
		rng := newRand(uint64(cout))
		w := randFloats(rng, 9*5*cout)
		for i := range w {
			w[i] *= float32(1 + i%cout) // channels of different magnitude
		}
		q, scales := QuantizeInt8(w, cout)
		if len(q) != len(w) || len(scales) != cout {
			t.Fatalf("lengths %d, %d", len(q), len(scales))
		}
		maxAbs := make([]float64, cout)
		for i, v := range w {
			maxAbs[i%cout] = max(maxAbs[i%cout], math.Abs(float64(v)))
		}
		for c, s := range scales {
			if want := maxAbs[c] / 127; math.Abs(float64(s)-want) > 1e-6*want {
				t.Fatalf("cout=%d channel %d: scale %v, want max|w|/127 = %v", cout, c, s, want)
			}
		}
		back := make([]float32, len(w))
		DequantizeInt8(q, scales, back)
		sawExtreme := make([]bool, cout)
		for i, v := range w {
			c := i % cout
			if q[i] == 127 || q[i] == -127 {
				sawExtreme[c] = true
			}
			if q[i] < -127 {
				t.Fatalf("q[%d] = %d outside [-127, 127]", i, q[i])
			}
			if err := math.Abs(float64(back[i] - v)); err > float64(scales[c])/2*(1+1e-5) {
				t.Fatalf("cout=%d element %d: |%v - %v| > scale/2 = %v", cout, i, back[i], v, scales[c]/2)
			}
		}
		for c, ok := range sawExtreme {
			if !ok {
				t.Fatalf("channel %d: its largest weight did not map to ±127", c)
			}
		}
	}
}

func TestQuantizeInt8ZeroAndNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	// cout = 3: channel 0 all zero, channel 1 holds NaN and -Inf, channel 2 +Inf only.
	w := []float32{
		0, 0.5, inf,
		0, nan, 0,
		0, -1, 0,
		0, float32(math.Inf(-1)), 0,
	}
	q, scales := QuantizeInt8(w, 3)
	if scales[0] != 0 || scales[2] != 0 {
		t.Fatalf("scales %v: want 0 for the all-zero and the Inf-only channel", scales)
	}
	if want := float32(1.0 / 127); scales[1] != want {
		t.Fatalf("scale of channel 1 = %v, want %v (finite values only)", scales[1], want)
	}
	want := []int8{0, 64, 127, 0, 0, 0, 0, -127, 0, 0, -127, 0}
	for i := range want {
		if q[i] != want[i] {
			t.Fatalf("q = %v, want %v", q, want)
		}
	}
	back := make([]float32, len(w))
	DequantizeInt8(q, scales, back)
	for i, v := range back {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("dequantized[%d] = %v, want finite", i, v)
		}
	}
}

func TestQuantizeInt8BadShapePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for 5 weights over 2 channels")
		}
	}()
	QuantizeInt8(make([]float32, 5), 2)
}
