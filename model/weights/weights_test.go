package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"vggo/internal/fixture"
	"vggo/model"
	"vggo/model/safetensors"
)

const fixtureDir = "../../testdata"

// hwioRef is the reference dump make_weights.py writes next to the weight
// files (see fixture.ReadHWIO) as a conv base of the given architecture.
func hwioRef(t testing.TB, prefix string, arch model.Arch) *model.ConvBase {
	t.Helper()
	base := &model.ConvBase{Arch: arch}
	for i, c := range fixture.ReadHWIO(t, prefix) {
		base.Layers[i] = model.ConvParams(c)
	}
	if err := base.Check(); err != nil {
		t.Fatal(err)
	}
	return base
}

var archDiv16 = model.Arch{WidthDiv: 16}

// checkBaseEqual compares every weight; tol is relative (0: bit-exact).
func checkBaseEqual(t *testing.T, got, want *model.ConvBase, tol float64) {
	t.Helper()
	if err := got.Check(); err != nil {
		t.Fatal(err)
	}
	for i := range want.Layers {
		for part, pair := range [2][2][]float32{{got.Layers[i].Kernel, want.Layers[i].Kernel}, {got.Layers[i].Bias, want.Layers[i].Bias}} {
			for k := range pair[1] {
				g, w := float64(pair[0][k]), float64(pair[1][k])
				if math.Abs(g-w) > tol*math.Abs(w)+tol*1e-4 || (tol == 0 && g != w) {
					t.Fatalf("layer %d %s[%d] = %v, want %v (tol %g)", i, [2]string{"kernel", "bias"}[part], k, g, w, tol)
				}
			}
		}
	}
}

// Every reader, and Load' dispatch, gives make_weights.py's HWIO dump
// of the same weights (bit-exact for float32 files). Package model's
// TestFeatureNetMatchesPyTorch runs that dump through the forward pass
// against PyTorch, so together they check each reader end to end.
func TestLoadFixturesMatchPyTorch(t *testing.T) {
	want := hwioRef(t, filepath.Join(fixtureDir, "vgg16_div16"), archDiv16)
	nonZeroBias := false
	for _, v := range want.Layers[12].Bias {
		nonZeroBias = nonZeroBias || v != 0
	}
	if !nonZeroBias {
		t.Fatal("fixture biases are zero: a loader that drops biases would pass")
	}
	cases := []struct {
		file string
		load func(string, model.Arch) (*model.ConvBase, error)
		tol  float64
	}{
		{"vgg16_div16.pth", LoadTorch, 0},
		{"vgg16_div16_full.pth", LoadTorch, 0},
		{"vgg16_div16_module.pth", LoadTorch, 0},
		{"vgg16_div16_checkpoint.pth", LoadTorch, 0},
		{"vgg16_div16.safetensors", LoadSafetensors, 0},
		{"vgg16_div16_f16.safetensors", LoadSafetensors, 1.0 / 2048},
		{"vgg16_div16_bf16.safetensors", LoadSafetensors, 1.0 / 256},
		{"vgg16_div16_f16.pth", LoadTorch, 1.0 / 2048},
		{"vgg16_div16_bf16.pth", LoadTorch, 1.0 / 256},
		// Keras files ([weights-h5]'s gen_keras_h5.py converts vgg16_div16.pth).
		{"keras/vgg16_div16_keras1.h5", LoadKerasH5, 0},
		{"keras/vgg16_div16_keras1_no1.h5", LoadKerasH5, 0},
		{"keras/vgg16_div16_keras2.h5", LoadKerasH5, 0},
		{"keras/vgg16_div16.weights.h5", LoadKerasH5, 0},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join(fixtureDir, c.file)
			got, err := c.load(path, archDiv16)
			if err != nil {
				t.Fatal(err)
			}
			checkBaseEqual(t, got, want, c.tol)
			got, err = Load(path, archDiv16)
			if err != nil {
				t.Fatal(err)
			}
			checkBaseEqual(t, got, want, c.tol)
		})
	}
}

// writeSafetensors writes a torchvision-named conv base (OIHW) from a
// reference base, letting edit change the tensor list first.
func writeSafetensors(t *testing.T, base *model.ConvBase, edit func([]safetensors.Tensor) []safetensors.Tensor) string {
	t.Helper()
	var tensors []safetensors.Tensor
	for i := range base.Layers {
		s := base.Arch.Conv(i)
		oihw := make([]float32, len(base.Layers[i].Kernel))
		for k := 0; k < 9; k++ {
			for ci := 0; ci < s.Cin; ci++ {
				for co := 0; co < s.Cout; co++ {
					oihw[(co*s.Cin+ci)*9+k] = base.Layers[i].Kernel[(k*s.Cin+ci)*s.Cout+co]
				}
			}
		}
		tensors = append(tensors,
			safetensors.Tensor{Name: "features." + strconv.Itoa(model.TorchFeatureIndex[i]) + ".weight", DType: safetensors.F32, Shape: []int{s.Cout, s.Cin, 3, 3}, Data: f32LEBytes(oihw)},
			safetensors.Tensor{Name: "features." + strconv.Itoa(model.TorchFeatureIndex[i]) + ".bias", DType: safetensors.F32, Shape: []int{s.Cout}, Data: f32LEBytes(base.Layers[i].Bias)})
	}
	if edit != nil {
		tensors = edit(tensors)
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	var b bytes.Buffer
	if err := safetensors.Write(&b, tensors, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func f32LEBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestLoadErrors(t *testing.T) {
	ref := hwioRef(t, filepath.Join(fixtureDir, "vgg16_div16"), archDiv16)
	drop := func(name string) func([]safetensors.Tensor) []safetensors.Tensor {
		return func(ts []safetensors.Tensor) []safetensors.Tensor {
			var out []safetensors.Tensor
			for _, x := range ts {
				if x.Name != name {
					out = append(out, x)
				}
			}
			return out
		}
	}
	poison := func(ts []safetensors.Tensor) []safetensors.Tensor {
		d := ts[0].Data
		binary.LittleEndian.PutUint32(d[0:], math.Float32bits(float32(math.NaN())))
		binary.LittleEndian.PutUint32(d[8:], math.Float32bits(float32(math.Inf(-1))))
		binary.LittleEndian.PutUint32(d[40:], math.Float32bits(float32(math.NaN())))
		return ts
	}
	intBias := func(ts []safetensors.Tensor) []safetensors.Tensor {
		ts[1].DType = safetensors.I32
		return ts
	}
	extra := func(ts []safetensors.Tensor) []safetensors.Tensor {
		return append(ts, safetensors.Tensor{Name: "features.1.running_mean", DType: safetensors.F32, Shape: []int{1}, Data: make([]byte, 4)})
	}
	renamed := func(ts []safetensors.Tensor) []safetensors.Tensor {
		for i := range ts {
			ts[i].Name = strings.Replace(ts[i].Name, "features.", "conv.", 1)
		}
		return ts
	}
	cases := []struct {
		name  string
		path  string
		arch  model.Arch
		shape bool // want a *model.ShapeError
		want  []string
	}{
		{"wrong width", filepath.Join(fixtureDir, "vgg16_div16.pth"), model.FullVGG16, true, []string{"26 mismatch", "features.0.weight (block1_conv1 kernel): shape [4 3 3 3], want [64 3 3 3]", "features.28.bias (block5_conv3 bias): shape [32], want [512]"}},
		{"wrong width safetensors", filepath.Join(fixtureDir, "vgg16_div16.safetensors"), model.Arch{WidthDiv: 8}, true, []string{"26 mismatch"}},
		{"missing tensor", writeSafetensors(t, ref, drop("features.28.bias")), archDiv16, true, []string{"1 mismatch", "features.28.bias (block5_conv3 bias): missing"}},
		{"two missing", writeSafetensors(t, ref, func(ts []safetensors.Tensor) []safetensors.Tensor {
			return drop("features.0.weight")(drop("features.12.bias")(ts))
		}), archDiv16, true, []string{"2 mismatch", "features.0.weight", "features.12.bias"}},
		{"int bias", writeSafetensors(t, ref, intBias), archDiv16, true, []string{"features.0.bias (block1_conv1 bias): dtype I32"}},
		{"batch norm", writeSafetensors(t, ref, extra), archDiv16, true, []string{"features.1.running_mean: unexpected"}},
		{"not vgg", writeSafetensors(t, ref, renamed), archDiv16, true, []string{"no features.* tensors", "conv.0.bias"}},
		{"nan", writeSafetensors(t, ref, poison), archDiv16, false, []string{"features.0.weight (block1_conv1 kernel): 3 NaN/Inf values"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(c.path, c.arch)
			if err == nil {
				t.Fatal("no error")
			}
			var se *model.ShapeError
			if errors.As(err, &se) != c.shape {
				t.Errorf("error %T, model.ShapeError wanted: %v", err, c.shape)
			}
			if c.shape && se.File != c.path {
				t.Errorf("ShapeError.File = %q, want %q", se.File, c.path)
			}
			msg := err.Error()
			for _, w := range append(c.want, c.path) {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestLoadUnknownAndLegacy(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content, want string
	}{
		{"text.bin", "hello, not weights", "unknown weight file format"},
		{"empty.bin", "", "unknown weight file format"},
		{"legacy.pth", "\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.", "legacy"},
		{"zip.pth", "PK\x03\x04 broken zip", "not a torch.save zip"},
		{"h5.h5", "\x89HDF\r\n\x1a\n\x00\x00", "h5.h5"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, c.name)
		os.WriteFile(path, []byte(c.content), 0o644)
		_, err := Load(path, archDiv16)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming the file and %q", c.name, err, c.want)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent.pth"), archDiv16); err == nil {
		t.Error("absent file: no error")
	}
}

// TestTruncatedFiles cuts each fixture at many lengths: every cut must give
// an error naming the file, never a panic or a silently partial load.
func TestTruncatedFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"vgg16_div16.pth", "vgg16_div16.safetensors", "vgg16_div16_full.pth"} {
		raw, err := os.ReadFile(filepath.Join(fixtureDir, name))
		if err != nil {
			t.Fatal(err)
		}
		var cuts []int
		for n := 0; n < 64; n++ {
			cuts = append(cuts, n)
		}
		for n := 64; n < len(raw); n += len(raw)/97 + 1 {
			cuts = append(cuts, n)
		}
		for n := len(raw) - 64; n < len(raw); n++ {
			cuts = append(cuts, n)
		}
		for _, n := range cuts {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, raw[:n], 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, archDiv16)
			if err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("%s cut to %d of %d bytes: error %v", name, n, len(raw), err)
			}
		}
	}
}
