package weights

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vggo/internal/fixture"
	"vggo/model"
	"vggo/model/hdf5"
)

// The Keras fixtures in testdata/keras are written by testdata/gen_keras_h5.py
// from testdata/vgg16_div16.pth (torchvision layout, OIHW); the oracle is
// testdata/vgg16_div16_hwio.bin, the same weights permuted to HWIO by
// PyTorch (testdata/make_weights.py). Values must match bit for bit: the
// loaders only move float32s around.

var (
	kerasFixtureDir = filepath.Join("..", "..", "testdata", "keras")
	kerasScript     = filepath.Join("..", "..", "testdata", "gen_keras_h5.py")
)

// runKerasScript runs gen_keras_h5.py with args; it fails the test (never
// skips) when python3, torch or h5py is missing, as CI installs them.
func runKerasScript(t testing.TB, args ...string) {
	t.Helper()
	cmd := fixture.Python(append([]string{kerasScript}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s\n(needs Debian's python3-torch, python3-h5py and python3-numpy)", kerasScript, strings.Join(args, " "), err, out)
	}
}

// compareToOracle fails unless every tensor of got equals want bit for bit.
func compareToOracle(t *testing.T, file string, got *model.ConvBase, want [model.ConvLayers]model.ConvParams) {
	t.Helper()
	for i := range want {
		name := model.VGG16Convs[i].Name
		for _, pair := range []struct {
			what      string
			got, want []float32
		}{{"kernel", got.Layers[i].Kernel, want[i].Kernel}, {"bias", got.Layers[i].Bias, want[i].Bias}} {
			if len(pair.got) != len(pair.want) {
				t.Fatalf("%s: %s %s has %d values, want %d", file, name, pair.what, len(pair.got), len(pair.want))
			}
			for j := range pair.want {
				if math.Float32bits(pair.got[j]) != math.Float32bits(pair.want[j]) {
					t.Fatalf("%s: %s %s[%d] = %v, want %v", file, name, pair.what, j, pair.got[j], pair.want[j])
				}
			}
		}
	}
}

func TestLoadKerasH5Layouts(t *testing.T) {
	want := hwioRef(t, filepath.Join(fixtureDir, "vgg16_div16"), archDiv16).Layers
	tests := []struct {
		file   string
		layout KerasLayout
	}{
		{"vgg16_div16_keras1.h5", KerasLayout1},     // block1_conv1_W_1:0
		{"vgg16_div16_keras1_no1.h5", KerasLayout1}, // block1_conv1_W:0
		{"vgg16_div16_keras2.h5", KerasLayout2},     // block1_conv1/block1_conv1/kernel:0
		{"vgg16_div16.weights.h5", KerasLayout3},    // layers/conv2d/vars/0
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(kerasFixtureDir, tc.file)
			base, layout, err := LoadKerasH5Layout(path, archDiv16)
			if err != nil {
				t.Fatal(err)
			}
			if layout != tc.layout {
				t.Errorf("layout %q, want %q", layout, tc.layout)
			}
			if base.Arch != archDiv16 {
				t.Errorf("Arch %+v, want %+v", base.Arch, archDiv16)
			}
			compareToOracle(t, tc.file, base, want)
		})
	}
}

// Keras 3 names convs by class with a counter: conv2d, conv2d_1, ...,
// conv2d_12. HDF5 stores them byte-wise sorted (conv2d_10 before conv2d_2);
// the loader must order them numerically. TestLoadKerasH5Layouts checks the
// values; this checks that the fixture really exercises the difference.
func TestKeras3FixtureNeedsNumericSort(t *testing.T) {
	f, err := hdf5.Open(filepath.Join(kerasFixtureDir, "vgg16_div16.weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	layers, err := f.Root().Group("layers")
	if err != nil {
		t.Fatal(err)
	}
	names, err := layers.Names()
	if err != nil {
		t.Fatal(err)
	}
	var convs []string
	for _, n := range names {
		if strings.HasPrefix(n, "conv2d") {
			convs = append(convs, n)
		}
	}
	if len(convs) != 13 || convs[2] != "conv2d_10" {
		t.Fatalf("stored conv order %q: expected byte-wise order with conv2d_10 third", convs)
	}
}

// A file loaded against the wrong architecture reports every mismatch in
// one *model.ShapeError naming the file.
func TestLoadKerasH5WrongArch(t *testing.T) {
	path := filepath.Join(kerasFixtureDir, "vgg16_div16_keras2.h5")
	_, err := LoadKerasH5(path, model.Arch{WidthDiv: 8})
	var se *model.ShapeError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want *model.ShapeError", err)
	}
	if se.File != path {
		t.Errorf("ShapeError.File = %q, want %q", se.File, path)
	}
	// block1_conv1 at width/8: kernel 3x3x3x8 and bias 8 both differ; every
	// later layer too: 26 problems.
	if len(se.Problems) != 26 {
		t.Errorf("%d problems, want 26:\n%v", len(se.Problems), err)
	}
	if !strings.Contains(err.Error(), "block5_conv3 bias (/block5_conv3/block5_conv3/bias:0): shape [32], want [64]") {
		t.Errorf("error does not describe the last bias:\n%v", err)
	}
}

// Each damaged variant (gen_keras_h5.py --broken) gives a clear error that
// names the file and the problem; the one valid variant, a tf.keras
// model.save() file with weights under /model_weights and a dense top,
// loads.
func TestLoadKerasH5Broken(t *testing.T) {
	dir := t.TempDir()
	runKerasScript(t, "--broken", dir)
	whole := filepath.Join(dir, "whole_model.h5")
	base, layout, err := LoadKerasH5Layout(whole, archDiv16)
	if err != nil {
		t.Fatalf("whole_model.h5: %v", err)
	}
	if layout != KerasLayout2 {
		t.Errorf("whole_model.h5: layout %q, want %q", layout, KerasLayout2)
	}
	compareToOracle(t, "whole_model.h5", base, hwioRef(t, filepath.Join(fixtureDir, "vgg16_div16"), archDiv16).Layers)
	tests := []struct {
		file      string
		shapeErr  bool     // want a *model.ShapeError
		wantParts []string // substrings of the message
	}{
		{"oihw.h5", true, []string{"block3_conv1 kernel (/block3_conv1/block3_conv1_W_1:0): shape [16 8 3 3], want [3 3 8 16]", "OIHW"}},
		{"float64.h5", true, []string{"block1_conv1 kernel", "dtype float64, want float32"}},
		{"bigendian.h5", true, []string{"block2_conv2 bias", "dtype float32 big-endian, want float32"}},
		{"gzip.h5", false, []string{"/block1_conv2/block1_conv2_W_1:0", "chunked storage"}},
		{"nan.h5", false, []string{"block3_conv2 kernel: 3 NaN and 0 infinite values", "block5_conv3 bias: 0 NaN and 1 infinite values"}},
		{"missing_layer.h5", true, []string{"block4_conv2: layer missing from layer_names"}},
		{"missing_group.h5", true, []string{"block4_conv3: listed in layer_names but the file has no group"}},
		{"missing_bias.h5", true, []string{`block2_conv1: weight "block2_conv1/bias:0" listed in weight_names is missing`}},
		{"keras3_12.h5", true, []string{"12 conv2d layers", "want VGG16's 13"}},
		{"keras3_novar.h5", true, []string{"block3_conv2 (layers/conv2d_5): variable vars/1 is missing"}},
		{"not_keras.h5", false, []string{"not a Keras weights file", `["weights"]`}},
	}
	for _, tc := range tests {
		path := filepath.Join(dir, tc.file)
		base, err := LoadKerasH5(path, archDiv16)
		if err == nil {
			t.Errorf("%s: loaded without error", tc.file)
			continue
		}
		if base != nil {
			t.Errorf("%s: non-nil result with an error", tc.file)
		}
		var se *model.ShapeError
		if errors.As(err, &se) != tc.shapeErr {
			t.Errorf("%s: error type %T, want *ShapeError: %v", tc.file, err, tc.shapeErr)
		}
		msg := err.Error()
		if !strings.Contains(msg, path) {
			t.Errorf("%s: error does not name the file:\n%s", tc.file, msg)
		}
		for _, part := range tc.wantParts {
			if !strings.Contains(msg, part) {
				t.Errorf("%s: error does not contain %q:\n%s", tc.file, part, msg)
			}
		}
	}
}

// Every truncation of a valid file is an error naming the file; flipped
// bytes give an error or a load, never a panic.
func TestLoadKerasH5Corrupt(t *testing.T) {
	for _, name := range []string{"vgg16_div16_keras1.h5", "vgg16_div16.weights.h5"} {
		data, err := os.ReadFile(filepath.Join(kerasFixtureDir, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name)
		load := func(b []byte) error {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadKerasH5(path, archDiv16)
			if err != nil && !strings.Contains(err.Error(), path) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return err
		}
		for n := 0; n < len(data); n += 1 + len(data)/150 {
			if load(data[:n]) == nil {
				t.Fatalf("%s truncated to %d of %d bytes loaded without error", name, n, len(data))
			}
		}
		// Metadata sits in the first and last few KB; weights in between.
		for i := 0; i < len(data); i += 1 + len(data)/300 {
			mut := bytes.Clone(data)
			mut[i] ^= 0xff
			load(mut)
		}
	}
}

// The committed fixtures are what the script writes now.
func TestKerasFixturesReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python (-short)")
	}
	dir := t.TempDir()
	runKerasScript(t, "--out", dir)
	runKerasScript(t, "--features", filepath.Join(dir, "features"))
	check := func(committed, fresh string) {
		a, err := os.ReadFile(committed)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(fresh)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from what testdata/gen_keras_h5.py writes now: regenerate it", committed)
		}
	}
	for _, name := range []string{"vgg16_div16_keras1.h5", "vgg16_div16_keras1_no1.h5", "vgg16_div16_keras2.h5", "vgg16_div16.weights.h5"} {
		check(filepath.Join(kerasFixtureDir, name), filepath.Join(dir, name))
	}
	for _, name := range []string{"features.h5", "features.json", "small.h5", "userblock.h5", "superblock1.h5", "ordered.h5", "latest.h5"} {
		check(filepath.Join("..", "hdf5", "testdata", name), filepath.Join(dir, "features", name))
	}
}

// Loading Keras weights into the conv base; the layout is detected from
// the file's contents.
func ExampleLoadKerasH5() {
	base, err := LoadKerasH5("../../testdata/keras/vgg16_div16.weights.h5", model.Arch{WidthDiv: 16})
	if err != nil {
		fmt.Println(err)
		return
	}
	first, last := base.Arch.Conv(0), base.Arch.Conv(12)
	fmt.Printf("%s kernel: %d values (3x3x%dx%d, HWIO)\n", first.Name, len(base.Layers[0].Kernel), first.Cin, first.Cout)
	fmt.Printf("%s bias: %d values\n", last.Name, len(base.Layers[12].Bias))
	// Output:
	// block1_conv1 kernel: 108 values (3x3x3x4, HWIO)
	// block5_conv3 bias: 32 values
}
