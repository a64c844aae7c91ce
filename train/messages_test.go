package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vggo/model"
	"vggo/model/weights"
)

// The run says which weight-file layout it read, and a file saved at
// another width gets one line naming the likely cause and the flag,
// instead of a shape line for each of its 26 tensors.
func TestWeightsLayoutAndWidthMessages(t *testing.T) {
	div16 := model.Arch{WidthDiv: 16}
	for _, tc := range []struct{ file, layout string }{
		{"../testdata/keras/vgg16_div16_keras1.h5", weights.LayoutKeras1},
		{"../testdata/keras/vgg16_div16_keras2.h5", weights.LayoutKeras2},
		{"../testdata/keras/vgg16_div16.weights.h5", weights.LayoutKeras3},
		{"../testdata/vgg16_div16.pth", weights.LayoutTorchvision},
		{"../testdata/vgg16_div16.safetensors", weights.LayoutSafetensors},
	} {
		_, _, _, layout, err := loadBase(tc.file, div16)
		if err != nil || layout != tc.layout {
			t.Errorf("%s: layout %q, %v; want %q", tc.file, layout, err, tc.layout)
		}
		_, _, _, _, err = loadBase(tc.file, model.Arch{WidthDiv: 1})
		want := tc.file + ": these weights look like width/16 (every channel count divided by 16), the run asks for width/1: add -width-div 16"
		if err == nil || err.Error() != want {
			t.Errorf("%s at full width: %v\nwant %s", tc.file, err, want)
		}
	}

	// A vggo model file: its own description, and the same advice.
	dir := t.TempDir()
	c := smallFit(fixture, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 1)
	c.OOD.PerClass = 0
	res, err := fit(context.Background(), c, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, layout, err := loadBase(res.ModelPath, model.Arch{WidthDiv: 8})
	if err != nil || layout != "vggo model file: int8, width/8, 32x32 input, 4 classes" {
		t.Errorf("vggo model file: layout %q, %v", layout, err)
	}
	_, _, _, _, err = loadBase(res.ModelPath, model.Arch{WidthDiv: 1})
	if want := res.ModelPath + ": these weights look like width/8 (every channel count divided by 8), the run asks for width/1: add -width-div 8"; err == nil || err.Error() != want {
		t.Errorf("vggo model file at full width: %v\nwant %s", err, want)
	}
	_, _, _, _, err = loadBase("../testdata/vgg16_div16.pth", model.Arch{WidthDiv: 16})
	if err != nil {
		t.Fatal(err)
	}
}

// The log says which preprocessing the run uses and where it came from.
func TestPreprocessingMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *fitConfig)
		want string
	}{
		{"from scratch", func(c *fitConfig) {}, "preprocessing: torch (RGB/255 then the ImageNet mean and std, as torchvision's; the default for -from-scratch (inputs of unit scale); -preprocess to change)\n"},
		{"flag", func(c *fitConfig) { c.Preprocess = model.PreprocessCaffe }, "preprocessing: caffe (BGR minus the ImageNet mean, as Keras' VGG16; set by -preprocess)\n"},
		{"keras weights", func(c *fitConfig) {
			c.FromScratch, c.Weights, c.WidthDiv = false, "../testdata/keras/vgg16_div16_keras2.h5", 16
		}, "preprocessing: caffe (BGR minus the ImageNet mean, as Keras' VGG16; the default for Keras .h5 weights; -preprocess to change)\n"},
		{"torch weights", func(c *fitConfig) {
			c.FromScratch, c.Weights, c.WidthDiv = false, "../testdata/vgg16_div16.pth", 16
		}, "weights: ../testdata/vgg16_div16.pth (torchvision .pth (torch.save zip))\npreprocessing: torch (RGB/255 then the ImageNet mean and std, as torchvision's; the default for torchvision .pth weights; -preprocess to change)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := smallFit(fixture, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 1)
			c.Preprocess, c.TrainPerClass, c.OOD.PerClass = "", 4, 0
			tc.edit(c)
			if err := c.validate(); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			if _, err := prepare(context.Background(), c, &log, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, log.String())
			}
		})
	}
}

// The log says how many augmented draws the run caches and, when the
// epochs outnumber them, that later epochs repeat earlier draws.
func TestAugmentationMessage(t *testing.T) {
	for _, tc := range []struct {
		name           string
		copies, epochs int
		want, notWant  string
	}{
		{"fewer draws than epochs", 2, 5, "augmentation: -flip; 2 cached draw(s) of every training image, epoch e uses draw (e-1) mod 2, so epochs 3-5 see earlier epochs' draws again, which the network can memorise (training loss drops, validation loss rises): -aug-copies 5 draws a fresh copy for every epoch\n", ""},
		{"a draw per epoch", 3, 3, "augmentation: -flip; 3 cached draw(s) of every training image, epoch e uses draw (e-1) mod 3\n", "again"},
		{"no augmentation", 0, 3, "", "augmentation:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := smallFit(fixture, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), tc.epochs)
			c.Aug.HorizontalFlip, c.AugCopies = tc.copies > 0, max(tc.copies, 1)
			c.TrainPerClass, c.OOD.PerClass = 4, 0
			if err := c.validate(); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			if _, err := prepare(context.Background(), c, &log, io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), tc.want) || (tc.notWant != "" && strings.Contains(log.String(), tc.notWant)) {
				t.Errorf("log lacks %q (or has %q):\n%s", tc.want, tc.notWant, log.String())
			}
		})
	}
}

// Unreadable images: one warning line each, then a summary, and the split
// is drawn again without them, so two bad files in a small class do not
// empty its validation split; a class with too few good images is refused
// with the number it needs.
func TestBadImagesInSmallClass(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "data")
	copyTree(t, fixture, root)
	// A small class: 4 images, 2 of them unreadable.
	noise := filepath.Join(root, "train", "noise")
	os.MkdirAll(noise, 0o755)
	os.MkdirAll(filepath.Join(root, "test", "noise"), 0o755)
	good, err := os.ReadFile(filepath.Join(fixture, "test", "1_trouser", firstFile(t, filepath.Join(fixture, "test", "1_trouser"))))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		os.WriteFile(filepath.Join(noise, fmt.Sprintf("good%d.png", i)), good, 0o644)
		os.WriteFile(filepath.Join(noise, fmt.Sprintf("bad%d.png", i)), []byte("\x89PNG\r\n\x1a\nnot a png"), 0o644)
	}
	os.WriteFile(filepath.Join(root, "test", "noise", "t.png"), good, 0o644)

	var log, warn bytes.Buffer
	c := smallFit(root, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 1)
	// Half of 4 to validation: seed 19's split puts both bad files there,
	// which emptied the class's validation split before.
	c.ValFraction, c.Seed = 0.5, 19
	res, err := fit(context.Background(), c, &log, &warn)
	if err != nil {
		t.Fatalf("%v\nwarnings:\n%s", err, warn.String())
	}
	lines := strings.Split(strings.TrimSpace(warn.String()), "\n")
	var skips []string
	for _, l := range lines {
		if strings.HasPrefix(l, "warning: skipping ") {
			skips = append(skips, l)
		}
	}
	wantSummary := `warning: skipped 2 unreadable image(s) (named above): 2 in class "noise"; splitting the dataset again without them`
	if len(skips) != 2 || !strings.Contains(warn.String(), wantSummary) {
		t.Errorf("warnings: want one per bad file and the summary %q:\n%s", wantSummary, warn.String())
	}
	if res.Skipped != 2 || !strings.Contains(log.String(), "2 unreadable image(s) skipped") {
		t.Errorf("skipped %d; log:\n%s", res.Skipped, log.String())
	}

	// One good image left for training and validation: refused, saying how
	// many it needs.
	os.Remove(filepath.Join(noise, "good1.png"))
	c = smallFit(root, filepath.Join(dir, "run2"), filepath.Join(dir, "cache"), 1)
	c.ValFraction, c.Seed = 0.5, 19
	_, err = fit(context.Background(), c, io.Discard, io.Discard)
	want := `class "noise" has too few readable images to give the validation split one (2 unreadable image(s) skipped, named above): it needs at least 2 good images, one for each of training, validation; add images or change -val/-test`
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

func firstFile(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil || len(es) == 0 {
		t.Fatalf("%s: %v", dir, err)
	}
	return es[0].Name()
}

// -split-seed keeps an earlier run's validation split while -seed draws
// new shuffles and augmentation; without it, a new -seed moves images
// between training and validation. The log says which seed does what.
func TestSplitSeed(t *testing.T) {
	dir := t.TempDir()
	split := func(seed, splitSeed uint64) (val []string, aug uint64, log string) {
		t.Helper()
		c := smallFit(fixture, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 1)
		c.Seed, c.SplitSeed = seed, splitSeed
		c.Aug.HorizontalFlip, c.AugCopies = true, 1
		c.TrainPerClass, c.OOD.PerClass = 4, 0
		if err := c.validate(); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		pr, err := prepare(context.Background(), c, &buf, io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range pr.ds.Val {
			val = append(val, s.Path)
		}
		return val, pr.src.augSeed, buf.String()
	}
	val1, aug1, log1 := split(1, 0)
	val2, aug2, log2 := split(2, 0)
	valKept, augKept, logKept := split(2, 1)
	if slices.Equal(val1, val2) {
		t.Fatalf("seeds 1 and 2 drew the same validation split; the test cannot tell -split-seed's effect")
	}
	if !slices.Equal(val1, valKept) {
		t.Errorf("-seed 2 -split-seed 1: validation split differs from -seed 1's")
	}
	if aug1 == augKept || augKept != aug2 {
		t.Errorf("augmentation seeds: -seed 1 %d, -seed 2 %d, -seed 2 -split-seed 1 %d; want the last to follow -seed", aug1, aug2, augKept)
	}
	const msg = "splits drawn with seed 1 (-split-seed); shuffling, initialisation, dropout and augmentation with seed 2 (-seed)\n"
	if !strings.Contains(logKept, msg) {
		t.Errorf("log lacks %q:\n%s", msg, logKept)
	}
	if strings.Contains(log1, "-split-seed") || strings.Contains(log2, "-split-seed") {
		t.Errorf("log mentions -split-seed without one:\n%s\n%s", log1, log2)
	}
	// -split-seed equal to -seed changes nothing, so a checkpoint of the
	// run without it resumes.
	plain, same := smallFit(fixture, "run", "cache", 1), smallFit(fixture, "run", "cache", 1)
	same.SplitSeed = same.Seed
	for _, c := range []*fitConfig{plain, same} {
		if err := c.validate(); err != nil {
			t.Fatal(err)
		}
	}
	if plain.fingerprint() != same.fingerprint() {
		t.Errorf("-split-seed %d -seed %d: fingerprint differs from -seed %d's alone:\n%s\n%s", same.Seed, same.Seed, same.Seed, same.fingerprint(), plain.fingerprint())
	}
}
