package model_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"vggo/model"
)

// Decoding a phone photo: the EXIF orientation is applied, so the
// 32x64 pixels stored sideways come out as the upright 64x32 picture.
func ExampleDecodeImage() {
	f, err := os.Open(filepath.Join("..", "testdata", "images", "orient_6.jpg"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, err := model.DecodeImage(f, "orient_6.jpg")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(img.Bounds().Dx(), "x", img.Bounds().Dy())
	// Output: 64 x 32
}

// Errors name the file and the problem.
func ExampleDecodeImage_tooLarge() {
	f, err := os.Open(filepath.Join("..", "testdata", "images", "huge_header.jpg"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	_, err = model.DecodeImage(f, "huge_header.jpg")
	fmt.Println(err)
	// Output: huge_header.jpg: image too large: 12000x9000 = 108 MP > 50 MP
}

// Preprocess gives one NHWC network input; in "caffe" mode the first
// value is the blue channel of the top-left pixel minus 103.939.
func ExamplePreprocess() {
	f, err := os.Open(filepath.Join("..", "testdata", "images", "upright.png"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, err := model.DecodeImage(f, "upright.png")
	if err != nil {
		log.Fatal(err)
	}
	x := model.Preprocess(img, 224, model.PreprocessCaffe)
	fmt.Println(len(x), "values; top-left pixel BGR:", x[0], x[1], x[2])
	// Output: 150528 values; top-left pixel BGR: -103.939 -116.779 131.32
}

// A complete classifier: NewNet packs the model once, Classify
// preprocesses an image as the model expects and returns all classes,
// most probable first. (This toy model's linear head ignores the image:
// its kernel is zero and its bias favours "dog".)
func ExampleNet_Classify() {
	arch := model.Arch{WidthDiv: 16}
	m := &model.Model{
		Info: model.Info{Arch: "vgg16", InputSize: 32, WidthDiv: 16, Head: model.HeadLinear,
			Classes: []string{"cat", "dog", "bird"}, Preprocess: model.PreprocessCaffe},
		Base: model.ConvBase{Arch: arch},
		Head: model.Head{Kind: model.HeadLinear, Dense: []model.DenseParams{{
			In: arch.Channels(), Out: 3,
			Kernel: make([]float32, arch.Channels()*3),
			Bias:   []float32{0, 5, 1},
		}}},
	}
	for i := range m.Base.Layers {
		s := arch.Conv(i)
		m.Base.Layers[i] = model.ConvParams{Kernel: make([]float32, 9*s.Cin*s.Cout), Bias: make([]float32, s.Cout)}
	}
	net, err := model.NewNet(m)
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Open(filepath.Join("..", "testdata", "images", "parity_rgb.png"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	preds, err := model.ClassifyImage(net, f, "parity_rgb.png")
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range preds {
		fmt.Printf("%s %.3f\n", p.Class, p.Prob)
	}
	// Output:
	// dog 0.976
	// bird 0.018
	// cat 0.007
}
