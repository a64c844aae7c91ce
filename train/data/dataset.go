// Package data finds labelled images on disk and splits them into training,
// validation and test sets. Three layouts are understood:
//
//   - class folders, as Keras' flow_from_directory: DIR/<class>/*.jpg|png|…;
//     the splits are drawn from them, stratified per class, with a seed;
//   - separate DIR/train/<class>/… and DIR/test/<class>/… trees (the
//     validation split is then drawn from train);
//   - the Food-101 layout: DIR/images/<class>/<id>.jpg with DIR/meta/classes.txt,
//     DIR/meta/train.txt and DIR/meta/test.txt (lines "<class>/<id>").
//
// Package data only lists files; decoding happens later, where an unreadable
// file is skipped with a warning (see Sample.Path).
package data

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// ImageExtensions are the file name endings (lower case) taken as images.
var ImageExtensions = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}

// IsImageName reports whether name ends in one of ImageExtensions.
func IsImageName(name string) bool {
	return slices.Contains(ImageExtensions, strings.ToLower(filepath.Ext(name)))
}

// Sample is one labelled image file.
type Sample struct {
	Path  string
	Label int // index into Dataset.Classes
}

// Dataset is a labelled image collection split three ways.
type Dataset struct {
	Layout           string   // "folders", "train-test" or "food101"
	Classes          []string // sorted class names; Label indexes this
	Train, Val, Test []Sample
}

// Options selects and splits a dataset.
type Options struct {
	// ValFraction and TestFraction are the shares of each class put in the
	// validation and test splits. TestFraction is ignored when the layout
	// has its own test set.
	ValFraction, TestFraction float64
	// Seed makes the split reproducible.
	Seed uint64
	// Classes, when > 0, keeps only the first Classes class names in sorted
	// order (the Food-101 tutorial uses 10).
	Classes int
	// ClassNames, when set, keeps only these classes (in this order of
	// preference: the kept classes are still sorted by name).
	ClassNames []string
	// TrainPerClass, when > 0, keeps at most this many training images per
	// class (chosen with Seed), for small-data experiments.
	TrainPerClass int
	// TestPerClass, when > 0, keeps at most this many test images per class.
	TestPerClass int
	// Exclude lists files to leave out before the split: images an earlier
	// pass found unreadable, so that they empty no split of a class that
	// has enough good images.
	Exclude map[string]bool
}

// keep returns s without the excluded files.
func (opt Options) keep(s []Sample) []Sample {
	if len(opt.Exclude) == 0 {
		return s
	}
	return slices.DeleteFunc(slices.Clone(s), func(x Sample) bool { return opt.Exclude[x.Path] })
}

// Load detects the layout of dir and returns its samples, split.
func Load(dir string, opt Options) (*Dataset, error) {
	if opt.ValFraction < 0 || opt.TestFraction < 0 || opt.ValFraction+opt.TestFraction >= 1 {
		return nil, fmt.Errorf("split fractions val=%g test=%g: each must be ≥ 0 and together < 1", opt.ValFraction, opt.TestFraction)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("dataset %s: not a directory", dir)
	}
	var d *Dataset
	switch {
	case isFile(filepath.Join(dir, "meta", "classes.txt")) && isDir(filepath.Join(dir, "images")):
		d, err = loadFood101(dir, opt)
	case isDir(filepath.Join(dir, "train")) && isDir(filepath.Join(dir, "test")):
		d, err = loadTrainTest(dir, opt)
	default:
		d, err = loadFolders(dir, opt)
	}
	if err != nil {
		return nil, err
	}
	if err := checkClassNames(dir, d.Classes); err != nil {
		return nil, err
	}
	d.limit(opt)
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	return d, nil
}

// checkClassNames refuses a class whose folder name is not UTF-8. The model
// file keeps class names in its JSON metadata, which is UTF-8 text: such a
// name would come out changed (U+FFFD for the odd bytes), and evaluate on
// the same folder would then look for a class folder that does not exist.
// Refusing is simpler than an escape that every reader of model files (the
// browser app, the server, other safetensors tools) would have to undo.
func checkClassNames(dir string, classes []string) error {
	for _, c := range classes {
		if !utf8.ValidString(c) {
			return fmt.Errorf("dataset %s: class folder %q: the name is not valid UTF-8, and the model file stores class names as UTF-8 text; rename the folder", dir, c)
		}
	}
	return nil
}

func isFile(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
func isDir(p string) bool  { st, err := os.Stat(p); return err == nil && st.IsDir() }

// EmptyClassError says that a class has no images in a split.
type EmptyClassError struct {
	Class string
	Split string
	Dir   string // the folder that was searched, if any
}

func (e *EmptyClassError) Error() string {
	if e.Dir != "" {
		return fmt.Sprintf("class %q has no images in the %s split (folder %s)", e.Class, e.Split, e.Dir)
	}
	return fmt.Sprintf("class %q has no images in the %s split", e.Class, e.Split)
}

// Check reports the first class missing from a split. A classifier cannot
// learn, or be scored on, a class that a split lacks, so this is an error
// before any training starts.
func (d *Dataset) Check() error {
	if len(d.Classes) < 2 {
		return fmt.Errorf("need at least 2 classes, found %d", len(d.Classes))
	}
	for _, sp := range []struct {
		name string
		s    []Sample
	}{{"train", d.Train}, {"validation", d.Val}, {"test", d.Test}} {
		if sp.name != "train" && len(sp.s) == 0 {
			continue // no such split requested
		}
		count := CountPerClass(sp.s, len(d.Classes))
		for c, n := range count {
			if n == 0 {
				return &EmptyClassError{Class: d.Classes[c], Split: sp.name}
			}
		}
	}
	return nil
}

// CountPerClass counts samples per label.
func CountPerClass(s []Sample, classes int) []int {
	n := make([]int, classes)
	for _, x := range s {
		n[x.Label]++
	}
	return n
}

// SplitStratified shuffles each class's samples with seed and cuts them
// into train/val/test by the given fractions, rounding to the nearest
// count; every split that gets a non-zero fraction receives at least one
// image of each class that has at least three. Output order is class by
// class, the shuffle order within.
func SplitStratified(s []Sample, classes int, val, test float64, seed uint64) (train, valS, testS []Sample) {
	byClass := make([][]Sample, classes)
	for _, x := range s {
		byClass[x.Label] = append(byClass[x.Label], x)
	}
	for c, xs := range byClass {
		rng := rand.New(rand.NewPCG(seed, uint64(c)+1))
		xs = slices.Clone(xs)
		rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
		n := len(xs)
		nv := splitCount(n, val)
		nt := splitCount(n, test)
		for nv+nt >= n && (nv > 0 || nt > 0) {
			if nv >= nt && nv > 0 {
				nv--
			} else {
				nt--
			}
		}
		valS = append(valS, xs[:nv]...)
		testS = append(testS, xs[nv:nv+nt]...)
		train = append(train, xs[nv+nt:]...)
	}
	return train, valS, testS
}

func splitCount(n int, frac float64) int {
	if frac <= 0 {
		return 0
	}
	k := int(frac*float64(n) + 0.5)
	if k == 0 && n >= 3 {
		k = 1
	}
	return k
}

// limit applies TrainPerClass and TestPerClass.
func (d *Dataset) limit(opt Options) {
	cut := func(s []Sample, per int, salt uint64) []Sample {
		if per <= 0 {
			return s
		}
		byClass := make([][]Sample, len(d.Classes))
		for _, x := range s {
			byClass[x.Label] = append(byClass[x.Label], x)
		}
		var out []Sample
		for c, xs := range byClass {
			rng := rand.New(rand.NewPCG(opt.Seed^salt, uint64(c)+1))
			xs = slices.Clone(xs)
			rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
			if len(xs) > per {
				xs = xs[:per]
			}
			out = append(out, xs...)
		}
		return out
	}
	d.Train = cut(d.Train, opt.TrainPerClass, 0x7261696e)
	d.Test = cut(d.Test, opt.TestPerClass, 0x74657374)
}
