package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"vggo/model/safetensors"
)

// archDiv16 is the width the committed weight fixtures have.
var archDiv16 = Arch{WidthDiv: 16}

// randomFileModel builds a deterministic random model: He-scaled conv kernels,
// non-zero biases, and a head of the given kind whose dimensions chain
// correctly.
func randomFileModel(seed int64, arch Arch, inputSize int, head string, classes int) *Model {
	rng := rand.New(rand.NewSource(seed))
	fill := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	m := &Model{
		Info: Info{Arch: "vgg16", InputSize: inputSize, WidthDiv: arch.WidthDiv, Head: head,
			Preprocess: PreprocessCaffe, Description: "random weights, for tests", Provenance: map[string]string{"dataset": "fashion-mnist", "accuracy": "0.91", "command": "train -epochs 3"}},
		Base: ConvBase{Arch: arch},
		Head: Head{Kind: head},
	}
	for i := 0; i < classes; i++ {
		m.Info.Classes = append(m.Info.Classes, "class "+string(rune('A'+i%26))+strings.Repeat("é", i/26))
	}
	for i := range m.Base.Layers {
		s := arch.Conv(i)
		m.Base.Layers[i] = ConvParams{Kernel: fill(9*s.Cin*s.Cout, math.Sqrt(2/float64(9*s.Cin))), Bias: fill(s.Cout, 0.1)}
	}
	in := arch.Channels()
	var dims []int
	switch head {
	case HeadSeed:
		side := inputSize / 32
		dims = []int{in * side * side, 64, 32, classes}
	case HeadGAP:
		dims = []int{in, 32, classes}
	case HeadLinear:
		dims = []int{in, classes}
	}
	for i := 0; i+1 < len(dims); i++ {
		m.Head.Dense = append(m.Head.Dense, DenseParams{In: dims[i], Out: dims[i+1],
			Kernel: fill(dims[i]*dims[i+1], math.Sqrt(1/float64(dims[i]))), Bias: fill(dims[i+1], 0.05)})
	}
	return m
}

// eachModelWeight calls f for every kernel (with its output-channel count) and
// every bias of two models side by side.
func eachModelWeight(a, b *Model, f func(name string, got, want []float32, cout int, kernel bool)) {
	for i := range a.Base.Layers {
		s := a.Base.Arch.Conv(i)
		f(s.Name+".kernel", a.Base.Layers[i].Kernel, b.Base.Layers[i].Kernel, s.Cout, true)
		f(s.Name+".bias", a.Base.Layers[i].Bias, b.Base.Layers[i].Bias, s.Cout, false)
	}
	for i := range a.Head.Dense {
		f("dense.kernel", a.Head.Dense[i].Kernel, b.Head.Dense[i].Kernel, b.Head.Dense[i].Out, true)
		f("dense.bias", a.Head.Dense[i].Bias, b.Head.Dense[i].Bias, b.Head.Dense[i].Out, false)
	}
}

func fileSHA(t *testing.T, path string) (string, int64) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), int64(len(raw))
}

func TestModelFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, head := range []string{HeadSeed, HeadGAP, HeadLinear} {
		for _, dtype := range []string{DTypeFloat32, DTypeFloat16, DTypeInt8} {
			t.Run(head+"/"+dtype, func(t *testing.T) {
				want := randomFileModel(1, archDiv16, 64, head, 5)
				path := filepath.Join(dir, head+"-"+dtype+".vggo")
				if err := WriteModelFile(path, want, dtype); err != nil {
					t.Fatal(err)
				}
				got, err := ReadModelFile(path)
				if err != nil {
					t.Fatal(err)
				}
				sum, size := fileSHA(t, path)
				wantInfo := want.Info
				wantInfo.FormatVersion, wantInfo.DType, wantInfo.Bytes, wantInfo.SHA256 = 1, dtype, size, sum // a whole base is written as version 1
				if !reflect.DeepEqual(got.Info, wantInfo) {
					t.Errorf("Info = %+v\nwant %+v", got.Info, wantInfo)
				}
				if h, err := FileSHA256(path); err != nil || h != sum {
					t.Errorf("FileSHA256 = %q, %v; want %q", h, err, sum)
				}
				headerInfo := wantInfo
				headerInfo.SHA256 = "" // the header readers do not hash
				info, err := ReadInfo(path)
				if err != nil || !reflect.DeepEqual(info, headerInfo) {
					t.Errorf("ReadInfo = %+v, %v\nwant %+v", info, err, headerInfo)
				}
				raw, _ := os.ReadFile(path)
				info, err = ReadModelInfo(bytes.NewReader(raw), int64(len(raw)), "mem")
				if err != nil || !reflect.DeepEqual(info, headerInfo) {
					t.Errorf("ReadModelInfo = %+v, %v\nwant %+v", info, err, headerInfo)
				}
				checkModelWeights(t, got, want, dtype)
			})
		}
	}
}

// checkModelWeights compares every weight with the tolerance of its
// encoding: float32 and all biases bit-exact; float16 within half an ulp of
// binary16 (relative 2^-11, absolute 2^-25 for subnormals); int8 within
// half a quantization step, the step being max|w|/127 of the output channel
// (computed here in float64, independently of the quantizer), plus the
// float32 rounding of the dequantized product (2^-22 relative).
func checkModelWeights(t *testing.T, got, want *Model, dtype string) {
	t.Helper()
	eachModelWeight(got, want, func(name string, g, w []float32, cout int, kernel bool) {
		if len(g) != len(w) {
			t.Fatalf("%s: %d values, want %d", name, len(g), len(w))
		}
		var step []float64
		if kernel && dtype == DTypeInt8 {
			step = make([]float64, cout)
			for i, v := range w {
				step[i%cout] = math.Max(step[i%cout], math.Abs(float64(v))/127)
			}
		}
		for i := range w {
			d := math.Abs(float64(g[i]) - float64(w[i]))
			var tol float64
			switch {
			case !kernel || dtype == DTypeFloat32:
				tol = 0
			case dtype == DTypeFloat16:
				tol = math.Abs(float64(w[i]))/2048 + 1.0/(1<<25)
			default:
				// Plus float32 rounding of q·scale and of the scale itself.
				tol = step[i%cout]/2*(1+1e-6) + math.Abs(float64(w[i]))*(1.0/(1<<22))
			}
			if d > tol {
				t.Fatalf("%s[%d] = %v, want %v ± %g", name, i, g[i], w[i], tol)
			}
		}
	})
}

// TestModelFileDescriptionOptional: a model without a description writes
// no description key (files from before the key read the same), and one
// with a description keeps it under "description".
func TestModelFileDescriptionOptional(t *testing.T) {
	dir := t.TempDir()
	for _, desc := range []string{"", "28x28 grey garments, light on dark"} {
		m := randomFileModel(1, archDiv16, 32, HeadLinear, 3)
		m.Info.Description = desc
		path := filepath.Join(dir, "m.vggo")
		if err := WriteModelFile(path, m, DTypeFloat32); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		h, err := safetensors.ReadHeader(f, st.Size())
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := h.Metadata["description"]; ok != (desc != "") || got != desc {
			t.Errorf("description %q: metadata has %q (present %v)", desc, got, ok)
		}
		info, err := ReadInfo(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Description != desc {
			t.Errorf("ReadInfo: Description %q, want %q", info.Description, desc)
		}
	}
}

// TestModelFileSizeFullWidth: at real width, an int8 file is at most 26 %
// of the float32 file (random Go weights, GAP head, in a temp dir).
func TestModelFileSizeFullWidth(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 60 MB (-short)")
	}
	m := randomFileModel(2, FullVGG16, 224, HeadGAP, 10)
	dir := t.TempDir()
	sizes := map[string]int64{}
	for _, dtype := range []string{DTypeFloat32, DTypeInt8} {
		path := filepath.Join(dir, dtype+".vggo")
		if err := WriteModelFile(path, m, dtype); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(path)
		sizes[dtype] = st.Size()
		if dtype == DTypeInt8 {
			got, err := ReadModelFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checkModelWeights(t, got, m, dtype)
		}
	}
	ratio := float64(sizes[DTypeInt8]) / float64(sizes[DTypeFloat32])
	t.Logf("float32 %d bytes, int8 %d bytes: %.1f %%", sizes[DTypeFloat32], sizes[DTypeInt8], 100*ratio)
	if ratio > 0.26 {
		t.Errorf("int8 file is %.1f %% of float32, want ≤ 26 %%", 100*ratio)
	}
}

func TestModelCheck(t *testing.T) {
	cases := []struct {
		name string
		edit func(m *Model)
		want string
	}{
		{"arch", func(m *Model) { m.Info.Arch = "resnet50" }, `architecture "resnet50"`},
		{"input size", func(m *Model) { m.Info.InputSize = 100 }, "input size 100"},
		{"preprocess", func(m *Model) { m.Info.Preprocess = "tf" }, `preprocessing mode "tf"`},
		{"width", func(m *Model) { m.Info.WidthDiv = 3 }, "width divisor 3"},
		{"head kind", func(m *Model) { m.Info.Head, m.Head.Kind = "mlp", "mlp" }, `head kind "mlp"`},
		{"head differs", func(m *Model) { m.Info.Head = HeadLinear }, `Info.Head "linear" differs from Head.Kind "gap"`},
		{"empty class", func(m *Model) { m.Info.Classes[1] = "" }, "class 1: empty name"},
		{"dtype", func(m *Model) { m.Info.DType = "int4" }, `weights dtype "int4": want int8, float16 or float32`},
		{"head count", func(m *Model) { m.Head.Dense = m.Head.Dense[:1] }, "has 1 dense layers, want 2"},
		{"class count", func(m *Model) { m.Info.Classes = m.Info.Classes[:3] }, "gives 5 outputs but there are 3 class names"},
		{"chain", func(m *Model) { m.Head.Dense[0].In = 7 }, "head.dense0: 7 inputs, but the previous layer gives 32"},
		{"conv shape", func(m *Model) { m.Base.Layers[3].Bias = m.Base.Layers[3].Bias[:1] }, "block2_conv2 bias: 1 values"},
		{"nan", func(m *Model) { m.Base.Layers[0].Kernel[5] = float32(math.NaN()) }, "block1_conv1.kernel: 1 NaN/Inf"},
		{"inf head", func(m *Model) { m.Head.Dense[1].Bias[0] = float32(math.Inf(1)) }, "head.dense1.bias: 1 NaN/Inf"},
	}
	for _, c := range cases {
		m := randomFileModel(3, archDiv16, 64, HeadGAP, 5)
		c.edit(m)
		err := m.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		path := filepath.Join(t.TempDir(), "m.vggo")
		if err := WriteModelFile(path, m, DTypeInt8); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: WriteModelFile error %v, want one naming the file", c.name, err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: invalid model left a file behind", c.name)
		}
	}
	seed := randomFileModel(3, archDiv16, 96, HeadSeed, 4)
	seed.Head.Dense[0].In = 32 // conv channels, not the 3x3x32 flatten size
	if err := seed.Check(); err == nil || !strings.Contains(err.Error(), "previous layer gives 288") {
		t.Errorf("seed flatten size: %v", err)
	}
}

// TestWriteModelFileAtomic: a failed write keeps the old file and leaves no
// temporary files; a good write replaces it.
func TestWriteModelFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.vggo")
	good := randomFileModel(4, archDiv16, 32, HeadLinear, 3)
	if err := WriteModelFile(path, good, DTypeFloat32); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	if err := WriteModelFile(path, good, "int4"); err == nil {
		t.Fatal("unknown dtype: no error")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("failed write changed the existing file")
	}
	huge := randomFileModel(4, archDiv16, 32, HeadLinear, 3)
	huge.Base.Layers[0].Kernel[0] = 1e6
	if err := WriteModelFile(path, huge, DTypeFloat16); err == nil || !strings.Contains(err.Error(), "float16 range") {
		t.Errorf("float16 overflow: %v", err)
	}
	if err := WriteModelFile(path, good, DTypeInt8); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only m.vggo: %v", len(entries), entries)
	}
	if m, err := ReadModelFile(path); err != nil || m.Info.DType != DTypeInt8 {
		t.Errorf("replaced file: %v", err)
	}
	if err := WriteModelFile(filepath.Join(dir, "no-such-dir", "m.vggo"), good, DTypeInt8); err == nil {
		t.Error("missing directory: no error")
	}
}
