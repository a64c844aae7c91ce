package model

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// Preprocessing modes: how pixel values become network inputs. They are
// the two conventions VGG16 weights were trained with.
const (
	// PreprocessCaffe is Keras' VGG16 convention
	// (keras.applications.vgg16.preprocess_input): channels in BGR order,
	// each minus its ImageNet mean B 103.939, G 116.779, R 123.68 on the
	// 0..255 scale.
	PreprocessCaffe = "caffe"
	// PreprocessTorch is torchvision's convention: RGB scaled to 0..1,
	// minus mean (0.485, 0.456, 0.406), divided by std (0.229, 0.224, 0.225).
	PreprocessTorch = "torch"
)

var (
	caffeMeanBGR = [3]float64{103.939, 116.779, 123.68}
	torchMeanRGB = [3]float64{0.485, 0.456, 0.406}
	torchStdRGB  = [3]float64{0.229, 0.224, 0.225}
)

// CheckPreprocessMode reports whether mode is one Preprocess knows.
func CheckPreprocessMode(mode string) error {
	if mode != PreprocessCaffe && mode != PreprocessTorch {
		return fmt.Errorf("unknown preprocessing mode %q (want %q or %q)", mode, PreprocessCaffe, PreprocessTorch)
	}
	return nil
}

// Preprocess turns an image into one network input: size×size×3 float32 in
// NHWC order (row by row, channels innermost).
//
//  1. Colour: every pixel is read as 8-bit non-premultiplied RGB, the
//     values color.NRGBAModel gives; alpha is dropped (as PIL's
//     convert("RGB"), which Keras' load_img uses); a grey image gives three
//     equal channels.
//  2. Resize to size×size with bilinear interpolation and half-pixel
//     centres, the aspect ratio not kept, each axis on its own. Enlarging
//     an axis, output pixel i samples the source at
//     s = (i+0.5)·in/size − 0.5, clamped below at 0, between pixels
//     floor(s) and min(floor(s)+1, in−1). Shrinking an axis by a factor
//     k = in/size > 1, the bilinear (triangle) filter is widened by k, so
//     that each output pixel averages the k-wide stretch of source pixels
//     it covers: output pixel i is the normalised sum of source pixels j
//     weighted max(0, 1 − |j + 0.5 − (i+0.5)·k| / k). Both are exactly
//     PyTorch's F.interpolate(mode="bilinear", align_corners=False,
//     antialias=True), the same filter as PIL's BILINEAR resize and
//     torchvision's Resize. The antialiasing matters for photos: without
//     it a 12 MP photo shrunk to 32×32 keeps 4 of every 15,000 pixels and
//     their sensor noise, and it lets the browser decode a large JPEG at a
//     reduced scale (an 8×8 block average) and still get nearly the same
//     input (see wasm/worker). (Keras' load_img(target_size=) resizes with
//     PIL's nearest neighbour by default; this package uses this rule
//     everywhere, in training and in the browser alike.)
//  3. Normalise per mode (PreprocessCaffe or PreprocessTorch).
//
// Arithmetic is float64 until the final conversion to float32.
// Preprocess panics on an unknown mode or size < 1; PreprocessInto returns
// an error instead.
func Preprocess(img image.Image, size int, mode string) []float32 {
	if size < 1 {
		panic(fmt.Sprintf("model.Preprocess: size %d, want >= 1", size))
	}
	dst := make([]float32, size*size*3)
	if err := PreprocessInto(dst, img, size, mode); err != nil {
		panic("model.Preprocess: " + err.Error())
	}
	return dst
}

// PreprocessInto is Preprocess writing into dst (len size*size*3), so a
// caller can fill one image of a batch buffer in place.
func PreprocessInto(dst []float32, img image.Image, size int, mode string) error {
	if err := CheckPreprocessMode(mode); err != nil {
		return err
	}
	if size < 1 {
		return fmt.Errorf("preprocess: size %d, want >= 1", size)
	}
	if len(dst) != size*size*3 {
		return fmt.Errorf("preprocess: destination holds %d values, want %dx%dx3 = %d", len(dst), size, size, size*size*3)
	}
	b := img.Bounds()
	inW, inH := b.Dx(), b.Dy()
	if inW < 1 || inH < 1 {
		return fmt.Errorf("preprocess: empty image (%dx%d)", inW, inH)
	}
	xs := resizeTaps(inW, size)
	ys := resizeTaps(inH, size)
	read := rgbReader(img)
	// Horizontal pass over each source row the output rows read (each row
	// once: the output rows' stretches ascend, so rows behind the current
	// one are dropped), then the vertical pass.
	rows := map[int][]float64{}
	line := make([]float64, 3*inW)
	for oy, ty := range ys {
		for y := range rows {
			if y < ty.idx[0] {
				delete(rows, y)
			}
		}
		for _, y := range ty.idx {
			if rows[y] != nil {
				continue
			}
			for x := range inW {
				r, g, bl := read(b.Min.X+x, b.Min.Y+y)
				line[3*x], line[3*x+1], line[3*x+2] = float64(r), float64(g), float64(bl)
			}
			row := make([]float64, 3*size)
			for ox, tx := range xs {
				row[3*ox], row[3*ox+1], row[3*ox+2] = tx.apply(line, 3, 0), tx.apply(line, 3, 1), tx.apply(line, 3, 2)
			}
			rows[y] = row
		}
		for ox := range size {
			var rgb [3]float64
			for c := range 3 {
				for k, y := range ty.idx {
					rgb[c] += ty.w[k] * rows[y][3*ox+c]
				}
			}
			out := dst[(oy*size+ox)*3 : (oy*size+ox)*3+3]
			switch mode {
			case PreprocessCaffe:
				for c := 0; c < 3; c++ {
					out[c] = float32(rgb[2-c] - caffeMeanBGR[c])
				}
			case PreprocessTorch:
				for c := 0; c < 3; c++ {
					out[c] = float32((rgb[c]/255 - torchMeanRGB[c]) / torchStdRGB[c])
				}
			}
		}
	}
	return nil
}

// resizeTap is what one output coordinate reads: source pixels idx
// (ascending, repeats allowed) with weights w.
type resizeTap struct {
	idx []int
	w   []float64
}

// apply is the weighted sum of channel c of line, whose pixels hold
// stride values each.
func (t resizeTap) apply(line []float64, stride, c int) float64 {
	var sum float64
	for k, i := range t.idx {
		sum += t.w[k] * line[stride*i+c]
	}
	return sum
}

// resizeTaps computes the taps that resize n input pixels to m output
// pixels (see Preprocess): bilinear when enlarging or keeping the size,
// the widened, antialiasing triangle filter when shrinking, computed as
// PyTorch's _upsample_bilinear2d_aa does.
func resizeTaps(n, m int) []resizeTap {
	taps := make([]resizeTap, m)
	scale := float64(n) / float64(m)
	if scale <= 1 {
		for i, t := range bilinearTaps(n, m) {
			taps[i] = resizeTap{idx: []int{t.i0, t.i1}, w: []float64{t.w0, t.w1}}
		}
		return taps
	}
	support, invScale := scale, 1/scale // the triangle's half-width, in source pixels
	for i := range taps {
		center := scale * (float64(i) + 0.5)
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), n)
		t := resizeTap{}
		total := 0.0
		for j := lo; j < hi; j++ {
			x := math.Abs((float64(j) - center + 0.5) * invScale)
			if x >= 1 {
				continue
			}
			t.idx = append(t.idx, j)
			t.w = append(t.w, 1-x)
			total += 1 - x
		}
		for k := range t.w {
			t.w[k] /= total
		}
		taps[i] = t
	}
	return taps
}

// bilinearTap is where one output coordinate samples the input when an
// axis is enlarged: between i0 and i1 with weights w0 = 1-l and w1 = l.
type bilinearTap struct {
	i0, i1 int
	w0, w1 float64
}

// bilinearTaps computes the half-pixel-centre sampling positions for
// resizing n input pixels to m output pixels (see Preprocess), with the
// same operation order as PyTorch's upsample_bilinear2d.
func bilinearTaps(n, m int) []bilinearTap {
	scale := float64(n) / float64(m)
	taps := make([]bilinearTap, m)
	for i := range taps {
		s := scale*(float64(i)+0.5) - 0.5
		if s < 0 {
			s = 0
		}
		i0 := int(math.Floor(s))
		if i0 > n-1 {
			i0 = n - 1
		}
		i1 := i0
		if i0 < n-1 {
			i1 = i0 + 1
		}
		l := s - float64(i0)
		taps[i] = bilinearTap{i0: i0, i1: i1, w0: 1 - l, w1: l}
	}
	return taps
}

// rgbReader returns a function reading pixel (x, y) of img, in img's own
// coordinates, as 8-bit non-premultiplied RGB: the same values as
// color.NRGBAModel.Convert(img.At(x, y)) without alpha. Common decoder
// outputs get direct access to their pixel arrays; everything else goes
// through At.
func rgbReader(img image.Image) func(x, y int) (r, g, b uint8) {
	switch m := img.(type) {
	case *orientedImage:
		read := rgbReader(m.src)
		return func(x, y int) (uint8, uint8, uint8) {
			return read(m.source(x, y))
		}
	case *image.YCbCr:
		return func(x, y int) (uint8, uint8, uint8) {
			c := color.YCbCr{Y: m.Y[m.YOffset(x, y)], Cb: m.Cb[m.COffset(x, y)], Cr: m.Cr[m.COffset(x, y)]}
			r, g, b, _ := c.RGBA()
			return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
		}
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[m.PixOffset(x, y)]
			return v, v, v
		}
	case *image.NRGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return p[0], p[1], p[2]
		}
	case *SampledImage:
		return func(x, y int) (uint8, uint8, uint8) {
			if m.col[x] < 0 || m.row[y] < 0 {
				return 0, 0, 0 // not sampled: At's transparent black
			}
			p := m.pix[m.offset(x, y):]
			return p[0], p[1], p[2]
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
		return c.R, c.G, c.B
	}
}
