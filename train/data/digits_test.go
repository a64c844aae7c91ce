package data

import (
	"bytes"
	"compress/gzip"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func digitsLine(label string, pixel string) string {
	return strings.Repeat(pixel+",", 64) + label + "\n"
}

func TestReadDigitsCSV(t *testing.T) {
	plain := digitsLine("3", "16") + "\n" + digitsLine("0", "0.0")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(plain))
	zw.Close()
	for _, in := range map[string][]byte{"plain": []byte(plain), "gzip": gz.Bytes()} {
		d, err := ReadDigitsCSV(bytes.NewReader(in), "d.csv")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.Labels, []int{3, 0}) || d.Pix[0][63] != 255 || d.Pix[1][0] != 0 {
			t.Errorf("labels %v, pixels %d and %d; want [3 0], 255 and 0", d.Labels, d.Pix[0][63], d.Pix[1][0])
		}
	}
	for _, c := range []struct{ name, in, want string }{
		{"short line", "1,2,3\n", "d.csv:1: 3 values"},
		{"pixel out of range", digitsLine("1", "17"), "d.csv:1: pixel 1 is 17"},
		{"label out of range", digitsLine("10", "1"), "d.csv:1: label 10"},
		{"fraction", digitsLine("1", "1.5"), "want a whole number"},
		{"text", digitsLine("x", "1"), `value 65 is "x"`},
		{"second line bad", digitsLine("1", "1") + "1,2\n", "d.csv:2:"},
		{"empty", "", "d.csv: no images"},
	} {
		_, err := ReadDigitsCSV(strings.NewReader(c.in), "d.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// The real file from python3-sklearn: 1,797 images, a stratified fixed test
// split, the same for the same seed, and PNGs that hold the file's pixels.
func TestConvertDigits(t *testing.T) {
	if _, err := os.Stat(DigitsCSV); err != nil {
		t.Fatalf("python3-sklearn's digits are not installed (scripts/deps.sh installs them: apt-get install python3-sklearn): %v", err)
	}
	out := t.TempDir()
	train, test, err := ConvertDigits(DigitsCSV, out, 30, 1)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for c := range DigitsClasses {
		if test[c] != 30 || train[c] < 140 {
			t.Errorf("class %d: %d train / %d test, want ≥140 / 30", c, train[c], test[c])
		}
		total += train[c] + test[c]
	}
	if total != 1797 {
		t.Errorf("%d images written, want 1797", total)
	}
	again := t.TempDir()
	if _, _, err := ConvertDigits(DigitsCSV, again, 30, 1); err != nil {
		t.Fatal(err)
	}
	list := func(dir string) []string {
		names, _ := filepath.Glob(filepath.Join(dir, "test", "*", "*.png"))
		for i := range names {
			names[i], _ = filepath.Rel(dir, names[i])
		}
		return names
	}
	if a, b := list(out), list(again); len(a) != 300 || !slices.Equal(a, b) {
		t.Errorf("test split differs between two runs with seed 1 (%d and %d files)", len(a), len(b))
	}

	f, _ := os.Open(DigitsCSV)
	defer f.Close()
	d, err := ReadDigitsCSV(f, DigitsCSV)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "test", list(out)[0][len("test/"):]))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	g, ok := img.(*image.Gray)
	if !ok || g.Bounds().Dx() != 8 || g.Bounds().Dy() != 8 {
		t.Fatalf("PNG is %T %v, want 8x8 grey", img, img.Bounds())
	}
	name := filepath.Base(list(out)[0])
	idx, err := strconv.Atoi(strings.TrimSuffix(name, ".png"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g.Pix, d.Pix[idx][:]) {
		t.Errorf("%s holds other pixels than line %d of the CSV", name, idx+1)
	}
}

func FuzzReadDigitsCSV(f *testing.F) {
	f.Add([]byte(digitsLine("3", "16")))
	f.Add([]byte(digitsLine("0", "0.0") + digitsLine("9", "7")))
	f.Add([]byte("1,2,3\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := ReadDigitsCSV(bytes.NewReader(in), "fuzz.csv")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.csv") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if len(d.Pix) != len(d.Labels) || len(d.Pix) == 0 {
			t.Errorf("%d images, %d labels", len(d.Pix), len(d.Labels))
		}
		for _, l := range d.Labels {
			if l < 0 || l > 9 {
				t.Errorf("label %d", l)
			}
		}
	})
}
