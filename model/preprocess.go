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
//  2. Resize to size×size with bilinear interpolation, half-pixel centres
//     and no antialiasing: output pixel i samples the source at
//     s = (i+0.5)·in/size − 0.5, clamped below at 0, between pixels
//     floor(s) and min(floor(s)+1, in−1). This is exactly PyTorch's
//     F.interpolate(mode="bilinear", align_corners=False, antialias=False)
//     and TensorFlow's tf.image.resize(..., "bilinear", antialias=False)
//     (half_pixel_centers=True). Without antialiasing a large downscale
//     reads only 4 source pixels per output pixel: fast, but fine detail
//     aliases; the aspect ratio is not kept. (Keras' load_img(target_size=)
//     resizes with PIL's nearest neighbour by default; this package uses
//     the bilinear rule everywhere, in training and in the browser alike,
//     so both see the same inputs.)
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
	xs := bilinearTaps(inW, size)
	ys := bilinearTaps(inH, size)
	read := rgbReader(img)
	for oy, ty := range ys {
		y0, y1 := b.Min.Y+ty.i0, b.Min.Y+ty.i1
		for ox, tx := range xs {
			x0, x1 := b.Min.X+tx.i0, b.Min.X+tx.i1
			r00, g00, b00 := read(x0, y0)
			r01, g01, b01 := read(x1, y0)
			r10, g10, b10 := read(x0, y1)
			r11, g11, b11 := read(x1, y1)
			rgb := [3]float64{
				lerp2(ty, tx, r00, r01, r10, r11),
				lerp2(ty, tx, g00, g01, g10, g11),
				lerp2(ty, tx, b00, b01, b10, b11),
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

// bilinearTap is where one output coordinate samples the input: between
// i0 and i1 with weights w0 = 1-l and w1 = l.
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

// lerp2 interpolates four 8-bit samples: v00 (x0,y0), v01 (x1,y0),
// v10 (x0,y1), v11 (x1,y1).
func lerp2(ty, tx bilinearTap, v00, v01, v10, v11 uint8) float64 {
	top := tx.w0*float64(v00) + tx.w1*float64(v01)
	bottom := tx.w0*float64(v10) + tx.w1*float64(v11)
	return ty.w0*top + ty.w1*bottom
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
