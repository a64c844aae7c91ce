package model

import (
	"image"
	"image/color"
	"math/rand/v2"
	"strings"
	"testing"
)

// gather returns the RGBA bytes of img at every crossing of xs and ys, as
// the browser worker reads them off a canvas.
func gather(img *image.NRGBA, xs, ys []int) []byte {
	var pix []byte
	for _, y := range ys {
		for _, x := range xs {
			c := img.NRGBAAt(x, y)
			pix = append(pix, c.R, c.G, c.B, c.A)
		}
	}
	return pix
}

// Preprocess of the sampled pixels equals Preprocess of the whole image, bit
// for bit, for downscales (the photo case), upscales, a tall narrow image
// (enlarged across, shrunk along) and odd sizes; an enlarged axis needs at
// most 2·size samples.
func TestPreprocessSampledImageIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct{ w, h, size int }{
		{400, 300, 32}, {301, 517, 224}, {20, 13, 32}, {1, 1, 8}, {64, 64, 64}, {20, 900, 32},
	} {
		img := randomNRGBA(rng, image.Rect(0, 0, tc.w, tc.h))
		xs, ys := ResizeSamples(tc.w, tc.h, tc.size)
		most := func(n int) int {
			if n > tc.size {
				return n // shrunk: the filter covers every pixel
			}
			return min(n, 2*tc.size)
		}
		if len(xs) > most(tc.w) || len(ys) > most(tc.h) {
			t.Errorf("%dx%d→%d: %d columns, %d rows; want at most %d and %d", tc.w, tc.h, tc.size, len(xs), len(ys), most(tc.w), most(tc.h))
		}
		sampled, err := NewSampledImage(tc.w, tc.h, xs, ys, gather(img, xs, ys))
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{PreprocessCaffe, PreprocessTorch} {
			want := Preprocess(img, tc.size, mode)
			got := Preprocess(sampled, tc.size, mode)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%dx%d→%d %s: value %d = %v, want %v", tc.w, tc.h, tc.size, mode, i, got[i], want[i])
				}
			}
		}
	}
}

// At gives the samples and transparent black elsewhere; Opaque looks at
// every sample's alpha.
func TestSampledImageAtAndOpaque(t *testing.T) {
	pix := []byte{1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 10, 11, 12, 128}
	m, err := NewSampledImage(5, 4, []int{0, 3}, []int{1, 2}, pix)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		x, y int
		want color.NRGBA
	}{
		{0, 1, color.NRGBA{1, 2, 3, 255}}, {3, 1, color.NRGBA{4, 5, 6, 255}},
		{0, 2, color.NRGBA{7, 8, 9, 255}}, {3, 2, color.NRGBA{10, 11, 12, 128}},
		{1, 1, color.NRGBA{}}, {0, 0, color.NRGBA{}}, {9, 9, color.NRGBA{}},
	}
	for _, c := range checks {
		if got := m.At(c.x, c.y); got != c.want {
			t.Errorf("At(%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	if m.Opaque() {
		t.Error("Opaque() with a sample of alpha 128")
	}
	pix[15] = 255
	if m, _ := NewSampledImage(5, 4, []int{0, 3}, []int{1, 2}, pix); !m.Opaque() {
		t.Error("Opaque() false with every alpha 255")
	}
}

func TestNewSampledImageErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		w, h   int
		xs, ys []int
		pix    int
		want   string
	}{
		{"empty", 0, 4, []int{0}, []int{0}, 4, "size 0x4"},
		{"column outside", 3, 3, []int{0, 3}, []int{0}, 8, "column 3"},
		{"rows not ascending", 3, 3, []int{0}, []int{2, 1}, 8, "row 1"},
		{"short pixels", 3, 3, []int{0, 1}, []int{0, 1}, 12, "12 bytes of pixels, want 4x2x2 = 16"},
	} {
		_, err := NewSampledImage(tc.w, tc.h, tc.xs, tc.ys, make([]byte, tc.pix))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
