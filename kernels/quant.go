package kernels

import (
	"fmt"
	"math"
)

// QuantizeInt8 quantizes w symmetrically to int8 with one scale per output
// channel. The output channel is the last axis (HWIO conv kernels, [In][Out]
// dense kernels), so element i belongs to channel i%cout. For each channel,
// scale = max|w|/127 and q = round(w/scale) in [-127, 127]; DequantizeInt8
// restores q*scale, so the error per element is at most scale/2.
//
// It never panics on values: an all-zero channel gets scale 0 and q = 0.
// Non-finite inputs are not expected (the model layer rejects NaN/Inf weights
// before quantizing) but have a fixed, documented result: the scale is taken
// over the finite values only, NaN quantizes to 0 and ±Inf to ±127. It panics
// only on a programming error: cout ≤ 0 or len(w) not a multiple of cout.
func QuantizeInt8(w []float32, cout int) (q []int8, scales []float32) {
	if cout <= 0 || len(w)%cout != 0 {
		panic(fmt.Sprintf("kernels: QuantizeInt8: %d weights do not split into %d output channels", len(w), cout))
	}
	maxAbs := make([]float32, cout)
	for i, v := range w {
		a := float32(math.Abs(float64(v)))
		if a > maxAbs[i%cout] && !math.IsInf(float64(a), 0) {
			maxAbs[i%cout] = a
		}
	}
	scales = make([]float32, cout)
	inv := make([]float64, cout)
	for c, m := range maxAbs {
		if m > 0 {
			scales[c] = m / 127
			inv[c] = 127 / float64(m)
		}
	}
	q = make([]int8, len(w))
	for i, v := range w {
		f := float64(v)
		switch {
		case math.IsNaN(f):
			q[i] = 0
		case math.IsInf(f, 1):
			q[i] = 127
		case math.IsInf(f, -1):
			q[i] = -127
		default:
			r := math.Round(f * inv[i%cout])
			q[i] = int8(max(-127, min(127, r)))
		}
	}
	return q, scales
}

// DequantizeInt8 writes w[i] = q[i] * scales[i%len(scales)], the inverse of
// QuantizeInt8 up to its rounding error.
func DequantizeInt8(q []int8, scales []float32, w []float32) {
	cout := len(scales)
	if cout == 0 || len(q)%cout != 0 {
		panic(fmt.Sprintf("kernels: DequantizeInt8: %d values do not split into %d output channels", len(q), cout))
	}
	checkLen("DequantizeInt8 w", w, len(q))
	for i, v := range q {
		w[i] = float32(v) * scales[i%cout]
	}
}
