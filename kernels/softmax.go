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

// SoftmaxCrossEntropy returns the mean cross-entropy of softmax(logits)
// against targets (both [batch][k], one-hot or soft): −Σ t·log p / Σ t,
// summed in float64, with p floored at 1e-30 so a vanishing probability
// gives a large finite loss. Rows of targets that are all zero (padding of
// a short last batch) contribute nothing; all-zero targets give 0. probs
// ([batch][k]) receives the softmax.
func SoftmaxCrossEntropy(batch, k int, logits, targets, probs []float32) float32 {
	checkLen("SoftmaxCrossEntropy targets", targets, batch*k)
	Softmax(batch, k, logits, probs)
	var loss, weight float64
	for i, t := range targets[:batch*k] {
		if t != 0 {
			loss -= float64(t) * math.Log(math.Max(float64(probs[i]), 1e-30))
			weight += float64(t)
		}
	}
	if weight == 0 {
		weight = 1
	}
	return float32(loss / weight)
}

// SoftmaxCrossEntropyBackward writes the gradient of SoftmaxCrossEntropy
// with respect to the logits, times dloss: dlogits[r][j] =
// (p[r][j]·Σ_j t[r][j] − t[r][j]) / Σ t · dloss. dlogits ([batch][k]) may
// not alias logits or targets.
func SoftmaxCrossEntropyBackward(batch, k int, logits, targets []float32, dloss float32, dlogits []float32) {
	checkLen("SoftmaxCrossEntropyBackward targets", targets, batch*k)
	Softmax(batch, k, logits, dlogits)
	var weight float64
	for _, v := range targets[:batch*k] {
		weight += float64(v)
	}
	if weight == 0 {
		weight = 1
	}
	scale := dloss / float32(weight)
	for r := 0; r < batch; r++ {
		var rowT float32
		for _, v := range targets[r*k : r*k+k] {
			rowT += v
		}
		for j := r * k; j < r*k+k; j++ {
			dlogits[j] = (dlogits[j]*rowT - targets[j]) * scale
		}
	}
}
