package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"

	"vggo/model"
	"vggo/model/weights"
	"vggo/train/cache"
	"vggo/train/data"
	"vggo/train/nn"
)

// prepared is a dataset with its frozen features in the cache.
type prepared struct {
	ds               *data.Dataset
	base             *model.ConvBase
	from             *model.Model // --weights when it is a vggo model file
	spec             nn.Spec
	cache            *cache.Cache
	src              *featureSource
	train, val, test *featureSet
	skipped          int
}

// prepare loads the dataset and the conv base and fills the feature cache
// for every split. Unreadable images are skipped with one warning each and
// a summary, and the split is drawn again without them, so that they empty
// no split of a class that has enough good images; a class that has too
// few is an error here, before any training, saying how many it needs.
func prepare(ctx context.Context, c *fitConfig, stdout, progress, warn io.Writer) (*prepared, error) {
	var err error
	// Data.
	opts := data.Options{ValFraction: c.ValFraction, TestFraction: c.TestFraction, Seed: c.splitSeed(),
		Classes: c.Classes, ClassNames: c.ClassNames, TrainPerClass: c.TrainPerClass, TestPerClass: c.TestPerClass}
	ds, err := data.Load(c.Data, opts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "dataset %s (%s layout): %d classes, %d train / %d validation / %d test images\n",
		c.Data, ds.Layout, len(ds.Classes), len(ds.Train), len(ds.Val), len(ds.Test))
	if c.splitSeed() != c.Seed {
		fmt.Fprintf(stdout, "splits drawn with seed %d (-split-seed); shuffling, initialisation, dropout and augmentation with seed %d (-seed)\n", c.splitSeed(), c.Seed)
	}

	// Conv base.
	arch := c.arch()
	var base *model.ConvBase
	var from *model.Model // the vggo model file given as --weights, if it is one
	var weightsID, layout string
	if c.FromScratch {
		base = randomBase(arch, c.Seed)
		weightsID = fmt.Sprintf("scratch:seed=%d", c.Seed)
		fmt.Fprintf(stdout, "weights: random (He) initialisation, seed %d (-from-scratch)\n", c.Seed)
	} else {
		if base, from, weightsID, layout, err = loadBase(c.Weights, model.Arch{WidthDiv: c.WidthDiv}); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "weights: %s (%s)\n", c.Weights, layout)
		if base.Arch.Depth() < arch.Depth() {
			return nil, fmt.Errorf("%s: its base has only %d conv layers, the run asks for --base-layers %d", c.Weights, base.Arch.Depth(), arch.Depth())
		}
		base = base.Cut(arch.Layers)
	}
	fmt.Fprintf(stdout, "preprocessing: %s (%s; %s)\n", c.Preprocess, preprocessMeaning[c.Preprocess], c.preprocessFrom)
	if line := augmentationLine(c); line != "" {
		fmt.Fprintln(stdout, line)
	}
	hidden, err := nn.DefaultHidden(c.Head, c.WidthDiv)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	spec := nn.Spec{Arch: arch, InputSize: c.InputSize, Boundary: arch.Depth() - c.FineTune, Head: c.Head, Hidden: hidden,
		Classes: len(ds.Classes), Dropout: c.Dropout}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	if arch.Depth() < model.ConvLayers {
		side := arch.OutputSide(c.InputSize)
		fmt.Fprintf(stdout, "conv base: the first %d of %d conv layers (-base-layers %d), output %dx%dx%d\n",
			arch.Depth(), model.ConvLayers, arch.Depth(), side, side, arch.Channels())
	}

	// Frozen features, computed once and cached.
	cacheDir := c.CacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(filepath.Dir(filepath.Clean(c.Out)), ".vggo-cache")
	}
	memBudget := c.MemBudget
	if memBudget == 0 {
		memBudget = 2 << 30
	}
	fc, err := cache.Open(cacheDir, memBudget)
	if err != nil {
		return nil, err
	}
	src := &featureSource{cache: fc, boundary: spec.Boundary, size: c.InputSize, mode: c.Preprocess, weightsID: weightsID,
		widthDiv: c.WidthDiv, aug: c.Aug, augSeed: c.Seed, batch: 16}
	if spec.Boundary > 0 {
		if src.net, err = model.NewFeatureNet(base, c.InputSize); err != nil {
			return nil, err
		}
	}
	frozen := "no conv layer frozen"
	if spec.Boundary > 0 {
		frozen = fmt.Sprintf("conv layers 1-%d frozen", spec.Boundary)
	}
	fmt.Fprintf(stdout, "%s (activations cached in %s), %d trainable conv layer(s)\n", frozen, cacheDir, arch.Depth()-spec.Boundary)
	sets, err := src.prepareSplits(ctx, ds, c, progress, warn)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, s := range sets {
		bad = append(bad, s.Skipped...)
	}
	if len(bad) > 0 {
		// Split again without the bad files; their features are all cached
		// now, and their warnings were given.
		fmt.Fprintf(warn, "warning: skipped %d unreadable image(s) (named above): %s; splitting the dataset again without them\n",
			len(bad), badPerClass(ds, bad))
		opts.Exclude = map[string]bool{}
		for _, p := range bad {
			opts.Exclude[p] = true
		}
		layout := ds.Layout
		if ds, err = data.Load(c.Data, opts); err != nil {
			var empty *data.EmptyClassError
			if errors.As(err, &empty) {
				return nil, tooFewImages(c, layout, empty, len(bad))
			}
			return nil, err
		}
		if sets, err = src.prepareSplits(ctx, ds, c, io.Discard, io.Discard); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "dataset without the unreadable images: %d train / %d validation / %d test images\n", len(ds.Train), len(ds.Val), len(ds.Test))
	}
	trainSet, valSet, testSet := sets[0], sets[1], sets[2]
	fmt.Fprintf(stdout, "features: %d computed, %d reused from the cache, %d unreadable image(s) skipped\n",
		src.computed, countKeys(trainSet, valSet, testSet)-src.computed, len(bad))

	return &prepared{ds: ds, base: base, from: from, spec: spec, cache: fc, src: src, train: trainSet, val: valSet, test: testSet, skipped: len(bad)}, nil
}

// preprocessMeaning says what each preprocessing mode does, for the log.
var preprocessMeaning = map[string]string{
	model.PreprocessCaffe: "BGR minus the ImageNet mean, as Keras' VGG16",
	model.PreprocessTorch: "RGB/255 then the ImageNet mean and std, as torchvision's",
}

// prepareSplits fills the cache for the train, validation and test splits
// of ds, in that order.
func (f *featureSource) prepareSplits(ctx context.Context, ds *data.Dataset, c *fitConfig, progress, warn io.Writer) ([3]*featureSet, error) {
	var sets [3]*featureSet
	var err error
	if sets[0], err = f.prepare(ctx, "train", ds.Train, c.AugCopies, c.Aug.Enabled(), progress, warn); err != nil {
		return sets, err
	}
	if sets[1], err = f.prepare(ctx, "validation", ds.Val, 1, false, progress, warn); err != nil {
		return sets, err
	}
	sets[2], err = f.prepare(ctx, "test", ds.Test, 1, false, progress, warn)
	return sets, err
}

// badPerClass says how many of the bad files each class lost, e.g.
// `2 in class "noise", 1 in class "cat"`.
func badPerClass(ds *data.Dataset, bad []string) string {
	label := map[string]int{}
	for _, s := range slices.Concat(ds.Train, ds.Val, ds.Test) {
		label[s.Path] = s.Label
	}
	count := make([]int, len(ds.Classes))
	for _, p := range bad {
		count[label[p]]++
	}
	var parts []string
	for c, n := range count {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d in class %q", n, ds.Classes[c]))
		}
	}
	return strings.Join(parts, ", ")
}

// tooFewImages explains a class that, without its unreadable images, lacks
// a split: how many good images it needs, and what to do. layout is the
// dataset's (data.Dataset.Layout): only the class-folder layout draws its
// test split from the same images.
func tooFewImages(c *fitConfig, layout string, e *data.EmptyClassError, bad int) error {
	if e.Split == "test" && layout != "folders" {
		return fmt.Errorf("class %q has no readable test image left (%d unreadable image(s) skipped, named above): add good ones to its test folder", e.Class, bad)
	}
	splits := []string{"training"}
	if c.ValFraction > 0 {
		splits = append(splits, "validation")
	}
	if c.TestFraction > 0 && layout == "folders" {
		splits = append(splits, "test")
	}
	return fmt.Errorf("class %q has too few readable images to give the %s split one (%d unreadable image(s) skipped, named above): it needs at least %d good images, one for each of %s; add images or change -val/-test",
		e.Class, e.Split, bad, len(splits), strings.Join(splits, ", "))
}

// randomBase is a He-initialised conv base (for --from-scratch).
func randomBase(arch model.Arch, seed uint64) *model.ConvBase {
	rng := rand.New(rand.NewPCG(seed, 0xba5e))
	b := &model.ConvBase{Arch: arch}
	for i := range arch.Depth() {
		s := arch.Conv(i)
		k := make([]float32, 9*s.Cin*s.Cout)
		std := math.Sqrt(2 / float64(9*s.Cin))
		for j := range k {
			k[j] = float32(rng.NormFloat64() * std)
		}
		b.Layers[i] = model.ConvParams{Kernel: k, Bias: make([]float32, s.Cout)}
	}
	return b
}

// loadBase reads a conv base from a pretrained weight file (weights.Load:
// Keras .h5, torchvision .pth, .safetensors) or from a vggo model file, so
// a model trained here can be the base of the next (the experiment's
// pretraining step). For a vggo model file it also returns the file's model,
// whose head a run with the same head and classes starts from (warm start);
// it is nil for the other formats. sha256 is the file's hash, which keys the
// feature cache: a vggo model file is hashed in the pass that reads it, a
// foreign weight file once on its own.
func loadBase(path string, arch model.Arch) (base *model.ConvBase, from *model.Model, sha256, layout string, err error) {
	if _, err := model.ReadInfo(path); err == nil {
		m, err := model.ReadModelFile(path)
		if err != nil {
			return nil, nil, "", "", err
		}
		if d := m.Base.Arch.WidthDiv; d != arch.WidthDiv {
			return nil, nil, "", "", widthMismatch(path, d, arch.WidthDiv)
		}
		layout = fmt.Sprintf("vggo model file: %s, width/%d, %dx%d input, %d classes", m.Info.DType, m.Info.WidthDiv, m.Info.InputSize, m.Info.InputSize, len(m.Info.Classes))
		return &m.Base, m, m.Info.SHA256, layout, nil
	}
	if base, layout, err = weights.LoadLayout(path, arch); err != nil {
		var se *model.ShapeError
		if errors.As(err, &se) {
			if d, ok := weights.GuessWidthDiv(path); ok && d != arch.WidthDiv {
				return nil, nil, "", "", widthMismatch(path, d, arch.WidthDiv)
			}
		}
		return nil, nil, "", "", err
	}
	if sha256, err = model.FileSHA256(path); err != nil {
		return nil, nil, "", "", err
	}
	return base, nil, sha256, layout, nil
}

// widthMismatch is the error for weights saved at width/have when the run
// asks for width/want: the likely cause and the flag that fixes it, instead
// of a shape line for every tensor.
func widthMismatch(path string, have, want int) error {
	if have == 1 {
		return fmt.Errorf("%s: these weights are the full-width VGG16, the run asks for width/%d: drop -width-div (or give -width-div 1)", path, want)
	}
	return fmt.Errorf("%s: these weights look like width/%d (every channel count divided by %d), the run asks for width/%d: add -width-div %d", path, have, have, want, have)
}

func countKeys(sets ...*featureSet) int {
	n := 0
	for _, s := range sets {
		for _, k := range s.Keys {
			n += len(k)
		}
	}
	return n
}

// augmentationLine says how many augmented draws of each training image
// the run caches and, when the epochs outnumber them, that later epochs
// see earlier epochs' draws again: the network can then memorise them, as
// the default model's stage 7 showed (docs/model-card.md: training loss
// 0.17 -> 0.09 at the first repeated epoch, validation loss up).
func augmentationLine(c *fitConfig) string {
	if !c.Aug.Enabled() {
		return ""
	}
	line := fmt.Sprintf("augmentation: %s; %d cached draw(s) of every training image, epoch e uses draw (e-1) mod %d", c.Aug.Flags(), c.AugCopies, c.AugCopies)
	if c.AugCopies < c.Epochs {
		line += fmt.Sprintf(", so epochs %d-%d see earlier epochs' draws again, which the network can memorise (training loss drops, validation loss rises): -aug-copies %d draws a fresh copy for every epoch",
			c.AugCopies+1, c.Epochs, c.Epochs)
	}
	return line
}
