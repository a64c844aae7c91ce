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
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
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

// listClassDirs returns the sorted sub-directory names of dir.
func listClassDirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		} else if e.Type()&os.ModeSymlink != 0 && isDir(filepath.Join(dir, e.Name())) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("dataset %s: no class folders (expected %s/<class>/<image>)", dir, dir)
	}
	return names, nil
}

// selectClasses applies Options.Classes and Options.ClassNames to the sorted
// list of all class names.
func selectClasses(all []string, opt Options, where string) ([]string, error) {
	sel := all
	if len(opt.ClassNames) > 0 {
		sel = nil
		for _, want := range opt.ClassNames {
			if !slices.Contains(all, want) {
				return nil, fmt.Errorf("dataset %s: class %q not found (have %s)", where, want, strings.Join(all, ", "))
			}
			sel = append(sel, want)
		}
		sort.Strings(sel)
	}
	if opt.Classes > 0 {
		if opt.Classes > len(sel) {
			return nil, fmt.Errorf("dataset %s: --classes %d but only %d classes exist", where, opt.Classes, len(sel))
		}
		sel = sel[:opt.Classes]
	}
	return sel, nil
}

// listImages returns the sorted image files directly inside dir.
func listImages(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && IsImageName(e.Name()) && !strings.HasPrefix(e.Name(), ".") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	return files, nil
}

// scanFolders reads root/<class>/* for each class; a class without images
// is an EmptyClassError naming its folder.
func scanFolders(root string, classes []string, split string) ([]Sample, error) {
	var out []Sample
	for c, name := range classes {
		dir := filepath.Join(root, name)
		files, err := listImages(dir)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, &EmptyClassError{Class: name, Split: split, Dir: dir}
			}
			return nil, err
		}
		if len(files) == 0 {
			return nil, &EmptyClassError{Class: name, Split: split, Dir: dir}
		}
		for _, f := range files {
			out = append(out, Sample{Path: f, Label: c})
		}
	}
	return out, nil
}

func loadFolders(dir string, opt Options) (*Dataset, error) {
	all, err := listClassDirs(dir)
	if err != nil {
		return nil, err
	}
	classes, err := selectClasses(all, opt, dir)
	if err != nil {
		return nil, err
	}
	samples, err := scanFolders(dir, classes, "train")
	if err != nil {
		return nil, err
	}
	tr, va, te := SplitStratified(samples, len(classes), opt.ValFraction, opt.TestFraction, opt.Seed)
	return &Dataset{Layout: "folders", Classes: classes, Train: tr, Val: va, Test: te}, nil
}

func loadTrainTest(dir string, opt Options) (*Dataset, error) {
	trainDir, testDir := filepath.Join(dir, "train"), filepath.Join(dir, "test")
	all, err := listClassDirs(trainDir)
	if err != nil {
		return nil, err
	}
	testAll, err := listClassDirs(testDir)
	if err != nil {
		return nil, err
	}
	classes, err := selectClasses(all, opt, trainDir)
	if err != nil {
		return nil, err
	}
	train, err := scanFolders(trainDir, classes, "train")
	if err != nil {
		return nil, err
	}
	for _, c := range classes {
		if !slices.Contains(testAll, c) {
			return nil, &EmptyClassError{Class: c, Split: "test", Dir: filepath.Join(testDir, c)}
		}
	}
	test, err := scanFolders(testDir, classes, "test")
	if err != nil {
		return nil, err
	}
	tr, va, _ := SplitStratified(train, len(classes), opt.ValFraction, 0, opt.Seed)
	return &Dataset{Layout: "train-test", Classes: classes, Train: tr, Val: va, Test: test}, nil
}

// loadFood101 reads meta/classes.txt, meta/train.txt and meta/test.txt; the
// validation split is drawn from train.txt's images.
func loadFood101(dir string, opt Options) (*Dataset, error) {
	all, err := readLines(filepath.Join(dir, "meta", "classes.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(all)
	classes, err := selectClasses(all, opt, dir)
	if err != nil {
		return nil, err
	}
	index := map[string]int{}
	for i, c := range classes {
		index[c] = i
	}
	read := func(list string) ([]Sample, error) {
		path := filepath.Join(dir, "meta", list)
		lines, err := readLines(path)
		if err != nil {
			return nil, err
		}
		var out []Sample
		for n, l := range lines {
			cls, id, ok := strings.Cut(l, "/")
			if !ok || id == "" {
				return nil, fmt.Errorf("%s:%d: %q is not <class>/<image id>", path, n+1, l)
			}
			c, keep := index[cls]
			if !keep {
				continue
			}
			img := filepath.Join(dir, "images", cls, id)
			if filepath.Ext(id) == "" {
				img += ".jpg"
			}
			out = append(out, Sample{Path: img, Label: c})
		}
		return out, nil
	}
	train, err := read("train.txt")
	if err != nil {
		return nil, err
	}
	test, err := read("test.txt")
	if err != nil {
		return nil, err
	}
	tr, va, _ := SplitStratified(train, len(classes), opt.ValFraction, 0, opt.Seed)
	return &Dataset{Layout: "food101", Classes: classes, Train: tr, Val: va, Test: test}, nil
}

// readLines returns the non-empty, trimmed lines of a text file.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dataset %s: %w", path, err)
	}
	return out, nil
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
