package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"

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
// for every split; a class left without images (after skipping unreadable
// files) is an error here, before any training.
func prepare(ctx context.Context, c *fitConfig, stdout, progress, warn io.Writer) (*prepared, error) {
	var err error
	// Data.
	ds, err := data.Load(c.Data, data.Options{ValFraction: c.ValFraction, TestFraction: c.TestFraction, Seed: c.Seed,
		Classes: c.Classes, ClassNames: c.ClassNames, TrainPerClass: c.TrainPerClass, TestPerClass: c.TestPerClass})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "dataset %s (%s layout): %d classes, %d train / %d validation / %d test images\n",
		c.Data, ds.Layout, len(ds.Classes), len(ds.Train), len(ds.Val), len(ds.Test))

	// Conv base.
	arch := model.Arch{WidthDiv: c.WidthDiv}
	var base *model.ConvBase
	var from *model.Model // the vggo model file given as --weights, if it is one
	var weightsID string
	if c.FromScratch {
		base = randomBase(arch, c.Seed)
		weightsID = fmt.Sprintf("scratch:seed=%d", c.Seed)
	} else {
		if base, from, weightsID, err = loadBase(c.Weights, arch); err != nil {
			return nil, err
		}
	}
	hidden, err := nn.DefaultHidden(c.Head, c.WidthDiv)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	spec := nn.Spec{Arch: arch, InputSize: c.InputSize, Boundary: model.ConvLayers - c.FineTune, Head: c.Head, Hidden: hidden,
		Classes: len(ds.Classes), Dropout: c.Dropout}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
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
	fmt.Fprintf(stdout, "%s (activations cached in %s), %d trainable conv layer(s) + %s head %v\n",
		frozen, cacheDir, model.ConvLayers-spec.Boundary, c.Head, hidden)
	trainSet, err := src.prepare(ctx, "train", ds.Train, c.AugCopies, c.Aug.Enabled(), progress, warn)
	if err != nil {
		return nil, err
	}
	valSet, err := src.prepare(ctx, "validation", ds.Val, 1, false, progress, warn)
	if err != nil {
		return nil, err
	}
	testSet, err := src.prepare(ctx, "test", ds.Test, 1, false, progress, warn)
	if err != nil {
		return nil, err
	}
	skipped := len(trainSet.Skipped) + len(valSet.Skipped) + len(testSet.Skipped)
	kept := &data.Dataset{Classes: ds.Classes, Train: trainSet.Samples, Val: valSet.Samples, Test: testSet.Samples}
	if err := kept.Check(); err != nil {
		return nil, fmt.Errorf("after skipping %d unreadable image(s): %w", skipped, err)
	}
	fmt.Fprintf(stdout, "features: %d computed, %d reused from the cache, %d unreadable image(s) skipped\n",
		src.computed, countKeys(trainSet, valSet, testSet)-src.computed, skipped)

	return &prepared{ds: ds, base: base, from: from, spec: spec, cache: fc, src: src, train: trainSet, val: valSet, test: testSet, skipped: skipped}, nil
}

// randomBase is a He-initialised conv base (for --from-scratch).
func randomBase(arch model.Arch, seed uint64) *model.ConvBase {
	rng := rand.New(rand.NewPCG(seed, 0xba5e))
	b := &model.ConvBase{Arch: arch}
	for i := range b.Layers {
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
func loadBase(path string, arch model.Arch) (base *model.ConvBase, from *model.Model, sha256 string, err error) {
	if _, err := model.ReadInfo(path); err == nil {
		m, err := model.ReadModelFile(path)
		if err != nil {
			return nil, nil, "", err
		}
		if m.Base.Arch.WidthDiv != arch.WidthDiv {
			return nil, nil, "", fmt.Errorf("%s: model has --width-div %d, the run asks for %d", path, m.Base.Arch.WidthDiv, arch.WidthDiv)
		}
		return &m.Base, m, m.Info.SHA256, nil
	}
	if base, err = weights.Load(path, arch); err != nil {
		return nil, nil, "", err
	}
	if sha256, err = model.FileSHA256(path); err != nil {
		return nil, nil, "", err
	}
	return base, nil, sha256, nil
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
