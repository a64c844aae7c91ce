package kernels

import "math"

// Softmax computes y[b] = exp(x[b] - max x[b]) / Σ exp(x[b] - max x[b]) for
// each of the batch rows of n logits. Subtracting the row maximum keeps every
// exponent ≤ 0, so large logits cannot overflow; the sum is kept in float64.
// x and y may be the same slice. A row holding +Inf or NaN, or only -Inf,
// yields NaN (the model rejects non-finite inputs before).
func Softmax(batch, n int, x, y []float32) {
	checkLen("Softmax x", x, batch*n)
	checkLen("Softmax y", y, batch*n)
	for b := 0; b < batch; b++ {
		xr := x[b*n : b*n+n]
		yr := y[b*n : b*n+n]
		m := float32(math.Inf(-1))
		for _, v := range xr {
			if v > m {
				m = v
			}
		}
		var sum float64
		for i, v := range xr {
			e := math.Exp(float64(v - m))
			sum += e
			yr[i] = float32(e)
		}
		inv := 1 / sum
		for i := range yr {
			yr[i] = float32(float64(yr[i]) * inv)
		}
	}
}
