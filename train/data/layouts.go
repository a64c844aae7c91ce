package data

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

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
	tr, va, te := SplitStratified(opt.keep(samples), len(classes), opt.ValFraction, opt.TestFraction, opt.Seed)
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
	tr, va, _ := SplitStratified(opt.keep(train), len(classes), opt.ValFraction, 0, opt.Seed)
	return &Dataset{Layout: "train-test", Classes: classes, Train: tr, Val: va, Test: opt.keep(test)}, nil
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
	tr, va, _ := SplitStratified(opt.keep(train), len(classes), opt.ValFraction, 0, opt.Seed)
	return &Dataset{Layout: "food101", Classes: classes, Train: tr, Val: va, Test: opt.keep(test)}, nil
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
