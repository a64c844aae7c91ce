package kernels

import "fmt"

// Conv3x3 is a 3x3 convolution with stride 1 and zero padding 1 (the only
// kind VGG16 has), computed directly as an implicit GEMM: M = output pixels,
// K = 9·Cin, N = Cout. The weights are packed once, in NewConv3x3, into the
// panel layout of the SGEMM microkernel; image patches are gathered straight
// into the packed-A buffer block by block, so the im2col matrix is never
// built. Bias and ReLU are fused into the GEMM epilogue.
type Conv3x3 struct {
	cin, cout int
	weights   *PackedB
	bias      []float32
}

// NewConv3x3 packs a 3x3 convolution. kernel is HWIO (3·3·cin·cout floats,
// index ((ky·3+kx)·cin+ci)·cout+co, as Keras stores it), bias has cout floats
// or is nil for no bias.
func NewConv3x3(cin, cout int, kernel, bias []float32) *Conv3x3 {
	return newConv3x3With(bestGemm, cin, cout, kernel, bias)
}

func newConv3x3With(kern *gemmKernel, cin, cout int, kernel, bias []float32) *Conv3x3 {
	if cin <= 0 || cout <= 0 {
		panic(fmt.Sprintf("kernels: NewConv3x3: bad channel counts cin=%d cout=%d", cin, cout))
	}
	if len(kernel) != 9*cin*cout {
		panic(fmt.Sprintf("kernels: NewConv3x3: len(kernel)=%d, want 3*3*%d*%d=%d", len(kernel), cin, cout, 9*cin*cout))
	}
	if bias != nil && len(bias) != cout {
		panic(fmt.Sprintf("kernels: NewConv3x3: len(bias)=%d, want %d", len(bias), cout))
	}
	c := &Conv3x3{cin: cin, cout: cout, weights: packBWith(kern, false, 9*cin, cout, kernel, cout)}
	if bias != nil {
		c.bias = append([]float32(nil), bias...)
	}
	return c
}

// SetKernel repacks new weights into the buffers NewConv3x3 allocated, for
// a layer whose weights change (training): kernel and bias have the sizes
// NewConv3x3 took, and bias must be nil exactly when it was nil there. It
// must not run concurrently with Forward.
func (c *Conv3x3) SetKernel(kernel, bias []float32) {
	checkLen("Conv3x3.SetKernel kernel", kernel, 9*c.cin*c.cout)
	if (bias == nil) != (c.bias == nil) {
		shapePanic("Conv3x3.SetKernel", "bias given (%t) unlike at NewConv3x3 (%t)", bias != nil, c.bias != nil)
	}
	if bias != nil {
		checkLen("Conv3x3.SetKernel bias", bias, c.cout)
		copy(c.bias, bias)
	}
	c.weights = packBInto(c.weights.kern, false, 9*c.cin, c.cout, kernel, c.cout, c.weights.data)
}

// Cin returns the number of input channels.
func (c *Conv3x3) Cin() int { return c.cin }

// Cout returns the number of output channels.
func (c *Conv3x3) Cout() int { return c.cout }

// Forward convolves a batch of n images of h×w pixels: in is NHWC with Cin
// channels (n·h·w·cin floats), out is NHWC with Cout channels (n·h·w·cout
// floats, only written). relu applies max(·, 0) after the bias.
func (c *Conv3x3) Forward(n, h, w int, in, out []float32, relu bool) {
	if n < 0 || h < 0 || w < 0 {
		panic(fmt.Sprintf("kernels: Conv3x3.Forward: negative size n=%d h=%d w=%d", n, h, w))
	}
	m := n * h * w
	if len(in) < m*c.cin {
		panic(fmt.Sprintf("kernels: Conv3x3.Forward: len(in)=%d, need %d·%d·%d·%d=%d", len(in), n, h, w, c.cin, m*c.cin))
	}
	if len(out) < m*c.cout {
		panic(fmt.Sprintf("kernels: Conv3x3.Forward: len(out)=%d, need %d·%d·%d·%d=%d", len(out), n, h, w, c.cout, m*c.cout))
	}
	if m == 0 {
		return
	}
	kern := c.weights.kern
	cin, mr := c.cin, kern.mr
	packA := func(dst []float32, i0, rows, k0, kc int) {
		packPatches(dst, in, h, w, cin, i0, rows, k0, kc, mr)
	}
	gemmRun(kern, m, packA, c.weights, out, c.cout, false, c.bias, relu)
}

// packPatches is the implicit-GEMM A packer: it writes, for output pixels
// [i0, i0+rows) and reduction columns [k0, k0+kc) (column = tap·cin + ci,
// tap = ky·3+kx), the input values under each tap, or 0 in the padding,
// in strips of mr pixels (the row-major packed-A layout of gemmKernel).
// In NHWC the taps kx = 0, 1, 2 of one kernel row read adjacent input
// pixels, and their columns are adjacent too, so each kernel row of a
// pixel is one copy of up to 3·cin floats (less at the image border).
// Positions are advanced incrementally: divisions are slow in wasm and
// with few channels they would cost more than the copies.
func packPatches(dst, in []float32, h, w, cin, i0, rows, k0, kc, mr int) {
	hw := h * w
	padded := (rows + mr - 1) / mr * mr
	tap0, ci0 := k0/cin, k0%cin // where the block starts
	img, rem := i0/hw, i0%hw
	y, x := rem/w, rem%w // the current output pixel
	for i := 0; i < padded; i++ {
		d := dst[i*kc : i*kc+kc]
		if i >= rows {
			clear(d)
			continue
		}
		base := img * hw
		right := min(x+1, w-1) // rightmost input column under the kernel
		ky, kx, ci := tap0/3, tap0%3, ci0
		for kk := 0; kk < kc; {
			sy, sx := y+ky-1, x+kx-1
			var taps int // taps of this kernel row the segment covers
			switch {
			case sy < 0 || sy >= h: // the rest of the kernel row is padding
				taps = 3 - kx
				n := min(taps*cin-ci, kc-kk)
				clear(d[kk : kk+n])
				kk += n
			case sx < 0 || sx >= w: // this tap is padding
				taps = 1
				n := min(cin-ci, kc-kk)
				clear(d[kk : kk+n])
				kk += n
			default: // taps up to the right border are contiguous in the input
				taps = right - sx + 1
				n := min(taps*cin-ci, kc-kk)
				src := (base+sy*w+sx)*cin + ci
				copyFloats(d[kk:kk+n], in[src:src+n])
				kk += n
			}
			// Unless the block ended mid-segment (then the pixel is done),
			// the segment ended on a tap boundary.
			kx += taps
			ci = 0
			if kx == 3 {
				kx = 0
				ky++
			}
		}
		if x++; x == w {
			x = 0
			if y++; y == h {
				y = 0
				img++
			}
		}
	}
}

// copyFloats is copy for the short runs of packing (a few channels), where
// the call into memmove costs more than a plain loop.
func copyFloats(dst, src []float32) {
	if len(src) >= 16 {
		copy(dst, src)
		return
	}
	for j, v := range src {
		dst[j] = v
	}
}
