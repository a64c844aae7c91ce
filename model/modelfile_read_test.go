package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vggo/model/safetensors"
)

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
		{"newer version", writeRawModel(t, m, meta("format_version", "3")), false, "model format version 3 is newer than this vggo supports (2)"},
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
		{"nan bias", writeRawModel(t, m, tensor("block5_conv3.bias", func(x *safetensors.Tensor) {
			copy(x.Data, safetensors.FromFloat32s("", []int{1}, []float32{float32(math.NaN())}).Data)
		})), true, "block5_conv3.bias: 1 NaN/Inf values"},
		{"nan scale", writeRawModel(t, m, tensor("block2_conv1.kernel_scale", func(x *safetensors.Tensor) {
			copy(x.Data, safetensors.FromFloat32s("", []int{1}, []float32{float32(math.NaN())}).Data)
		})), true, "block2_conv1.kernel_scale[0] = NaN"},
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
