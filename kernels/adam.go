package kernels

import "math"

// Adam is one Adam optimizer step over a parameter tensor, the trainer's
// largest elementwise pass (every weight of the network, every step). Its
// arithmetic is fixed: the moments in float32, the bias-corrected update in
// float64, each product and sum rounded on its own (no fused multiply-add),
// so the SIMD twins, which do the same operations 4 or 8 lanes at a time,
// give the portable loop's results bit for bit and a resumed run stays
// identical to an uninterrupted one on every CPU.
type Adam struct {
	Beta1, Beta2 float32 // moment decays
	LR, Eps      float64
	C1, C2       float64 // bias corrections 1 − β1ᵗ and 1 − β2ᵗ of step t
	Clip         float32 // clip each gradient element to ±Clip when > 0
}

// adamChunk is how many elements one task of Adam.Update takes: a multiple
// of every SIMD width, big enough that the threads' hand-off costs nothing.
const adamChunk = 1 << 14

// adamSpan updates elements [0, len(w)) of one chunk; SIMD builds replace
// it at init when the CPU allows.
var adamSpan = adamSpanScalar

// adamSpans lists every adamSpan this CPU can run, for the tests.
var adamSpans = []struct {
	name string
	fn   func(a *Adam, w, g, m, v []float32)
}{{"scalar", adamSpanScalar}}

// Update applies the step to weights w in place from gradients g and the
// first and second moments m and v (all of len(w)), then zeroes g for the
// next batch (the tape machine adds into gradient values). Per element:
//
//	g' = clip(g);  m = β1·m + (1−β1)·g';  v = β2·v + ((1−β2)·g')·g'
//	w −= float32(LR · (m/C1) / (√(v/C2) + Eps))
//
// The result does not depend on the thread count.
func (a *Adam) Update(w, g, m, v []float32) {
	n := len(w)
	checkLen("Adam.Update g", g, n)
	checkLen("Adam.Update m", m, n)
	checkLen("Adam.Update v", v, n)
	parallelFor((n+adamChunk-1)/adamChunk, nil, func(_, task int) {
		lo, hi := task*adamChunk, min(n, (task+1)*adamChunk)
		adamSpan(a, w[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi])
	})
}

// adamSpanScalar is the portable loop, the definition the twins match.
func adamSpanScalar(a *Adam, w, g, m, v []float32) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1, b2 := a.Beta1, a.Beta2
	ob1, ob2 := 1-b1, 1-b2
	for j := range w {
		gj := g[j]
		if a.Clip > 0 {
			gj = max(-a.Clip, min(a.Clip, gj))
		}
		m[j] = float32(b1*m[j]) + float32(ob1*gj)
		v[j] = float32(b2*v[j]) + float32(float32(ob2*gj)*gj)
		mh := float64(m[j]) / a.C1
		vh := float64(v[j]) / a.C2
		w[j] -= float32(float64(a.LR*mh) / (math.Sqrt(vh) + a.Eps))
		g[j] = 0
	}
}
