//go:build linux

package cuda

import (
	"fmt"

	"vggo/kernels"
)

// prepare makes the descriptors of call c and returns the function that
// issues it. Shapes come from the plan's buffers (activations NHWC, dense
// values [B,N], which cuDNN sees as N channels of 1×1).
func (r *Runner) prepare(c Call) (func() error, error) {
	h, a := r.d.dnn, c.Args
	ptr := func(i int) uintptr { return r.mem[a[i]].Ptr }
	desc := func(i int) (uintptr, error) { return r.desc(a[i]) }
	switch c.Op {
	case ConvForward, ConvBackwardFilter, ConvBackwardData:
		return r.prepareConv(c)
	case AddBias:
		bd, err1 := desc(0)
		yd, err2 := desc(1)
		return func() error {
			return dnnErr("cudnnAddTensor", cudnnAddTensor(h, &one, bd, ptr(0), &one, yd, ptr(1)))
		}, firstErr(err1, err2)
	case ReLU, ReLUBackward:
		act, err1 := reluDesc()
		yd, err2 := desc(0)
		if c.Op == ReLU {
			return func() error {
				return dnnErr("cudnnActivationForward", cudnnActivationForward(h, act, &one, yd, ptr(0), &zero, yd, ptr(0)))
			}, firstErr(err1, err2)
		}
		// ReLU's gradient mask is y > 0, the same as x > 0, so y stands
		// in for the pre-activation x, which is not kept.
		return func() error {
			return dnnErr("cudnnActivationBackward", cudnnActivationBackward(h, act, &one, yd, ptr(0), yd, ptr(1), yd, ptr(0), &zero, yd, ptr(1)))
		}, firstErr(err1, err2)
	case MaxPool, GlobalAvgPool:
		pool, err1 := r.poolDesc(c)
		xd, err2 := desc(0)
		yd, err3 := desc(1)
		return func() error {
			return dnnErr("cudnnPoolingForward", cudnnPoolingForward(h, pool, &one, xd, ptr(0), &zero, yd, ptr(1)))
		}, firstErr(err1, err2, err3)
	case MaxPoolBackward, AvgPoolBackward:
		pool, err1 := r.poolDesc(c)
		xd, err2 := desc(0)
		yd, err3 := desc(1)
		return func() error {
			return dnnErr("cudnnPoolingBackward", cudnnPoolingBackward(h, pool, &one, yd, ptr(1), yd, ptr(2), xd, ptr(0), &zero, xd, ptr(3)))
		}, firstErr(err1, err2, err3)
	case Dropout:
		var op uintptr
		err1 := dnnErr("cudnnCreateOpTensorDescriptor", cudnnCreateOpTensorDescriptor(&op))
		if err1 == nil {
			err1 = dnnErr("cudnnSetOpTensorDescriptor", cudnnSetOpTensorDescriptor(op, dnnOpMul, dnnFloat, dnnNoNaN))
		}
		xd, err2 := desc(0)
		return func() error {
			return dnnErr("cudnnOpTensor", cudnnOpTensor(h, op, &one, xd, ptr(0), &one, xd, ptr(1), &zero, xd, ptr(2)))
		}, firstErr(err1, err2)
	case BiasGrad:
		dyd, err1 := desc(0)
		dbd, err2 := desc(1)
		return func() error {
			return dnnErr("cudnnConvolutionBackwardBias", cudnnConvolutionBackwardBias(h, &one, dyd, ptr(0), &zero, dbd, ptr(1)))
		}, firstErr(err1, err2)
	case Gemm, GemmGradWeights, GemmGradInput:
		return r.prepareGemm(c), nil
	case LossOnHost:
		return r.hostLoss(ptr(0), ptr(1)), nil
	case AdamUpdate:
		w, g, m, v := r.mem[a[0]], r.mem[a[1]], r.mem[a[2]], r.mem[a[3]]
		return func() error {
			return r.d.adamStep(w, g, m, v, Adam{LR: r.lr, Beta1: r.opt.Adam.Beta1, Beta2: r.opt.Adam.Beta2, Eps: r.opt.Adam.Eps}, r.iter)
		}, nil
	}
	return nil, fmt.Errorf("no GPU implementation")
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// desc describes buffer i to cuDNN: [B,H,W,C] as it is, [B,N] as
// B×1×1×N, a bias [C] as 1×1×1×C.
func (r *Runner) desc(i int) (uintptr, error) {
	s := r.p.Bufs[i].Shape
	switch len(s) {
	case 4:
		return tensorDesc(s[0], s[1], s[2], s[3])
	case 2:
		return tensorDesc(s[0], 1, 1, s[1])
	case 1:
		return tensorDesc(1, 1, 1, s[0])
	}
	return 0, fmt.Errorf("buffer %s: rank %d", r.p.Bufs[i].Name, len(s))
}

func reluDesc() (uintptr, error) {
	var act uintptr
	if err := dnnErr("cudnnCreateActivationDescriptor", cudnnCreateActivationDescriptor(&act)); err != nil {
		return 0, err
	}
	return act, dnnErr("cudnnSetActivationDescriptor", cudnnSetActivationDescriptor(act, dnnReLU, dnnNoNaN, 0))
}

// poolDesc is 2x2/2 max pooling, or (global average pools) the average
// over the whole H×W of the call's input.
func (r *Runner) poolDesc(c Call) (uintptr, error) {
	var pool uintptr
	if err := dnnErr("cudnnCreatePoolingDescriptor", cudnnCreatePoolingDescriptor(&pool)); err != nil {
		return 0, err
	}
	mode, win := int32(dnnPoolMax), int32(2)
	if c.Op == GlobalAvgPool || c.Op == AvgPoolBackward {
		mode, win = dnnPoolAvg, int32(r.p.Bufs[c.Args[0]].Shape[1])
	}
	return pool, dnnErr("cudnnSetPooling2dDescriptor", cudnnSetPooling2dDescriptor(pool, mode, dnnNoNaN, win, win, 0, 0, win, win))
}

// prepareConv describes one convolution call and picks its algorithm.
func (r *Runner) prepareConv(c Call) (func() error, error) {
	h, a := r.d.dnn, c.Args
	// The activation (x or dx) and the conv output (y or dy) and the kernel,
	// whatever the call's argument order.
	var xi, yi, wi int
	switch c.Op {
	case ConvForward: // x, w, y
		xi, wi, yi = a[0], a[1], a[2]
	case ConvBackwardFilter: // x, dy, dw
		xi, yi, wi = a[0], a[1], a[2]
	case ConvBackwardData: // w, dy, dx
		wi, yi, xi = a[0], a[1], a[2]
	}
	ws := r.p.Bufs[wi].Shape // [Cout,3,3,Cin]
	xd, err1 := r.desc(xi)
	yd, err2 := r.desc(yi)
	wd, err3 := filterDesc(ws[3], ws[0])
	cd, err4 := convDesc(r.opt.Strict)
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	x, y, w := r.mem[xi].Ptr, r.mem[yi].Ptr, r.mem[wi].Ptr
	var algo int32
	var need uint64
	var err error
	switch c.Op {
	case ConvForward:
		algo, need, err = pickAlgo("cudnnGetConvolutionForwardAlgorithm_v7", func(want int32, got *int32, perf *algoPerf) int32 {
			return cudnnGetConvolutionForwardAlgo(h, xd, wd, cd, yd, want, got, perf)
		}, r.opt.Workspace)
	case ConvBackwardFilter:
		algo, need, err = pickAlgo("cudnnGetConvolutionBackwardFilterAlgorithm_v7", func(want int32, got *int32, perf *algoPerf) int32 {
			return cudnnGetConvolutionBwdFilterAlgo(h, xd, yd, cd, wd, want, got, perf)
		}, r.opt.Workspace)
	case ConvBackwardData:
		algo, need, err = pickAlgo("cudnnGetConvolutionBackwardDataAlgorithm_v7", func(want int32, got *int32, perf *algoPerf) int32 {
			return cudnnGetConvolutionBwdDataAlgo(h, wd, yd, cd, xd, want, got, perf)
		}, r.opt.Workspace)
	}
	if err != nil {
		return nil, err
	}
	r.wsNeed = max(r.wsNeed, need)
	switch c.Op {
	case ConvForward:
		return func() error {
			return dnnErr("cudnnConvolutionForward", cudnnConvolutionForward(h, &one, xd, x, wd, w, cd, algo, r.ws.Ptr, need, &zero, yd, y))
		}, nil
	case ConvBackwardFilter:
		return func() error {
			return dnnErr("cudnnConvolutionBackwardFilter", cudnnConvolutionBackwardFilter(h, &one, xd, x, yd, y, cd, algo, r.ws.Ptr, need, &zero, wd, w))
		}, nil
	default:
		return func() error {
			return dnnErr("cudnnConvolutionBackwardData", cudnnConvolutionBackwardData(h, &one, wd, w, yd, y, cd, algo, r.ws.Ptr, need, &zero, xd, x))
		}, nil
	}
}

// prepareGemm lowers the dense layer's products to column-major cuBLAS:
// a row-major [R][C] matrix is column-major C×R, so y = x·w (row-major)
// is yᵀ = wᵀ·xᵀ (column-major), with no transposes in memory.
func (r *Runner) prepareGemm(c Call) func() error {
	a := c.Args
	p := func(i int) uintptr { return r.mem[a[i]].Ptr }
	shape := func(i int) []int { return r.p.Bufs[a[i]].Shape }
	switch c.Op {
	case Gemm: // x [B,In], w [In,Out], y [B,Out]
		b, in, out := shape(0)[0], shape(1)[0], shape(1)[1]
		return func() error { return r.d.gemm(blasOpN, blasOpN, out, b, in, p(1), out, p(0), in, 0, p(2), out) }
	case GemmGradWeights: // x [B,In], dy [B,Out], dw [In,Out] = xᵀ·dy
		b, in, out := shape(0)[0], shape(0)[1], shape(1)[1]
		return func() error { return r.d.gemm(blasOpN, blasOpT, out, in, b, p(1), out, p(0), in, 0, p(2), out) }
	default: // GemmGradInput: dy [B,Out], w [In,Out], dx [B,In] = dy·wᵀ
		b, in, out := shape(0)[0], shape(1)[0], shape(1)[1]
		return func() error { return r.d.gemm(blasOpT, blasOpN, in, b, out, p(1), out, p(0), out, 0, p(2), in) }
	}
}

// hostLoss brings the logits to the host, computes the loss and its
// gradient with the CPU trainer's own functions (B×K values: far less work
// than a kernel launch's overhead), and sends the gradient back.
func (r *Runner) hostLoss(logits, dlogits uintptr) func() error {
	b, k := r.p.Batch, r.p.Spec.Classes
	return func() error {
		if err := (Buffer{Ptr: logits, N: b * k}).download(r.logits); err != nil {
			return err
		}
		r.lastLoss = kernels.SoftmaxCrossEntropy(b, k, r.logits, r.targets, r.dlogits)
		kernels.SoftmaxCrossEntropyBackward(b, k, r.logits, r.targets, 1, r.dlogits)
		return (Buffer{Ptr: dlogits, N: b * k}).upload(r.dlogits)
	}
}
