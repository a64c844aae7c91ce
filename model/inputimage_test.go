package model

import (
	"image"
	"math/rand/v2"
	"testing"
)

// TestInputImageInvertsPreprocess: at the input size Preprocess only
// normalises, so InputImage gives back the very pixels, in both modes.
func TestInputImageInvertsPreprocess(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	src := randomNRGBA(rng, image.Rect(0, 0, 8, 8))
	for i := 3; i < len(src.Pix); i += 4 {
		src.Pix[i] = 255 // opaque: Preprocess drops alpha
	}
	for _, mode := range []string{PreprocessCaffe, PreprocessTorch} {
		got, err := InputImage(Preprocess(src, 8, mode), 8, mode)
		if err != nil {
			t.Fatal(err)
		}
		for i := range src.Pix {
			if got.Pix[i] != src.Pix[i] {
				t.Fatalf("%s: byte %d is %d, want %d", mode, i, got.Pix[i], src.Pix[i])
			}
		}
	}
	if _, err := InputImage(make([]float32, 10), 8, PreprocessTorch); err == nil {
		t.Error("InputImage took 10 values for an 8x8 input")
	}
	if _, err := InputImage(make([]float32, 8*8*3), 8, "keras"); err == nil {
		t.Error("InputImage took an unknown mode")
	}
}
