package inference

import (
	"bytes"
	"image/png"

	"vggo/model"
)

// InputPNG encodes one network input x of a model with this info as the
// PNG picture the network saw (model.InputImage), for the page to show;
// nil if it cannot (the result is still worth sending without it).
func InputPNG(x []float32, info model.Info) []byte {
	img, err := model.InputImage(x, info.InputSize, info.Preprocess)
	if err != nil {
		return nil
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil
	}
	return b.Bytes()
}
