package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// touch creates the named files (empty content; data only lists names).
func touch(t *testing.T, root string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(root, n)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func classTree(t *testing.T, root string, perClass map[string]int) {
	for c, n := range perClass {
		for i := 0; i < n; i++ {
			touch(t, root, fmt.Sprintf("%s/%03d.jpg", c, i))
		}
	}
}

func TestClassFoldersStratifiedSplit(t *testing.T) {
	root := t.TempDir()
	classTree(t, root, map[string]int{"cat": 20, "dog": 10, "bird": 30})
	touch(t, root, "cat/notes.txt", ".hidden/x.jpg")
	d, err := Load(root, Options{ValFraction: 0.2, TestFraction: 0.1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.Classes, ","); got != "bird,cat,dog" {
		t.Fatalf("classes %s", got)
	}
	tests := []struct {
		split string
		s     []Sample
		want  []int // bird, cat, dog
	}{
		{"train", d.Train, []int{21, 14, 7}},
		{"val", d.Val, []int{6, 4, 2}},
		{"test", d.Test, []int{3, 2, 1}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		got := CountPerClass(tc.s, 3)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s per class %v, want %v", tc.split, got, tc.want)
		}
		for _, s := range tc.s {
			if seen[s.Path] {
				t.Errorf("%s in two splits", s.Path)
			}
			seen[s.Path] = true
			if !strings.Contains(s.Path, "/"+d.Classes[s.Label]+"/") {
				t.Errorf("%s labelled %s", s.Path, d.Classes[s.Label])
			}
		}
	}
	// Same seed → same split; other seed → different.
	d2, _ := Load(root, Options{ValFraction: 0.2, TestFraction: 0.1, Seed: 7})
	d3, _ := Load(root, Options{ValFraction: 0.2, TestFraction: 0.1, Seed: 8})
	if fmt.Sprint(d2.Val) != fmt.Sprint(d.Val) {
		t.Error("same seed gave a different split")
	}
	if fmt.Sprint(d3.Val) == fmt.Sprint(d.Val) {
		t.Error("different seed gave the same split")
	}
}

func TestClassSelectionAndLimits(t *testing.T) {
	root := t.TempDir()
	classTree(t, root, map[string]int{"a": 10, "b": 10, "c": 10, "d": 10})
	d, err := Load(root, Options{Classes: 2, Seed: 1, TrainPerClass: 3})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.Classes, ",") != "a,b" || len(d.Train) != 6 {
		t.Fatalf("classes %v, %d train", d.Classes, len(d.Train))
	}
	d, err = Load(root, Options{ClassNames: []string{"d", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(d.Classes, ",") != "c,d" {
		t.Fatalf("classes %v", d.Classes)
	}
	if _, err := Load(root, Options{ClassNames: []string{"zebra"}}); err == nil || !strings.Contains(err.Error(), `"zebra" not found`) {
		t.Fatalf("err %v", err)
	}
	if _, err := Load(root, Options{Classes: 9}); err == nil || !strings.Contains(err.Error(), "only 4 classes") {
		t.Fatalf("err %v", err)
	}
}

func TestEmptyClassIsAnError(t *testing.T) {
	tests := []struct {
		name  string
		build func(root string)
		want  string
	}{
		{"empty folder", func(root string) {
			classTree(t, root, map[string]int{"a": 5})
			os.MkdirAll(filepath.Join(root, "b"), 0o755)
			touch(t, root, "b/readme.txt")
		}, `class "b" has no images in the train split (folder`},
		{"class missing from test", func(root string) {
			classTree(t, filepath.Join(root, "train"), map[string]int{"a": 5, "b": 5})
			classTree(t, filepath.Join(root, "test"), map[string]int{"a": 5})
		}, `class "b" has no images in the test split`},
		{"too few images for a validation split", func(root string) {
			classTree(t, root, map[string]int{"a": 5, "b": 1})
		}, `class "b" has no images in the validation split`},
		{"one class", func(root string) {
			classTree(t, root, map[string]int{"a": 5})
		}, "need at least 2 classes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			tc.build(root)
			_, err := Load(root, Options{ValFraction: 0.2, Seed: 1})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			var ec *EmptyClassError
			if strings.Contains(tc.want, "has no images") && !errors.As(err, &ec) {
				t.Fatalf("error %T is not an *EmptyClassError", err)
			}
		})
	}
}

// TestNonUTF8ClassIsRefused: a class folder whose name is not UTF-8 (it
// would change in the model file) is refused, naming it, in every layout.
func TestNonUTF8ClassIsRefused(t *testing.T) {
	const bad = "sand\xffal"
	for name, build := range map[string]func(root string){
		"class folders": func(root string) { classTree(t, root, map[string]int{"bag": 5, bad: 5}) },
		"train and test": func(root string) {
			classTree(t, filepath.Join(root, "train"), map[string]int{"bag": 5, bad: 5})
			classTree(t, filepath.Join(root, "test"), map[string]int{"bag": 2, bad: 2})
		},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			build(root)
			_, err := Load(root, Options{ValFraction: 0.2, Seed: 1})
			if want := fmt.Sprintf("dataset %s: class folder %q: the name is not valid UTF-8", root, bad); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("error %v, want it to start with %q", err, want)
			}
		})
	}
	root := t.TempDir()
	classTree(t, root, map[string]int{"bag": 5, "coat": 5, bad: 5})
	if _, err := Load(root, Options{ValFraction: 0.2, Seed: 1, ClassNames: []string{"bag", "coat"}}); err != nil {
		t.Errorf("a non-UTF-8 class that is not used: %v", err)
	}
}

func TestTrainTestLayout(t *testing.T) {
	root := t.TempDir()
	classTree(t, filepath.Join(root, "train"), map[string]int{"a": 10, "b": 10})
	classTree(t, filepath.Join(root, "test"), map[string]int{"a": 4, "b": 3})
	d, err := Load(root, Options{ValFraction: 0.3, TestFraction: 0.5, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != "train-test" || len(d.Train) != 14 || len(d.Val) != 6 || len(d.Test) != 7 {
		t.Fatalf("layout %s train %d val %d test %d", d.Layout, len(d.Train), len(d.Val), len(d.Test))
	}
}

// TestFood101Layout builds a tiny tree shaped like Food-101.
func TestFood101Layout(t *testing.T) {
	root := t.TempDir()
	classes := []string{"apple_pie", "baby_back_ribs", "baklava"}
	var train, test []string
	for _, c := range classes {
		for i := 0; i < 6; i++ {
			id := fmt.Sprintf("%d", 1000+i)
			touch(t, root, filepath.Join("images", c, id+".jpg"))
			if i < 4 {
				train = append(train, c+"/"+id)
			} else {
				test = append(test, c+"/"+id)
			}
		}
	}
	os.MkdirAll(filepath.Join(root, "meta"), 0o755)
	os.WriteFile(filepath.Join(root, "meta", "classes.txt"), []byte("baklava\napple_pie\nbaby_back_ribs\n"), 0o644)
	os.WriteFile(filepath.Join(root, "meta", "train.txt"), []byte(strings.Join(train, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(root, "meta", "test.txt"), []byte(strings.Join(test, "\n")), 0o644)
	d, err := Load(root, Options{Classes: 2, ValFraction: 0.25, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != "food101" || strings.Join(d.Classes, ",") != "apple_pie,baby_back_ribs" {
		t.Fatalf("layout %s classes %v", d.Layout, d.Classes)
	}
	if len(d.Train) != 6 || len(d.Val) != 2 || len(d.Test) != 4 {
		t.Fatalf("train %d val %d test %d", len(d.Train), len(d.Val), len(d.Test))
	}
	for _, s := range append(d.Test, d.Train...) {
		if _, err := os.Stat(s.Path); err != nil {
			t.Errorf("sample path: %v", err)
		}
	}
	os.WriteFile(filepath.Join(root, "meta", "test.txt"), []byte("apple_pie\n"), 0o644)
	if _, err := Load(root, Options{Classes: 2}); err == nil || !strings.Contains(err.Error(), "test.txt:1") {
		t.Fatalf("bad line error %v", err)
	}
}

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func TestConvertIDX(t *testing.T) {
	dir := t.TempDir()
	const n, h, w = 6, 3, 2
	pix := make([]byte, n*h*w)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	labels := []byte{0, 1, 0, 2, 1, 0}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(idxBytes([]int{n, h, w}, pix))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "img.gz"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "lab"), idxBytes([]int{n}, labels), 0o644)
	out := filepath.Join(dir, "out")
	counts, err := ConvertIDX(filepath.Join(dir, "img.gz"), filepath.Join(dir, "lab"), out, []string{"x", "y", "z"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(counts) != "[2 2 1]" {
		t.Fatalf("counts %v", counts)
	}
	f, err := os.Open(filepath.Join(out, "z", "00003.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, _, _, _ := img.At(x, y).RGBA()
			if want := pix[3*h*w+y*w+x]; byte(r>>8) != want {
				t.Fatalf("pixel (%d,%d) = %d, want %d", x, y, r>>8, want)
			}
		}
	}
	if _, err := ConvertIDX(filepath.Join(dir, "img.gz"), filepath.Join(dir, "lab"), out, []string{"x", "y"}, 0); err == nil || !strings.Contains(err.Error(), "label 2 of image 3") {
		t.Fatalf("out-of-range label error %v", err)
	}
}

func TestReadIDXErrors(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "reading IDX magic"},
		{"bad magic", []byte{1, 2, 3, 4}, "not an IDX file"},
		{"float type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1}, "element type 0x0d"},
		{"truncated", idxBytes([]int{4, 4}, make([]byte, 10)), "truncated: 10 of 16"},
		{"zero dim", idxBytes([]int{0}, nil), "out of range"},
		{"huge", idxBytes([]int{1 << 20, 1 << 20}, nil), "out of range"},
	}
	for _, tc := range tests {
		_, err := ReadIDX(bytes.NewReader(tc.data), "f.idx")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.idx") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestRealFashionMNISTHeader reads the system Fashion-MNIST label file
// when Debian's dataset-fashion-mnist is installed.
func TestRealFashionMNISTHeader(t *testing.T) {
	p := "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
	if _, err := os.Stat(p); err != nil {
		t.Fatal("dataset-fashion-mnist is not installed (scripts/deps.sh installs it: apt-get install dataset-fashion-mnist)")
	}
	idx, err := ReadIDXFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Dims) != 1 || idx.Dims[0] != 10000 {
		t.Fatalf("dims %v", idx.Dims)
	}
	c := make([]int, 10)
	for _, l := range idx.Data {
		c[l]++
	}
	for i, n := range c {
		if n != 1000 {
			t.Errorf("class %d: %d test images, want 1000", i, n)
		}
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 2, 2}, make([]byte, 8)))
	f.Add(idxBytes([]int{3}, []byte{1, 2, 3}))
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := ReadIDX(bytes.NewReader(b), "fuzz")
		if err != nil {
			return
		}
		n := 1
		for _, d := range idx.Dims {
			n *= d
		}
		if n != len(idx.Data) {
			t.Fatalf("dims %v but %d bytes", idx.Dims, len(idx.Data))
		}
	})
}
