package kernels

// Dense is a fully connected layer y = x·K + bias (optionally ReLU) with
// K stored [in][out]. NewDense packs K once for the batched path (packed
// SGEMM) and keeps the plain rows for batch 1, where the product is a
// matrix-vector one and packing x would cost more than it saves.
type Dense struct {
	in, out int
	kernel  []float32 // [in][out], a private copy
	packed  *PackedB
	bias    []float32 // [out], zeros when the layer has none
}

// denseColumnsPerTask is how many output columns one goroutine of the
// batch-1 path owns; every column sums over all inputs in the same order
// whichever goroutine runs it, so results do not depend on the thread count.
const denseColumnsPerTask = 256

// NewDense copies and packs kernel ([in][out]); bias ([out]) may be nil.
func NewDense(in, out int, kernel, bias []float32) *Dense {
	if in <= 0 || out <= 0 {
		shapePanic("NewDense", "bad sizes in=%d out=%d", in, out)
	}
	checkLen("NewDense kernel", kernel, in*out)
	d := &Dense{in: in, out: out}
	d.kernel = append([]float32(nil), kernel[:in*out]...)
	d.packed = PackB(false, in, out, d.kernel, out)
	d.bias = make([]float32, out)
	if bias != nil {
		checkLen("NewDense bias", bias, out)
		copy(d.bias, bias)
	}
	return d
}

// In returns the input width.
func (d *Dense) In() int { return d.in }

// Out returns the output width.
func (d *Dense) Out() int { return d.out }

// Forward computes y = x·K + bias for batch rows (x is [batch][in], y is
// [batch][out], only written), then max(·, 0) when relu is set.
func (d *Dense) Forward(batch int, x, y []float32, relu bool) {
	in, out := d.in, d.out
	checkLen("Dense.Forward x", x, batch*in)
	checkLen("Dense.Forward y", y, batch*out)
	if batch != 1 {
		GemmPacked(batch, x, in, d.packed, y, out, false, d.bias, relu)
		return
	}
	tasks := (out + denseColumnsPerTask - 1) / denseColumnsPerTask
	parallelFor(tasks, nil, func(_, task int) {
		j0 := task * denseColumnsPerTask
		j1 := min(out, j0+denseColumnsPerTask)
		yr := y[j0:j1]
		copy(yr, d.bias[j0:j1])
		i := 0
		for ; i+4 <= in; i += 4 {
			k := d.kernel[i*out:]
			denseRows4(yr, x[i], x[i+1], x[i+2], x[i+3],
				k[j0:j1], k[out+j0:out+j1], k[2*out+j0:2*out+j1], k[3*out+j0:3*out+j1])
		}
		for ; i < in; i++ {
			axpy(yr, x[i], d.kernel[i*out+j0:i*out+j1])
		}
		if relu {
			for j, v := range yr {
				if v < 0 {
					yr[j] = 0
				}
			}
		}
	})
}

// denseRows4 computes y += a0·k0 + a1·k1 + a2·k2 + a3·k3 over len(y)
// elements: four rows of the kernel per pass over y, so y stays in
// registers and the kernel rows stream from memory. SIMD builds replace it.
var denseRows4 = denseRows4Scalar

func denseRows4Scalar(y []float32, a0, a1, a2, a3 float32, k0, k1, k2, k3 []float32) {
	n := len(y)
	k0, k1, k2, k3 = k0[:n], k1[:n], k2[:n], k3[:n]
	for j := range y {
		y[j] = y[j] + a0*k0[j] + a1*k1[j] + a2*k2[j] + a3*k3[j]
	}
}

// axpy computes y += a·x over len(y) elements.
func axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for j, v := range x {
		y[j] += a * v
	}
}

// DenseBackward computes the gradients of y = x·K + b for a batch:
// dx = dy·Kᵀ ([batch][in], overwritten), dkernel = xᵀ·dy ([in][out]) and
// dbias = Σ_batch dy ([out]). Each output may be nil to skip it (dx for the
// first layer; a graph that asks for one gradient at a time), and so may
// what only it reads: kernel when dx is nil, x when dkernel is nil. With
// accumulate set, dkernel and dbias are added to instead of overwritten.
// x is [batch][in], kernel [in][out], dy [batch][out]. Apply ReLUBackward
// to dy first when the layer has a ReLU.
func DenseBackward(batch, in, out int, x, kernel, dy, dx, dkernel, dbias []float32, accumulate bool) {
	checkLen("DenseBackward dy", dy, batch*out)
	if dx != nil {
		checkLen("DenseBackward kernel", kernel, in*out)
		checkLen("DenseBackward dx", dx, batch*in)
		if batch > 0 {
			Gemm(false, true, batch, in, out, dy, out, kernel, out, dx, in, false)
		}
	}
	if dkernel != nil {
		checkLen("DenseBackward x", x, batch*in)
		checkLen("DenseBackward dkernel", dkernel, in*out)
		if batch > 0 {
			Gemm(true, false, in, out, batch, x, in, dy, out, dkernel, out, accumulate)
		} else if !accumulate {
			clear(dkernel[:in*out])
		}
	}
	if dbias != nil {
		BiasBackward(batch, out, dy, dbias, accumulate)
	}
}
