package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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
				wantInfo.FormatVersion, wantInfo.DType, wantInfo.Bytes, wantInfo.SHA256 = ModelFormatVersion, dtype, size, sum
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

// writeRawModel encodes m, lets edit change tensors and metadata, and
// writes the result without any checks.
func writeRawModel(t *testing.T, m *Model, edit func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor) string {
	t.Helper()
	ts, md, err := encodeModel(m, DTypeInt8)
	if err != nil {
		t.Fatal(err)
	}
	ts = edit(ts, md)
	var b bytes.Buffer
	if err := safetensors.Write(&b, ts, md); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bad.vggo")
	os.WriteFile(path, b.Bytes(), 0o644)
	return path
}

func TestReadModelErrors(t *testing.T) {
	m := randomFileModel(5, archDiv16, 64, HeadGAP, 5)
	without := func(name string) func([]safetensors.Tensor, map[string]string) []safetensors.Tensor {
		return func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			var out []safetensors.Tensor
			for _, x := range ts {
				if x.Name != name {
					out = append(out, x)
				}
			}
			return out
		}
	}
	meta := func(k, v string) func([]safetensors.Tensor, map[string]string) []safetensors.Tensor {
		return func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			if v == "" {
				delete(md, k)
			} else {
				md[k] = v
			}
			return ts
		}
	}
	tensor := func(name string, f func(*safetensors.Tensor)) func([]safetensors.Tensor, map[string]string) []safetensors.Tensor {
		return func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			for i := range ts {
				if ts[i].Name == name {
					f(&ts[i])
				}
			}
			return ts
		}
	}
	cases := []struct {
		name  string
		path  string
		shape bool
		want  string
	}{
		{"newer version", writeRawModel(t, m, meta("format_version", "2")), false, "model format version 2 is newer than this vggo supports (1)"},
		{"newer version missing fields", writeRawModel(t, m, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			delete(md, "classes")
			md["format_version"] = "7"
			return ts
		}), false, "newer"},
		{"missing fields", writeRawModel(t, m, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			delete(md, "input_size")
			delete(md, "classes")
			return ts
		}), false, "metadata lacks input_size, classes"},
		{"bad classes", writeRawModel(t, m, meta("classes", "cat,dog")), false, "classes is not a JSON array"},
		{"bad number", writeRawModel(t, m, meta("input_size", "big")), false, `input_size "big"`},
		{"not vggo", writeRawModel(t, m, meta("format", "")), false, "not a vggo model file"},
		{"plain weights", filepath.Join(weightsFixtureDir, "vgg16_div16.safetensors"), false, "not a vggo model file"},
		{"torch file", filepath.Join(weightsFixtureDir, "vgg16_div16.pth"), false, "safetensors"},
		{"missing tensor", writeRawModel(t, m, without("block3_conv2.bias")), true, "block3_conv2.bias: missing"},
		{"missing scale", writeRawModel(t, m, without("head.dense1.kernel_scale")), true, "head.dense1.kernel_scale: missing"},
		{"missing dense", writeRawModel(t, m, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			return without("head.dense1.kernel")(without("head.dense1.kernel_scale")(without("head.dense1.bias")(ts, md), md), md)
		}), true, "has 1 dense layers, want 2"},
		{"extra tensor", writeRawModel(t, m, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			return append(ts, safetensors.Tensor{Name: "head.dropout", DType: safetensors.F32, Shape: []int{1}, Data: make([]byte, 4)})
		}), true, "head.dropout: unexpected tensor"},
		{"wrong shape", writeRawModel(t, m, tensor("block1_conv1.bias", func(x *safetensors.Tensor) { x.Shape = []int{2, 2} })), true, "block1_conv1.bias: shape [2 2], want [4]"},
		{"bad width", writeRawModel(t, m, meta("width_div", "3")), false, "invalid model metadata: width divisor 3: want a divisor of 64"},
		{"bad metadata", writeRawModel(t, m, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["arch"], md["input_size"], md["head"], md["preprocess"], md["weights_dtype"], md["classes"] = "vgg19", "100", "mlp", "tf", "int4", "[]"
			return ts
		}), false, `invalid model metadata: architecture "vgg19": want vgg16; input size 100: want a multiple of 32, at least 32 (224 is the ImageNet size); head kind "mlp": want seed, gap or linear; preprocessing mode "tf": want caffe or torch; weights dtype "int4": want int8, float16 or float32; no class names`},
		{"wrong width", writeRawModel(t, m, meta("width_div", "8")), true, "block1_conv1.kernel: shape [3 3 3 4], want [3 3 3 8]"},
		{"int bias", writeRawModel(t, m, tensor("block1_conv1.bias", func(x *safetensors.Tensor) { x.DType = safetensors.I32 })), true, "block1_conv1.bias: dtype I32"},
		{"nan bias", writeRawModel(t, m, tensor("block5_conv3.bias", func(x *safetensors.Tensor) { copy(x.Data, float32Bytes([]float32{float32(math.NaN())})) })), true, "block5_conv3.bias: 1 NaN/Inf values"},
		{"nan scale", writeRawModel(t, m, tensor("block2_conv1.kernel_scale", func(x *safetensors.Tensor) { copy(x.Data, float32Bytes([]float32{float32(math.NaN())})) })), true, "block2_conv1.kernel_scale[0] = NaN"},
		{"zero outputs", writeRawModel(t, m, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			for i := range ts {
				switch ts[i].Name {
				case "head.dense1.kernel":
					ts[i].Shape, ts[i].Data = []int{32, 0}, nil
				case "head.dense1.kernel_scale", "head.dense1.bias":
					ts[i].Shape, ts[i].Data = []int{0}, nil
				}
			}
			return ts
		}), true, "head.dense1.kernel: shape [32 0] has no output channels"},
		{"class mismatch", writeRawModel(t, m, meta("classes", `["a","b"]`)), true, "gives 5 outputs but there are 2 class names"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadModelFile(c.path)
			if err == nil {
				t.Fatal("no error")
			}
			var se *ShapeError
			if errors.As(err, &se) != c.shape {
				t.Errorf("error %T: ShapeError wanted %v", err, c.shape)
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || !strings.Contains(msg, c.path) {
				t.Errorf("error %q, want one naming the file and %q", msg, c.want)
			}
			if !c.shape {
				if _, err := ReadInfo(c.path); err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("ReadInfo error %v, want %q", err, c.want)
				}
			}
		})
	}
}

// recordingReaderAt counts the bytes read through it and the furthest
// offset reached.
type recordingReaderAt struct {
	r        io.ReaderAt
	read, to int64
}

func (c *recordingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read += int64(n)
	c.to = max(c.to, off+int64(n))
	return n, err
}

// TestModelReadPasses: ReadModelInfo reads the header and nothing past it;
// ReadModel reads every byte exactly once and hashes them in that pass.
func TestModelReadPasses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.vggo")
	if err := WriteModelFile(path, randomFileModel(6, archDiv16, 32, HeadGAP, 3), DTypeInt8); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	headerEnd := 8 + int64(binary.LittleEndian.Uint64(raw))

	r := &recordingReaderAt{r: bytes.NewReader(raw)}
	info, err := ReadModelInfo(r, int64(len(raw)), "m.vggo")
	if err != nil {
		t.Fatal(err)
	}
	if r.to > headerEnd || info.SHA256 != "" {
		t.Errorf("ReadModelInfo read up to byte %d of %d (header ends at %d), SHA256 %q", r.to, len(raw), headerEnd, info.SHA256)
	}
	// Only the header exists to read: data that is not there goes unnoticed.
	if _, err := ReadModelInfo(bytes.NewReader(raw[:headerEnd]), int64(len(raw)), "m.vggo"); err != nil {
		t.Errorf("ReadModelInfo on the header alone: %v", err)
	}

	r = &recordingReaderAt{r: bytes.NewReader(raw)}
	m, err := ReadModel(r, int64(len(raw)), "m.vggo")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := fileSHA(t, path)
	if r.read != int64(len(raw)) || m.Info.SHA256 != want {
		t.Errorf("ReadModel read %d bytes of %d, SHA256 %s, want %s", r.read, len(raw), m.Info.SHA256, want)
	}

	// Reads out of order cannot be hashed on the fly: an error, not a wrong hash.
	hr := &hashingReaderAt{r: bytes.NewReader(raw), h: sha256.New()}
	hr.ReadAt(make([]byte, 8), 8)
	hr.ReadAt(make([]byte, 8), 0)
	if _, err := hr.sum(16); err == nil {
		t.Error("hashingReaderAt.sum after out-of-order reads: no error")
	}
}

// TestReadModelTruncated cuts a model file at many lengths.
func TestReadModelTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.vggo")
	if err := WriteModelFile(path, randomFileModel(6, archDiv16, 32, HeadGAP, 3), DTypeInt8); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	for n := 0; n < len(raw); n += 1 + n/16 {
		_, err := ReadModel(bytes.NewReader(raw[:n]), int64(n), "cut.vggo")
		if err == nil || !strings.Contains(err.Error(), "cut.vggo") {
			t.Fatalf("cut at %d of %d: error %v", n, len(raw), err)
		}
	}
}

// tinyModelBytes is a valid model at width/64 for fuzz seeds.
func tinyModelBytes(t testing.TB, head, dtype string) []byte {
	m := randomFileModel(7, Arch{WidthDiv: 64}, 32, head, 2)
	ts, md, err := encodeModel(m, dtype)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := safetensors.Write(&b, ts, md); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// editModel returns a copy of base cut short by cut%(len+1) bytes, then
// with patch written at off%(len+1), growing the file where it runs past
// the end.
func editModel(base []byte, off int, patch []byte, cut int) []byte {
	data := slices.Clone(base[:len(base)-cut%(len(base)+1)])
	off %= len(data) + 1
	if end := off + len(patch); end > len(data) {
		data = append(data, make([]byte, end-len(data))...)
	}
	copy(data[off:], patch)
	return data
}

// FuzzReadModel: no input may panic; an accepted model passes Check and
// encodes again. An input is an edit (editModel) of one of nine tiny valid
// models (width/64, every head and dtype), not a whole file: the smallest
// valid model is kilobytes, and the fuzzer spends up to -fuzzminimizetime
// (60 s by default) minimizing each input that finds new coverage, with a
// search quadratic in the input's length, so whole-file inputs kept it
// minimizing instead of exploring (23 executions in 20 s). A short patch
// minimizes in moments, and an edit still reaches every byte of the
// header and the data, truncations and appended bytes.
func FuzzReadModel(f *testing.F) {
	var seeds [][]byte
	for _, head := range []string{HeadSeed, HeadGAP, HeadLinear} {
		for _, dtype := range []string{DTypeFloat32, DTypeFloat16, DTypeInt8} {
			seeds = append(seeds, tinyModelBytes(f, head, dtype))
		}
	}
	for i := range seeds {
		f.Add(uint8(i), uint16(0), []byte(nil), uint16(0))
	}
	linearInt8 := seeds[8]
	version := bytes.Index(linearInt8, []byte(`"format_version":"1"`)) + len(`"format_version":"`)
	if version < len(`"format_version":"`) {
		f.Fatal("no format_version in the seed's header")
	}
	f.Add(uint8(8), uint16(version), []byte("2"), uint16(0))                // a newer format
	f.Add(uint8(8), uint16(0), []byte(nil), uint16(len(linearInt8)/2))      // truncated
	f.Add(uint8(8), uint16(len(linearInt8)), []byte("trailing"), uint16(0)) // bytes past the data
	f.Fuzz(func(t *testing.T, seed uint8, off uint16, patch []byte, cut uint16) {
		data := editModel(seeds[int(seed)%len(seeds)], int(off), patch, int(cut))
		m, err := ReadModel(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := m.Check(); err != nil {
			t.Fatalf("accepted model fails Check: %v", err)
		}
		if _, _, err := encodeModel(m, DTypeFloat32); err != nil {
			t.Fatalf("accepted model does not encode: %v", err)
		}
	})
}
