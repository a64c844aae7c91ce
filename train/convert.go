package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"vggo/train/data"
)

// cmdConvertIDX converts an IDX dataset directory (train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-…, each optionally .gz) into
// OUT/train/<class>/*.png and OUT/test/<class>/*.png, the layout fit reads.
func cmdConvertIDX(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("convert-idx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "/usr/share/datasets/fashion-mnist", "folder with the IDX files")
	out := fs.String("out", "", "output folder (required)")
	perClass := fs.Int("per-class", 0, "at most this many images per class and split (0: all)")
	testPerClass := fs.Int("test-per-class", -1, "test images per class (-1: same as -per-class)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("convert-idx: -out is required")
	}
	if *testPerClass < 0 {
		*testPerClass = *perClass
	}
	find := func(base string) (string, error) {
		for _, name := range []string{base, base + ".gz"} {
			p := filepath.Join(*in, name)
			if ok, _ := filepath.Glob(p); len(ok) == 1 {
				return p, nil
			}
		}
		return "", fmt.Errorf("convert-idx: %s(.gz) not found in %s", base, *in)
	}
	for _, sp := range []struct {
		split, prefix string
		limit         int
	}{{"train", "train", *perClass}, {"test", "t10k", *testPerClass}} {
		imgs, err := find(sp.prefix + "-images-idx3-ubyte")
		if err != nil {
			return err
		}
		labels, err := find(sp.prefix + "-labels-idx1-ubyte")
		if err != nil {
			return err
		}
		counts, err := data.ConvertIDX(imgs, labels, filepath.Join(*out, sp.split), data.FashionMNISTClasses, sp.limit)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %d images in %d classes → %s\n", sp.split, sum(counts), len(counts), filepath.Join(*out, sp.split))
	}
	return nil
}

// cmdConvertDigits converts scikit-learn's handwritten digits (the CSV that
// Debian's python3-sklearn ships) into OUT/train/<digit>/*.png and
// OUT/test/<digit>/*.png with a fixed, stratified test split.
func cmdConvertDigits(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("convert-digits", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", data.DigitsCSV, "the digits CSV, optionally gzip-compressed")
	out := fs.String("out", "", "output folder (required)")
	testPerClass := fs.Int("test-per-class", 30, "test images per class, drawn at random with -seed; the rest train")
	seed := fs.Uint64("seed", 1, "seed of the test split")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("convert-digits: -out is required")
	}
	if *testPerClass < 1 {
		return fmt.Errorf("convert-digits: -test-per-class %d, want at least 1", *testPerClass)
	}
	train, test, err := data.ConvertDigits(*in, *out, *testPerClass, *seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "train: %d images in %d classes → %s\ntest: %d images (%d per class, seed %d) → %s\n",
		sum(train), len(train), filepath.Join(*out, "train"), sum(test), *testPerClass, *seed, filepath.Join(*out, "test"))
	return nil
}

func sum(v []int) int {
	total := 0
	for _, x := range v {
		total += x
	}
	return total
}
