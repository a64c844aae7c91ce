package model

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Preprocess matches the float64 PyTorch reference (F.interpolate bilinear,
// align_corners=False, antialias=True, then caffe/torch normalisation) on
// the committed lossless images, within 1e-6 of the largest value.
func TestPreprocessMatchesReference(t *testing.T) {
	for _, c := range loadReference(t, referenceDir) {
		t.Run(c.Image+"/"+c.Mode, func(t *testing.T) {
			img := decodeFile(t, c.Image)
			got := Preprocess(img, c.Size, c.Mode)
			if rel, at := maxRelError(got, c.Input.Data); rel > 1e-6 {
				t.Fatalf("max error %.3g of max|ref| at %d: got %v, want %v", rel, at, got[at], c.Input.Data[at])
			}
		})
	}
}

// Resizing to the image's own size copies the pixels: every tap lands on a
// pixel centre with weight exactly 1.
func TestPreprocessSameSizeIsExact(t *testing.T) {
	img := randomNRGBA(rand.New(rand.NewPCG(1, 2)), image.Rect(0, 0, 32, 32))
	got := Preprocess(img, 32, PreprocessCaffe)
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			c := img.NRGBAAt(x, y)
			want := [3]float64{float64(c.B) - 103.939, float64(c.G) - 116.779, float64(c.R) - 123.68}
			for ch := 0; ch < 3; ch++ {
				if g := got[(y*32+x)*3+ch]; g != float32(want[ch]) {
					t.Fatalf("(%d,%d) channel %d = %v, want %v", x, y, ch, g, want[ch])
				}
			}
		}
	}
}

// Hand-computed taps for enlarging an axis.
func TestBilinearTaps(t *testing.T) {
	tests := []struct {
		n, m int
		want []bilinearTap
	}{
		// s = 0.5(i+0.5)-0.5 = -0.25→0, 0.25, 0.75, 1.25 (clamped at the last pixel)
		{2, 4, []bilinearTap{{0, 1, 1, 0}, {0, 1, 0.75, 0.25}, {0, 1, 0.25, 0.75}, {1, 1, 0.75, 0.25}}},
		// s = (i+0.5)/3-0.5 = -1/3→0, 0, 1/3: one pixel, any weights
		{1, 3, []bilinearTap{{0, 0, 1, 0}, {0, 0, 1, 0}, {0, 0, 2.0 / 3, 1.0 / 3}}},
	}
	for _, tc := range tests {
		got := bilinearTaps(tc.n, tc.m)
		for i := range tc.want {
			g, w := got[i], tc.want[i]
			if g.i0 != w.i0 || g.i1 != w.i1 || math.Abs(g.w0-w.w0) > 1e-12 || math.Abs(g.w1-w.w1) > 1e-12 {
				t.Errorf("%d→%d tap %d = %+v, want %+v", tc.n, tc.m, i, got[i], tc.want[i])
			}
		}
	}
}

// Hand-computed taps for shrinking an axis: 4 → 2 (k = 2) weighs source
// pixel j by 1 − |j + 0.5 − 2(i+0.5)|/2, then normalises; 6 → 2 (k = 3);
// and 3 → 3 keeps each pixel.
func TestResizeTaps(t *testing.T) {
	tests := []struct {
		n, m int
		want []resizeTap
	}{
		// i=0: centre 1, j=0,1,2 → 0.75, 0.75, 0.25 (sum 1.75); i=1: centre 3, j=1,2,3.
		{4, 2, []resizeTap{{[]int{0, 1, 2}, []float64{3.0 / 7, 3.0 / 7, 1.0 / 7}}, {[]int{1, 2, 3}, []float64{1.0 / 7, 3.0 / 7, 3.0 / 7}}}},
		// i=0: centre 1.5, j=0..3 → 2/3, 1, 2/3, 1/3 (sum 8/3); i=1 mirrors it.
		{6, 2, []resizeTap{{[]int{0, 1, 2, 3}, []float64{0.25, 0.375, 0.25, 0.125}}, {[]int{2, 3, 4, 5}, []float64{0.125, 0.25, 0.375, 0.25}}}},
		{3, 3, []resizeTap{{[]int{0, 1}, []float64{1, 0}}, {[]int{1, 2}, []float64{1, 0}}, {[]int{2, 2}, []float64{1, 0}}}},
	}
	for _, tc := range tests {
		got := resizeTaps(tc.n, tc.m)
		for i, w := range tc.want {
			g := got[i]
			if !slices.Equal(g.idx, w.idx) || len(g.w) != len(w.w) {
				t.Fatalf("%d→%d tap %d = %+v, want %+v", tc.n, tc.m, i, g, w)
			}
			for k := range w.w {
				if math.Abs(g.w[k]-w.w[k]) > 1e-12 {
					t.Errorf("%d→%d tap %d = %+v, want %+v", tc.n, tc.m, i, g, w)
				}
			}
		}
	}
}

func TestPreprocessGreyGivesEqualChannels(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 50, 30))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	x := Preprocess(g, 32, PreprocessTorch)
	for i := 0; i < len(x); i += 3 {
		// equal before normalisation: undo it per channel
		r := float64(x[i])*0.229 + 0.485
		gr := float64(x[i+1])*0.224 + 0.456
		b := float64(x[i+2])*0.225 + 0.406
		if math.Abs(r-gr) > 1e-6 || math.Abs(r-b) > 1e-6 {
			t.Fatalf("pixel %d: channels %v %v %v differ", i/3, r, gr, b)
		}
	}
}

func TestPreprocessErrors(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	tests := []struct {
		name string
		dst  []float32
		img  image.Image
		size int
		mode string
		want string
	}{
		{"mode", make([]float32, 12), img, 2, "tf", `unknown preprocessing mode "tf"`},
		{"dst", make([]float32, 11), img, 2, PreprocessCaffe, "destination holds 11 values, want 2x2x3 = 12"},
		{"size", nil, img, 0, PreprocessCaffe, "size 0"},
		{"empty", make([]float32, 12), image.NewGray(image.Rect(0, 0, 0, 3)), 2, PreprocessCaffe, "empty image (0x3)"},
	}
	for _, tc := range tests {
		err := PreprocessInto(tc.dst, tc.img, tc.size, tc.mode)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func randomNRGBA(rng *rand.Rand, r image.Rectangle) *image.NRGBA {
	m := image.NewNRGBA(r)
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.UintN(256))
	}
	return m
}

// The direct pixel readers for common image types give exactly what
// color.NRGBAModel gives through At.
func TestRGBReaderMatchesNRGBAModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	r := image.Rect(-3, 5, 14, 16) // odd sizes, non-zero origin
	var imgs []image.Image
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	} {
		m := image.NewYCbCr(r, ratio)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = uint8(rng.UintN(256))
			}
		}
		imgs = append(imgs, m)
	}
	gray := image.NewGray(r)
	for i := range gray.Pix {
		gray.Pix[i] = uint8(rng.UintN(256))
	}
	rgba := image.NewRGBA(r)
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := uint8(rng.UintN(256))
		rgba.Pix[i+3] = a
		for c := 0; c < 3; c++ {
			rgba.Pix[i+c] = uint8(rng.UintN(uint(a) + 1)) // premultiplied: ≤ alpha
		}
	}
	pal := image.NewPaletted(r, color.Palette{color.RGBA{0, 0, 0, 0}, color.RGBA{10, 20, 30, 255}, color.RGBA{100, 50, 0, 128}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(rng.UintN(3))
	}
	imgs = append(imgs, gray, randomNRGBA(rng, r), rgba, pal, image.NewGray16(r))
	for o := 2; o <= 8; o++ { // EXIF views of a subsampled YCbCr image
		imgs = append(imgs, applyOrientation(imgs[2], o))
	}
	for _, img := range imgs {
		read := rgbReader(img)
		r := img.Bounds()
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				if rr, g, b := read(x, y); rr != c.R || g != c.G || b != c.B {
					t.Fatalf("%T (%d,%d): %d,%d,%d, want %d,%d,%d", img, x, y, rr, g, b, c.R, c.G, c.B)
				}
			}
		}
	}
}

// An image whose bounds do not start at (0,0) (a SubImage, a decoder's
// offset frame) preprocesses like the same pixels at the origin.
func TestPreprocessOffsetBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	big := randomNRGBA(rng, image.Rect(0, 0, 60, 50))
	sub := big.SubImage(image.Rect(7, 9, 47, 39)).(*image.NRGBA)
	copyAtOrigin := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			copyAtOrigin.SetNRGBA(x, y, big.NRGBAAt(7+x, 9+y))
		}
	}
	a := Preprocess(sub, 32, PreprocessTorch)
	b := Preprocess(copyAtOrigin, 32, PreprocessTorch)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("value %d: %v from the sub-image, %v from the copy", i, a[i], b[i])
		}
	}
}
