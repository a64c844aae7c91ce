package kernels

import (
	"bytes"
	"unsafe"
)

// Conv3x3Layer is one trainable 3x3 convolution (stride 1, padding 1, bias)
// at a fixed batch n of h×w images: the forward pass and both gradients,
// each on the algorithm that fits the shape, with the weights transformed
// once per change (a training step changes them once, in the optimizer)
// and every workspace kept from one call to the next, so a training loop
// allocates nothing here after its first step.
//
// The forward pass is the convolution WinogradTile picks (Winograd F(4x4)
// or F(2x2), or the direct one); so is the input gradient, which is itself
// a 3x3 convolution of the output gradient with the kernel rotated by 180°
// and its channel axes swapped (see FlipKernel3x3). The filter gradient is
// Winograd F(4x4) where BenchmarkConv3x3FilterGrad measured it faster than
// im2col(in)ᵀ·dout on the packed SGEMM (see filterGradTile), else what
// Conv3x3BackwardFilter computes (im2col, or one GEMM per tap on maps
// under 8x8). A layer is not safe for
// concurrent use.
type Conv3x3Layer struct {
	n, h, w, cin, cout int

	kernel, bias []float32         // copies of the weights last given to SetKernel
	forward      conv3x3Algo       // nil until the first SetKernel
	flipped      []float32         // FlipKernel3x3 of kernel, for the input gradient
	data         conv3x3Algo       // convolution with flipped; nil until first needed
	dataStale    bool              // flipped changed since data was set from it
	filterTile   int               // filterGradTile's choice: 0 for im2col
	im2col       filterGradScratch // buffers of the im2col filter gradient
	wino         winoFilterGrad    // buffers of the Winograd one
}

// conv3x3Algo is what the forward and input-gradient convolutions share:
// Conv3x3 and Winograd3x3.
type conv3x3Algo interface {
	Forward(n, h, w int, in, out []float32, relu bool)
	SetKernel(kernel, bias []float32)
}

// NewConv3x3Layer returns a layer for batches of n h×w images with cin
// input and cout output channels; it computes nothing before SetKernel.
func NewConv3x3Layer(n, h, w, cin, cout int) *Conv3x3Layer {
	if n <= 0 || h <= 0 || w <= 0 || cin <= 0 || cout <= 0 {
		shapePanic("NewConv3x3Layer", "bad shape n=%d h=%d w=%d cin=%d cout=%d", n, h, w, cin, cout)
	}
	tile := filterGradTile(n, cin, h, w)
	return &Conv3x3Layer{n: n, h: h, w: w, cin: cin, cout: cout,
		kernel: make([]float32, 9*cin*cout), bias: make([]float32, cout), flipped: make([]float32, 9*cin*cout),
		filterTile: tile, wino: winoFilterGrad{tile: tile}}
}

// filterGradTile picks the kernel gradient's algorithm for a layer: 4 for
// Winograd F(4x4), 0 for im2col GEMM. BenchmarkConv3x3FilterGrad (VGG16 at
// 32x32, batch 64, CPU time on a loaded 2-core machine) measured F(4x4)
// 1.3-1.7x faster at 32x32 with 64 channels, 16x16 with 128 and 8x8 with
// 256, 1.1x at 8x8 with 128, 10% slower (within the noise) at 16x16 with
// 64 in and 128 out; and 1.4-5x slower at 4x4 and 2x2, where the
// transforms (alpha² planes of cin·cout) outweigh the GEMMs. F(2x2) never
// won.
func filterGradTile(n, cin, h, w int) int {
	if WinogradTile(n, cin, h, w) == 4 && min(h, w) >= 8 {
		return 4
	}
	return 0
}

// newConv3x3For builds the convolution WinogradTile picks for the shape.
func newConv3x3For(n, h, w, cin, cout int, kernel, bias []float32) conv3x3Algo {
	if tile := WinogradTile(n, cin, h, w); tile != 0 {
		return NewWinograd3x3Tile(cin, cout, kernel, bias, tile)
	}
	return NewConv3x3(cin, cout, kernel, bias)
}

// SetKernel gives the layer its weights, HWIO kernel ([3][3][cin][cout])
// and bias ([cout]); it copies them. Weights bit-identical to the last
// ones are recognised by one comparison and nothing is redone, so a caller
// may call it before every forward pass and pay the transforms only when
// the weights changed. The input gradient's kernel is transformed at the
// next BackwardData, so a layer that only runs forward never pays for it.
func (l *Conv3x3Layer) SetKernel(kernel, bias []float32) {
	checkLen("Conv3x3Layer.SetKernel kernel", kernel, len(l.kernel))
	checkLen("Conv3x3Layer.SetKernel bias", bias, l.cout)
	if l.forward != nil && bitsSame(l.kernel, kernel) && bitsSame(l.bias, bias) {
		return
	}
	copy(l.kernel, kernel)
	copy(l.bias, bias)
	if l.forward == nil {
		l.forward = newConv3x3For(l.n, l.h, l.w, l.cin, l.cout, l.kernel, l.bias)
	} else {
		l.forward.SetKernel(l.kernel, l.bias)
	}
	FlipKernel3x3(l.cin, l.cout, l.kernel, l.flipped)
	l.dataStale = true
}

// bitsSame reports whether a and b (of equal length) hold the same bits;
// unlike ==, it tells -0 from +0 and sees NaN equal to itself.
func bitsSame(a, b []float32) bool {
	if len(a) == 0 {
		return len(b) == 0
	}
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), 4*len(a)), unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 4*len(b)))
}

// mustHaveKernel panics when SetKernel has not been called.
func (l *Conv3x3Layer) mustHaveKernel(fn string) {
	if l.forward == nil {
		shapePanic(fn, "no weights: call SetKernel first")
	}
}

// Forward computes out = conv3x3(in) + bias, then ReLU when relu is set;
// in is [n][h][w][cin] and out [n][h][w][cout] (only written).
func (l *Conv3x3Layer) Forward(in, out []float32, relu bool) {
	l.mustHaveKernel("Conv3x3Layer.Forward")
	l.forward.Forward(l.n, l.h, l.w, in, out, relu)
}

// BackwardData computes the input gradient din ([n][h][w][cin], only
// written) from the output gradient dout ([n][h][w][cout]), as
// Conv3x3BackwardData does. Bias and ReLU do not enter: apply ReLUBackward
// to dout first.
func (l *Conv3x3Layer) BackwardData(dout, din []float32) {
	l.mustHaveKernel("Conv3x3Layer.BackwardData")
	switch {
	case l.data == nil:
		l.data = newConv3x3For(l.n, l.h, l.w, l.cout, l.cin, l.flipped, nil)
	case l.dataStale:
		l.data.SetKernel(l.flipped, nil)
	}
	l.dataStale = false
	l.data.Forward(l.n, l.h, l.w, dout, din, false)
}

// BackwardFilter computes the kernel gradient dkernel ([3][3][cin][cout])
// and, unless dbias is nil, the bias gradient ([cout]) from the layer's
// input in and output gradient dout, as Conv3x3BackwardFilter does (bit
// for bit where it picks im2col; within Winograd's error where it picks
// F(4x4)); with accumulate set they are added to.
func (l *Conv3x3Layer) BackwardFilter(in, dout, dkernel, dbias []float32, accumulate bool) {
	if l.filterTile != 0 {
		l.wino.backward(l.n, l.h, l.w, l.cin, l.cout, in, dout, dkernel, dbias, accumulate)
		return
	}
	l.im2col.backward(l.n, l.h, l.w, l.cin, l.cout, in, dout, dkernel, dbias, accumulate)
}
