package weights

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCorruptTorchBytes flips bytes all over a .pth: the loader must either
// fail with an error naming the file or (when the flip hit padding) load.
// Flips inside tensor data are caught by the zip CRC.
func TestCorruptTorchBytes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "vgg16_div16.pth"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flip.pth")
	for n := 0; n < len(raw); n += len(raw)/300 + 1 {
		b := bytes.Clone(raw)
		b[n] ^= 0x5a
		os.WriteFile(path, b, 0o644)
		if _, err := LoadTorch(path, archDiv16); err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("flip at %d: error %v does not name the file", n, err)
		}
	}
}

func TestCheckPickle(t *testing.T) {
	cases := []struct {
		name string
		p    string
		ok   bool
	}{
		{"empty", "", false},
		{"stop", ".", true},
		{"proto", "\x80\x02}q\x00.", true},
		{"lying binbytes8", "\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.", false},
		{"lying binunicode", "X\xff\xff\xff\x00.", false},
		{"lying frame", "\x95\x00\x00\x00\x00\x00\x01\x00\x00.", false},
		{"ext", "\x82\x01.", false},
		{"no stop", "}q\x00", false},
		{"long text int", "I" + strings.Repeat("9", 5000) + "\n.", false},
		{"global", "ctorch._utils\n_rebuild_tensor_v2\n.", true},
	}
	for _, c := range cases {
		if err := checkPickle([]byte(c.p)); (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

// TestTorchCyclicCheckpoint: {"state_dict": <itself>} must not recurse forever.
func TestTorchCyclicCheckpoint(t *testing.T) {
	// PROTO 2, EMPTY_DICT, BINPUT 0, SHORT_BINSTRING "state_dict", BINGET 0, SETITEM, STOP
	p := []byte("\x80\x02}q\x00U\x0astate_dicth\x00s.")
	if err := checkPickle(p); err != nil {
		t.Fatal(err)
	}
	obj, err := unpickle(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stateDict(obj, 0); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("cyclic checkpoint: %v", err)
	}
}

func TestTorchRefusesArbitraryClasses(t *testing.T) {
	_, err := torchFindClass("torchvision.models.vgg", "VGG")
	if err == nil || !strings.Contains(err.Error(), "state_dict") {
		t.Errorf("VGG class: %v", err)
	}
	if _, err := torchFindClass("os", "system"); err == nil {
		t.Error("os.system accepted")
	}
}

// FuzzReadTorch: no input may panic or allocate beyond the file's size.
func FuzzReadTorch(f *testing.F) {
	if raw, err := os.ReadFile(filepath.Join(fixtureDir, "vgg16_div16.pth")); err == nil {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tensors, err := readTorch(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, x := range tensors {
			v, err := x.read()
			if err == nil && len(v)*x.dtype.Size() > len(data) {
				t.Fatalf("tensor of %d elements from a %d-byte file", len(v), len(data))
			}
		}
	})
}

// TestOIHWToHWIO checks the tiled transposition against the definition on
// sizes that are and are not multiples of the tile.
func TestOIHWToHWIO(t *testing.T) {
	for _, sz := range [][2]int{{1, 3}, {3, 1}, {16, 5}, {17, 33}, {64, 3}} {
		cout, cin := sz[0], sz[1]
		w := make([]float32, cout*cin*9)
		for i := range w {
			w[i] = float32(i)
		}
		got := oihwToHWIO(w, cout, cin)
		for o := 0; o < cout; o++ {
			for i := 0; i < cin; i++ {
				for kh := 0; kh < 3; kh++ {
					for kw := 0; kw < 3; kw++ {
						if g, want := got[((kh*3+kw)*cin+i)*cout+o], w[((o*cin+i)*3+kh)*3+kw]; g != want {
							t.Fatalf("cout %d cin %d: [%d][%d][%d][%d] = %v, want %v", cout, cin, kh, kw, i, o, g, want)
						}
					}
				}
			}
		}
	}
}
