package model

import (
	"fmt"
	"image"
	"math"
)

// InputImage turns one network input (size×size×3 NHWC, as Preprocess
// made it in mode) back into the picture the network sees: the resized
// image before normalisation, as 8-bit RGB (values rounded and clamped).
// The app shows it so a user sees what the model was given.
func InputImage(x []float32, size int, mode string) (*image.NRGBA, error) {
	if err := CheckPreprocessMode(mode); err != nil {
		return nil, err
	}
	if size < 1 || len(x) != size*size*3 {
		return nil, fmt.Errorf("input image: %d values, want %dx%dx3", len(x), size, size)
	}
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for i := 0; i < size*size; i++ {
		in := x[3*i : 3*i+3]
		var rgb [3]float64
		for c := 0; c < 3; c++ {
			switch mode {
			case PreprocessCaffe:
				rgb[2-c] = float64(in[c]) + caffeMeanBGR[c]
			case PreprocessTorch:
				rgb[c] = 255 * (float64(in[c])*torchStdRGB[c] + torchMeanRGB[c])
			}
		}
		px := img.Pix[4*i : 4*i+4]
		for c := 0; c < 3; c++ {
			px[c] = uint8(math.Round(max(0, min(255, rgb[c]))))
		}
		px[3] = 255
	}
	return img, nil
}
