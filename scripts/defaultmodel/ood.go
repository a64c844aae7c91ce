package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"

	"vggo/model"
	"vggo/train/data"
)

// oodSet is one named set of images for the OOD table.
type oodSet struct {
	name   string
	images []image.Image
	inDist bool // Fashion-MNIST test images: the flag rate should be low
}

// oodSets builds the table's sets from the first n test images (inverted
// and dark-on-white copies of the same images) plus n noise images of each
// kind, all with fixed seeds.
func oodSets(ts *testSet, n int) []oodSet {
	test, inverted, darkOnWhite := make([]image.Image, n), make([]image.Image, n), make([]image.Image, n)
	uniform, gradient := make([]image.Image, n), make([]image.Image, n)
	rng := rand.New(rand.NewPCG(18, 1))
	for i := range n {
		g := ts.images[i]
		test[i], inverted[i], darkOnWhite[i] = g, invert(g), renderDarkOnWhite(g)
		uniform[i], gradient[i] = uniformNoise(rng, 64), gradientNoise(rng, 64)
	}
	return []oodSet{
		{"Fashion-MNIST test images", test, true},
		{"uniform noise (RGB, 64x64)", uniform, false},
		{"gradient noise (Perlin, 64x64)", gradient, false},
		{"inverted test images (dark on light)", inverted, false},
		{"test garments rendered dark on white", darkOnWhite, false},
	}
}

// invert is 255 − v: the same picture as a negative, a light background.
func invert(g *image.Gray) *image.Gray {
	out := image.NewGray(g.Rect)
	for i, v := range g.Pix {
		out.Pix[i] = 255 - v
	}
	return out
}

// renderDarkOnWhite draws the garment (every non-black pixel) in dark
// tones that keep its shading, on a white background: a dark piece of
// clothing photographed on white.
func renderDarkOnWhite(g *image.Gray) *image.Gray {
	out := image.NewGray(g.Rect)
	for i, v := range g.Pix {
		if v == 0 {
			out.Pix[i] = 255
		} else {
			out.Pix[i] = v / 4
		}
	}
	return out
}

// uniformNoise is size×size RGB noise, every channel uniform in 0..255.
func uniformNoise(rng *rand.Rand, size int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return img
}

// gradientNoise is size×size grey Perlin noise: random unit gradients on
// a grid of 2 to 7 cells a side, smoothly interpolated, stretched to 0..255.
func gradientNoise(rng *rand.Rand, size int) image.Image {
	cells := 2 + rng.IntN(6)
	grad := make([][2]float64, (cells+1)*(cells+1))
	for i := range grad {
		a := rng.Float64() * 2 * math.Pi
		grad[i] = [2]float64{math.Cos(a), math.Sin(a)}
	}
	dot := func(gx, gy int, x, y float64) float64 {
		g := grad[gy*(cells+1)+gx]
		return g[0]*(x-float64(gx)) + g[1]*(y-float64(gy))
	}
	fade := func(t float64) float64 { return t * t * t * (t*(t*6-15) + 10) }
	vals := make([]float64, size*size)
	for py := range size {
		for px := range size {
			x, y := (float64(px)+0.5)*float64(cells)/float64(size), (float64(py)+0.5)*float64(cells)/float64(size)
			x0, y0 := int(x), int(y)
			u, v := fade(x-float64(x0)), fade(y-float64(y0))
			top := dot(x0, y0, x, y)*(1-u) + dot(x0+1, y0, x, y)*u
			bottom := dot(x0, y0+1, x, y)*(1-u) + dot(x0+1, y0+1, x, y)*u
			vals[py*size+px] = top*(1-v) + bottom*v
		}
	}
	lo, hi := slices.Min(vals), slices.Max(vals)
	img := image.NewGray(image.Rect(0, 0, size, size))
	for i, v := range vals {
		img.SetGray(i%size, i/size, color.Gray{Y: uint8(255 * (v - lo) / max(hi-lo, 1e-9))})
	}
	return img
}

// oodRates returns, per set, the fraction of images the model flags, and
// the fraction a max-softmax rule flags when its threshold (mspThreshold,
// NaN: not measured) is given.
func oodRates(net *model.Net, sets []oodSet, mspThreshold float64) (mahalanobis, msp []float64) {
	size := net.InputSize()
	for _, s := range sets {
		flagged, low := 0, 0
		for _, img := range s.images {
			probs, scores := net.ForwardOOD(1, model.Preprocess(img, size, net.PreprocessMode()))
			if net.OOD().Flagged(scores[0]) {
				flagged++
			}
			if float64(slices.Max(probs)) < mspThreshold {
				low++
			}
		}
		mahalanobis = append(mahalanobis, float64(flagged)/float64(len(s.images)))
		msp = append(msp, float64(low)/float64(len(s.images)))
	}
	return mahalanobis, msp
}

// mspThreshold is the max-softmax probability below which the given
// fraction of the validation images fall (the comparison rule of the table).
func mspThreshold(net *model.Net, val []data.Sample, fraction float64) (float64, error) {
	images, _, err := readSamples(val)
	if err != nil {
		return 0, err
	}
	var top []float64
	forwardBatches(net, len(images), func(i int) image.Image { return images[i] }, func(_ int, probs []float32) {
		top = append(top, float64(slices.Max(probs)))
	})
	slices.Sort(top)
	return top[int(fraction*float64(len(top)))], nil
}

// cmdOOD prints the OOD table of docs/model-card.md: the share of each set
// the model's stored Mahalanobis rule flags and, with -data, the share a
// max-softmax rule calibrated to flag as many validation images flags.
func cmdOOD(args []string) error {
	fs := flag.NewFlagSet("ood", flag.ExitOnError)
	modelPath := fs.String("model", "", "model file with OOD statistics")
	n := fs.Int("n", 1000, "test images (the first n) and noise images per set")
	dir := fs.String("data", "", "Fashion-MNIST class folders (train convert-idx), for the max-softmax comparison (optional)")
	imagesPath := fs.String("images", defaultTestImages, "test images (IDX)")
	labelsPath := fs.String("labels", defaultTestLabels, "test labels (IDX)")
	fs.Parse(args)
	net, _, err := loadNet(*modelPath)
	if err != nil {
		return err
	}
	if net.OOD() == nil {
		return fmt.Errorf("%s has no OOD statistics (add them with train ood)", *modelPath)
	}
	ts, err := readTestSet(*imagesPath, *labelsPath)
	if err != nil {
		return err
	}
	if *n < 1 || *n > len(ts.images) {
		return fmt.Errorf("-n %d: the test set has %d images", *n, len(ts.images))
	}
	msp := math.NaN()
	if *dir != "" {
		ds, err := data.Load(*dir, data.Options{ValFraction: 0.05, Seed: 1})
		if err != nil {
			return err
		}
		if msp, err = mspThreshold(net, ds.Val, 1-net.OOD().Quantile); err != nil {
			return err
		}
	}
	sets := oodSets(ts, *n)
	maha, soft := oodRates(net, sets, msp)
	fmt.Printf("OOD threshold %.4g (%.1f %% validation quantile); max-softmax threshold %.4f\n\n", net.OOD().Threshold, 100*net.OOD().Quantile, msp)
	fmt.Println("| set | images | flagged (Mahalanobis, stored) | flagged (max-softmax, for comparison) |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	for i, s := range sets {
		fmt.Printf("| %s | %d | %.1f %% | %.1f %% |\n", s.name, len(s.images), 100*maha[i], 100*soft[i])
	}
	return nil
}
