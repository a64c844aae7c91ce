//go:build linux

package cuda

import (
	"fmt"
)

// cuDNN (cudnn_ops.h, cudnn_cnn.h; the legacy API, which cuDNN 9 still
// ships). Every function returns a cudnnStatus_t, 0 on success.
var (
	cudnnCreate                      func(h *uintptr) int32
	cudnnDestroy                     func(h uintptr) int32
	cudnnGetVersion                  func() uint64
	cudnnGetErrorString              func(status int32) string
	cudnnCreateTensorDescriptor      func(d *uintptr) int32
	cudnnSetTensor4dDescriptor       func(d uintptr, format, dtype, n, c, h, w int32) int32
	cudnnCreateFilterDescriptor      func(d *uintptr) int32
	cudnnSetFilter4dDescriptor       func(d uintptr, dtype, format, k, c, h, w int32) int32
	cudnnCreateConvolutionDescriptor func(d *uintptr) int32
	cudnnSetConvolution2dDescriptor  func(d uintptr, padH, padW, u, v, dilH, dilW, mode, compute int32) int32
	cudnnSetConvolutionMathType      func(d uintptr, math int32) int32
	cudnnGetConvolutionForwardAlgo   func(h, x, w, conv, y uintptr, want int32, got *int32, perf *algoPerf) int32
	cudnnGetConvolutionBwdDataAlgo   func(h, w, dy, conv, dx uintptr, want int32, got *int32, perf *algoPerf) int32
	cudnnGetConvolutionBwdFilterAlgo func(h, x, dy, conv, dw uintptr, want int32, got *int32, perf *algoPerf) int32
	cudnnConvolutionForward          func(h uintptr, alpha *float32, xd, x, wd, w, conv uintptr, algo int32, ws uintptr, wsBytes uint64, beta *float32, yd, y uintptr) int32
	cudnnConvolutionBackwardData     func(h uintptr, alpha *float32, wd, w, dyd, dy, conv uintptr, algo int32, ws uintptr, wsBytes uint64, beta *float32, dxd, dx uintptr) int32
	cudnnConvolutionBackwardFilter   func(h uintptr, alpha *float32, xd, x, dyd, dy, conv uintptr, algo int32, ws uintptr, wsBytes uint64, beta *float32, dwd, dw uintptr) int32
	cudnnConvolutionBackwardBias     func(h uintptr, alpha *float32, dyd, dy uintptr, beta *float32, dbd, db uintptr) int32
	cudnnAddTensor                   func(h uintptr, alpha *float32, ad, a uintptr, beta *float32, cd, c uintptr) int32
	cudnnCreateActivationDescriptor  func(d *uintptr) int32
	cudnnSetActivationDescriptor     func(d uintptr, mode, nan int32, coef float64) int32
	cudnnActivationForward           func(h, act uintptr, alpha *float32, xd, x uintptr, beta *float32, yd, y uintptr) int32
	cudnnActivationBackward          func(h, act uintptr, alpha *float32, yd, y, dyd, dy, xd, x uintptr, beta *float32, dxd, dx uintptr) int32
	cudnnCreatePoolingDescriptor     func(d *uintptr) int32
	cudnnSetPooling2dDescriptor      func(d uintptr, mode, nan, wh, ww, padH, padW, sh, sw int32) int32
	cudnnPoolingForward              func(h, pool uintptr, alpha *float32, xd, x uintptr, beta *float32, yd, y uintptr) int32
	cudnnPoolingBackward             func(h, pool uintptr, alpha *float32, yd, y, dyd, dy, xd, x uintptr, beta *float32, dxd, dx uintptr) int32
	cudnnCreateOpTensorDescriptor    func(d *uintptr) int32
	cudnnSetOpTensorDescriptor       func(d uintptr, op, compute, nan int32) int32
	cudnnOpTensor                    func(h, op uintptr, a1 *float32, ad, a uintptr, a2 *float32, bd, b uintptr, beta *float32, cd, c uintptr) int32
	dnnSymbols                       = []symbol{
		{"cudnnCreate", &cudnnCreate},
		{"cudnnDestroy", &cudnnDestroy},
		{"cudnnGetVersion", &cudnnGetVersion},
		{"cudnnGetErrorString", &cudnnGetErrorString},
		{"cudnnCreateTensorDescriptor", &cudnnCreateTensorDescriptor},
		{"cudnnSetTensor4dDescriptor", &cudnnSetTensor4dDescriptor},
		{"cudnnCreateFilterDescriptor", &cudnnCreateFilterDescriptor},
		{"cudnnSetFilter4dDescriptor", &cudnnSetFilter4dDescriptor},
		{"cudnnCreateConvolutionDescriptor", &cudnnCreateConvolutionDescriptor},
		{"cudnnSetConvolution2dDescriptor", &cudnnSetConvolution2dDescriptor},
		{"cudnnSetConvolutionMathType", &cudnnSetConvolutionMathType},
		{"cudnnGetConvolutionForwardAlgorithm_v7", &cudnnGetConvolutionForwardAlgo},
		{"cudnnGetConvolutionBackwardDataAlgorithm_v7", &cudnnGetConvolutionBwdDataAlgo},
		{"cudnnGetConvolutionBackwardFilterAlgorithm_v7", &cudnnGetConvolutionBwdFilterAlgo},
		{"cudnnConvolutionForward", &cudnnConvolutionForward},
		{"cudnnConvolutionBackwardData", &cudnnConvolutionBackwardData},
		{"cudnnConvolutionBackwardFilter", &cudnnConvolutionBackwardFilter},
		{"cudnnConvolutionBackwardBias", &cudnnConvolutionBackwardBias},
		{"cudnnAddTensor", &cudnnAddTensor},
		{"cudnnCreateActivationDescriptor", &cudnnCreateActivationDescriptor},
		{"cudnnSetActivationDescriptor", &cudnnSetActivationDescriptor},
		{"cudnnActivationForward", &cudnnActivationForward},
		{"cudnnActivationBackward", &cudnnActivationBackward},
		{"cudnnCreatePoolingDescriptor", &cudnnCreatePoolingDescriptor},
		{"cudnnSetPooling2dDescriptor", &cudnnSetPooling2dDescriptor},
		{"cudnnPoolingForward", &cudnnPoolingForward},
		{"cudnnPoolingBackward", &cudnnPoolingBackward},
		{"cudnnCreateOpTensorDescriptor", &cudnnCreateOpTensorDescriptor},
		{"cudnnSetOpTensorDescriptor", &cudnnSetOpTensorDescriptor},
		{"cudnnOpTensor", &cudnnOpTensor},
	}
)

// algoPerf is cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t, which
// share one layout (48 bytes on 64-bit targets).
type algoPerf struct {
	Algo        int32
	Status      int32
	Time        float32
	_           int32
	Memory      uint64
	Determinism int32
	MathType    int32
	Reserved    [3]int32
	_           int32
}

// cuDNN enum values used here.
const (
	dnnNCHW           = 0
	dnnNHWC           = 1
	dnnFloat          = 0
	dnnCrossCorr      = 1 // CUDNN_CROSS_CORRELATION: Keras' and PyTorch's "convolution"
	dnnFMAMath        = 3 // CUDNN_FMA_MATH: no tensor cores, no TF32
	dnnDefaultMath    = 0 // CUDNN_DEFAULT_MATH: TF32 allowed on Ampere and later
	dnnReLU           = 1
	dnnNoNaN          = 0
	dnnPoolMax        = 0
	dnnPoolAvg        = 1 // CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING (no padding here)
	dnnOpMul          = 1
	dnnAlgoCandidates = 8
)

func dnnErr(call string, code int32) error {
	return statusErr("cuDNN", call, code, cudnnGetErrorString)
}

// statusErr turns a library status into an error naming the call.
func statusErr(lib, call string, code int32, describe func(int32) string) error {
	if code == 0 {
		return nil
	}
	if describe != nil {
		return fmt.Errorf("%s %s: %s (%d)", lib, call, describe(code), code)
	}
	return fmt.Errorf("%s %s: status %d", lib, call, code)
}

// openLibraries creates the cuBLAS and cuDNN handles on the device.
func (d *Device) openLibraries() error {
	leave, err := d.enter()
	if err != nil {
		return err
	}
	defer leave()
	if err := blasErr("cublasCreate", cublasCreate(&d.blas)); err != nil {
		return err
	}
	if err := dnnErr("cudnnCreate", cudnnCreate(&d.dnn)); err != nil {
		return err
	}
	return d.kernels.load()
}

// tensorDesc describes an NHWC float tensor of n×h×w×c.
func tensorDesc(n, h, w, c int) (uintptr, error) {
	var t uintptr
	if err := dnnErr("cudnnCreateTensorDescriptor", cudnnCreateTensorDescriptor(&t)); err != nil {
		return 0, err
	}
	return t, dnnErr("cudnnSetTensor4dDescriptor", cudnnSetTensor4dDescriptor(t, dnnNHWC, dnnFloat, int32(n), int32(c), int32(h), int32(w)))
}

// filterDesc describes a 3x3 filter bank stored KRSC ([Cout][3][3][Cin]),
// cuDNN's NHWC filter layout.
func filterDesc(cin, cout int) (uintptr, error) {
	var f uintptr
	if err := dnnErr("cudnnCreateFilterDescriptor", cudnnCreateFilterDescriptor(&f)); err != nil {
		return 0, err
	}
	return f, dnnErr("cudnnSetFilter4dDescriptor", cudnnSetFilter4dDescriptor(f, dnnFloat, dnnNHWC, int32(cout), int32(cin), 3, 3))
}

// convDesc describes VGG16's 3x3/1 same-padded cross-correlation; strict
// forbids TF32 (for comparisons with the CPU).
func convDesc(strict bool) (uintptr, error) {
	var c uintptr
	if err := dnnErr("cudnnCreateConvolutionDescriptor", cudnnCreateConvolutionDescriptor(&c)); err != nil {
		return 0, err
	}
	if err := dnnErr("cudnnSetConvolution2dDescriptor", cudnnSetConvolution2dDescriptor(c, 1, 1, 1, 1, 1, 1, dnnCrossCorr, dnnFloat)); err != nil {
		return 0, err
	}
	math := int32(dnnDefaultMath)
	if strict {
		math = dnnFMAMath
	}
	return c, dnnErr("cudnnSetConvolutionMathType", cudnnSetConvolutionMathType(c, math))
}

// pickAlgo returns the first algorithm of a heuristic's list (fastest
// first) that works and needs at most limit bytes of workspace.
func pickAlgo(call string, get func(want int32, got *int32, perf *algoPerf) int32, limit uint64) (algo int32, ws uint64, err error) {
	var perf [dnnAlgoCandidates]algoPerf
	var got int32
	if err := dnnErr(call, get(dnnAlgoCandidates, &got, &perf[0])); err != nil {
		return 0, 0, err
	}
	for _, p := range perf[:got] {
		if p.Status == 0 && p.Memory <= limit {
			return p.Algo, p.Memory, nil
		}
	}
	return 0, 0, fmt.Errorf("cuDNN %s: none of %d algorithms fits in %d MiB of workspace", call, got, limit>>20)
}
