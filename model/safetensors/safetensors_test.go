package safetensors

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// build writes tensors and metadata into memory.
func build(t testing.TB, tensors []Tensor, md map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, tensors, md); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func sampleTensors() []Tensor {
	f32 := make([]byte, 4*6)
	for i := 0; i < 6; i++ {
		binary.LittleEndian.PutUint32(f32[4*i:], math.Float32bits(float32(i)-2.5))
	}
	return []Tensor{
		{Name: "a.weight", DType: F32, Shape: []int{2, 3}, Data: f32},
		{Name: "b.half", DType: F16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}}, // 1, -2
		{Name: "c.bf", DType: BF16, Shape: []int{1}, Data: []byte{0x80, 0x3f}},              // 1
		{Name: "d.i8", DType: I8, Shape: []int{3}, Data: []byte{1, 0xff, 0x80}},
		{Name: "e.u8", DType: U8, Shape: []int{2}, Data: []byte{7, 255}},
		{Name: "f.i32", DType: I32, Shape: []int{1}, Data: []byte{1, 2, 3, 4}},
		{Name: "g.i64", DType: I64, Shape: []int{}, Data: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
		{Name: "h.f64", DType: F64, Shape: []int{1}, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.5))},
		{Name: "i.empty", DType: F32, Shape: []int{0, 4}, Data: []byte{}},
	}
}

func TestRoundTrip(t *testing.T) {
	in := sampleTensors()
	md := map[string]string{"format": "pt", "note": "ünïcode \"quoted\""}
	raw := build(t, in, md)
	if n := binary.LittleEndian.Uint64(raw); (8+n)%8 != 0 {
		t.Errorf("data section starts at %d, not 8-byte aligned", 8+n)
	}
	f, err := Read(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Metadata) != 2 || f.Metadata["note"] != md["note"] {
		t.Errorf("metadata = %v, want %v", f.Metadata, md)
	}
	if len(f.Tensors) != len(in) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(in))
	}
	for i, want := range in {
		got := f.Tensors[i]
		if got.Name != want.Name || got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("tensor %d = %+v, want %+v", i, got, want)
		}
		if byName, ok := f.Tensor(want.Name); !ok || byName.Name != want.Name {
			t.Errorf("Tensor(%q) not found", want.Name)
		}
	}
	if _, ok := f.Tensor("missing"); ok {
		t.Error("Tensor(missing) found")
	}
	got, err := f.Tensors[0].Float32s()
	if err != nil || got[0] != -2.5 || got[5] != 2.5 {
		t.Errorf("F32 Float32s = %v, %v", got, err)
	}
	if got, _ := f.Tensors[1].Float32s(); got[0] != 1 || got[1] != -2 {
		t.Errorf("F16 Float32s = %v, want [1 -2]", got)
	}
	if got, _ := f.Tensors[2].Float32s(); got[0] != 1 {
		t.Errorf("BF16 Float32s = %v, want [1]", got)
	}
	if got, _ := f.Tensors[7].Float32s(); got[0] != 0.5 {
		t.Errorf("F64 Float32s = %v, want [0.5]", got)
	}
	if _, err := f.Tensors[3].Float32s(); err == nil {
		t.Error("I8 Float32s: no error")
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := os.WriteFile(good, build(t, sampleTensors(), nil), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(good)
	if err != nil || len(f.Tensors) != len(sampleTensors()) {
		t.Fatalf("ReadFile: %v tensors, error %v", f, err)
	}
	bad := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(bad, []byte("not a safetensors file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("ReadFile of a bad file: error %v, want one naming %s", err, bad)
	}
}

// A file may hold metadata and no tensor at all (safetensors allows it).
func TestMetadataOnly(t *testing.T) {
	raw := build(t, nil, map[string]string{"note": "no tensors"})
	f, err := Read(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Tensors) != 0 || f.Metadata["note"] != "no tensors" {
		t.Errorf("read %d tensors and metadata %v, want none and the note", len(f.Tensors), f.Metadata)
	}
}

// TestPythonFixture reads the file testdata/make_weights.py wrote by hand in
// Python, checking the header against the known torchvision layout.
func TestPythonFixture(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/vgg16_div16.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata = %v", f.Metadata)
	}
	w, ok := f.Tensor("features.0.weight")
	if !ok || w.DType != F32 || !slices.Equal(w.Shape, []int{4, 3, 3, 3}) {
		t.Errorf("features.0.weight = %v %v %v", ok, w.DType, w.Shape)
	}
	if len(f.Tensors) != 26+6 {
		t.Errorf("%d tensors, want 32 (13 convs + 3 linears, weight and bias)", len(f.Tensors))
	}
	// Same tensors re-written by Write read back identically.
	again := build(t, f.Tensors, f.Metadata)
	g, err := Read(bytes.NewReader(again), int64(len(again)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f.Tensors {
		if !bytes.Equal(f.Tensors[i].Data, g.Tensors[i].Data) || f.Tensors[i].Name != g.Tensors[i].Name {
			t.Fatalf("tensor %d differs after rewrite", i)
		}
	}
}

// header builds a file from a literal JSON header and data section.
func header(js string, data int) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	b = append(b, js...)
	return append(b, make([]byte, data)...)
}

func TestCorrupt(t *testing.T) {
	good := build(t, sampleTensors(), map[string]string{"k": "v"})
	hugeLen := binary.LittleEndian.AppendUint64(nil, 1<<62)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"short", []byte{1, 2, 3}, "too short"},
		{"huge header length", append(hugeLen, "{}"...), "exceeds the"},
		{"header past EOF", good[:40], "exceeds the file size"},
		{"not JSON", header("[1,2]   ", 0), "does not start with '{'"},
		{"bad JSON", header(`{"a":`, 0), "header JSON"},
		{"trailing", header(`{} x`, 0), "trailing"},
		{"bad utf8", header("{\"\xff\":1}", 0), "UTF-8"},
		{"metadata number", header(`{"__metadata__":{"a":1}}`, 0), "string values"},
		{"metadata null", header(`{"__metadata__":null}`, 0), "string values"},
		{"unknown dtype", header(`{"t":{"dtype":"F7","shape":[1],"data_offsets":[0,1]}}`, 1), "unknown dtype"},
		{"missing field", header(`{"t":{"dtype":"F32","shape":[1]}}`, 4), "needs dtype, shape and data_offsets"},
		{"unknown field", header(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), "bad header entry"},
		{"negative dim", header(`{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4), "negative"},
		{"float dim", header(`{"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}`, 4), "bad header entry"},
		{"shape too big", header(`{"t":{"dtype":"F32","shape":[1000000000,1000000000,1000000000],"data_offsets":[0,4]}}`, 4), "needs more than"},
		{"size mismatch", header(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, 8), "is 4 bytes but"},
		{"shape exceeds range", header(`{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), "needs more than"},
		{"offsets past end", header(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 2), "outside"},
		{"reversed offsets", header(`{"t":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, 4), "outside"},
		{"three offsets", header(`{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, 2), "want 2"},
		{"overlap", header(`{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}`, 3), "overlap"},
		{"gap", header(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2), "gap"},
		{"trailing data", header(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 2), "cover 1 bytes"},
		{"duplicate", header(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}`, 2), "twice"},
		{"truncated data", good[:len(good)-3], "outside"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(c.file), int64(len(c.file)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestTruncateEverywhere cuts a valid file at every length: each must fail
// cleanly (never panic), and only the full length may succeed.
func TestTruncateEverywhere(t *testing.T) {
	good := build(t, sampleTensors(), map[string]string{"k": "v"})
	for n := 0; n < len(good); n++ {
		if _, err := Read(bytes.NewReader(good[:n]), int64(n)); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
	// A caller that claims more bytes than the reader has gets an error too.
	if _, err := Read(bytes.NewReader(good[:len(good)-1]), int64(len(good))); err == nil {
		t.Error("short reader: no error")
	}
}

func TestWriteRejects(t *testing.T) {
	cases := []struct {
		name string
		t    Tensor
	}{
		{"reserved name", Tensor{Name: "__metadata__", DType: U8, Shape: []int{1}, Data: []byte{1}}},
		{"unknown dtype", Tensor{Name: "a", DType: "X", Shape: []int{1}, Data: []byte{1}}},
		{"size mismatch", Tensor{Name: "a", DType: F32, Shape: []int{2}, Data: []byte{1, 2, 3, 4}}},
		{"negative", Tensor{Name: "a", DType: U8, Shape: []int{-1}, Data: nil}},
	}
	for _, c := range cases {
		if err := Write(&bytes.Buffer{}, []Tensor{c.t}, nil); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	dup := []Tensor{{Name: "a", DType: U8, Shape: []int{1}, Data: []byte{1}}, {Name: "a", DType: U8, Shape: []int{1}, Data: []byte{1}}}
	if err := Write(&bytes.Buffer{}, dup, nil); err == nil {
		t.Error("duplicate names: no error")
	}
}

// TestFloat16Exhaustive checks every binary16 value: decoding against a
// float64 formula, and that encoding the decoded value gives the bits back.
func TestFloat16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		exp := (h >> 10) & 0x1f
		frac := float64(h & 0x3ff)
		var want float64
		switch {
		case exp == 0:
			want = frac * math.Pow(2, -24)
		case exp == 31 && frac == 0:
			want = math.Inf(1)
		case exp == 31:
			want = math.NaN()
		default:
			want = (1 + frac/1024) * math.Pow(2, float64(exp-15))
		}
		if h&0x8000 != 0 {
			want = -want
		}
		got := Float16ToFloat32(uint16(h))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) || !math.IsNaN(float64(Float16ToFloat32(Float32ToFloat16(got)))) {
				t.Fatalf("%#04x: NaN not kept", h)
			}
			continue
		}
		if float64(got) != want {
			t.Fatalf("Float16ToFloat32(%#04x) = %v, want %v", h, got, want)
		}
		if back := Float32ToFloat16(got); back != uint16(h) {
			t.Fatalf("Float32ToFloat16(%v) = %#04x, want %#04x", got, back, h)
		}
	}
}

// TestFloat16Rounding checks Float32ToFloat16 against the nearest half found
// by brute force over neighbours, ties to even, on random and edge values.
func TestFloat16Rounding(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	vals := []float32{65504, 65519.99, 65520, 1e-8, 2.98e-8, 5.96e-8, 6.1e-5, 1 + 1.0/2048, 1 + 3.0/2048}
	for i := 0; i < 20000; i++ {
		vals = append(vals, float32(rng.NormFloat64()*math.Pow(2, float64(rng.Intn(40)-25))))
	}
	for _, v := range vals {
		got := Float32ToFloat16(v)
		gv := float64(Float16ToFloat32(got))
		if math.Abs(float64(v)) >= 65520 {
			if !math.IsInf(gv, 0) {
				t.Fatalf("%v: got %v, want Inf", v, gv)
			}
			continue
		}
		// Neighbours of the result must not be closer.
		for _, nb := range []uint16{got - 1, got + 1} {
			nv := float64(Float16ToFloat32(nb))
			if math.IsNaN(nv) || math.IsInf(nv, 0) || (nb^got)&0x8000 != 0 {
				continue
			}
			dg, dn := math.Abs(gv-float64(v)), math.Abs(nv-float64(v))
			if dn < dg || (dn == dg && got&1 == 1) {
				t.Fatalf("Float32ToFloat16(%v) = %v, but %v is nearer (or the even tie)", v, gv, nv)
			}
		}
	}
}

func TestBFloat16(t *testing.T) {
	cases := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80}, {-2, 0xc000}, {1 + 1.0/256, 0x3f80} /* tie → even */, {1 + 3.0/256, 0x3f82}, {float32(math.Inf(1)), 0x7f80},
	}
	for _, c := range cases {
		if got := Float32ToBFloat16(c.in); got != c.want {
			t.Errorf("Float32ToBFloat16(%v) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if got := Float32ToBFloat16(float32(math.NaN())); got&0x7f80 != 0x7f80 || got&0x7f == 0 {
		t.Errorf("NaN → %#04x, not a NaN", got)
	}
}

// FuzzRead: no input may panic, and whatever Read accepts must re-encode
// and read back to the same tensors.
func FuzzRead(f *testing.F) {
	f.Add(build(f, sampleTensors(), map[string]string{"k": "v"}))
	f.Add(header(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1))
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		var total int
		for _, tt := range file.Tensors {
			total += len(tt.Data)
		}
		if total > len(data) {
			t.Fatalf("tensors hold %d bytes, file has %d", total, len(data))
		}
		again := build(t, file.Tensors, file.Metadata)
		g, err := Read(bytes.NewReader(again), int64(len(again)))
		if err != nil {
			t.Fatalf("re-encoded file does not read: %v", err)
		}
		for i := range file.Tensors {
			if !bytes.Equal(g.Tensors[i].Data, file.Tensors[i].Data) {
				t.Fatalf("tensor %d differs after re-encoding", i)
			}
		}
	})
}

// FromFloat32s writes what Float32s reads back, bit for bit (NaN payloads
// and signed zeros too), as a valid F32 tensor.
func TestFromFloat32s(t *testing.T) {
	v := []float32{0, float32(math.Copysign(0, -1)), 1.5, -3.25e-20, float32(math.Inf(1)), math.Float32frombits(0x7fc00123)}
	x := FromFloat32s("x", []int{2, 3}, v)
	if x.DType != F32 || len(x.Data) != 24 || x.Data[8] != 0 || x.Data[11] != 0x3f {
		t.Fatalf("tensor %+v: want F32, 24 little-endian bytes", x)
	}
	back, err := x.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i := range v {
		if math.Float32bits(back[i]) != math.Float32bits(v[i]) {
			t.Errorf("value %d: %#x back, wrote %#x", i, math.Float32bits(back[i]), math.Float32bits(v[i]))
		}
	}
}
