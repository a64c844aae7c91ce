package main

import (
	"flag"
	"fmt"
	"image"
	"math"
	"os"

	"vggo/model"
	"vggo/model/rank"
	"vggo/train/data"
)

// cmdValidate prints each model's loss and accuracy on the validation
// split `train fit -val FRACTION -seed SEED` holds out of DATA's training
// images: how the default model's stages and averages are compared,
// never on the test set.
func cmdValidate(args []string) error {
	fs := flag.NewFlagSet("validate", flag.ExitOnError)
	dir := fs.String("data", "", "Fashion-MNIST as class folders (train/ and test/), as train fit reads it")
	val := fs.Float64("val", 0.05, "the validation share of each class, as train fit's -val")
	seed := fs.Uint64("seed", 1, "the split's seed, as train fit's -seed")
	fs.Parse(args)
	if *dir == "" || fs.NArg() == 0 {
		return fmt.Errorf("validate: -data and at least one model file are required")
	}
	ds, err := data.Load(*dir, data.Options{ValFraction: *val, Seed: *seed})
	if err != nil {
		return err
	}
	images, labels, err := readSamples(ds.Val)
	if err != nil {
		return err
	}
	for _, path := range fs.Args() {
		net, m, err := loadNet(path)
		if err != nil {
			return err
		}
		if len(m.Info.Classes) != len(ds.Classes) {
			return fmt.Errorf("%s has %d classes, %s %d", path, len(m.Info.Classes), *dir, len(ds.Classes))
		}
		loss, acc := validationScores(net, images, labels)
		// Six digits of loss: the choice between candidates can turn on the
		// fifth (stage 10's two best tied at four, see the model card).
		fmt.Printf("%s: val_loss %.6f  val_acc %.4f  (%d validation images, -val %g -seed %d)\n", path, loss, acc, len(images), *val, *seed)
	}
	return nil
}

// readSamples decodes the samples' image files (the validation split, for
// validate and ood).
func readSamples(samples []data.Sample) ([]image.Image, []int, error) {
	var images []image.Image
	var labels []int
	for _, s := range samples {
		f, err := os.Open(s.Path)
		if err != nil {
			return nil, nil, err
		}
		img, err := model.DecodeImage(f, s.Path)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		images = append(images, img)
		labels = append(labels, s.Label)
	}
	return images, labels, nil
}

// validationScores is the mean cross-entropy (plain, as train fit reports
// val_loss) and the top-1 accuracy of net on the images.
func validationScores(net *model.Net, images []image.Image, labels []int) (loss, acc float64) {
	correct := 0
	forwardBatches(net, len(images), func(i int) image.Image { return images[i] }, func(i int, probs []float32) {
		loss -= math.Log(max(float64(probs[labels[i]]), 1e-12))
		if rank.Best(probs) == labels[i] {
			correct++
		}
	})
	n := float64(len(images))
	return loss / n, float64(correct) / n
}
