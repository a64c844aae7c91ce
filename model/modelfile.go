package model

// The vggo model file is one safetensors file (DESIGN.md, "The model file"),
// so any safetensors tool can open it:
//
//	tensors   block1_conv1.kernel        [3 3 Cin Cout]  I8 | F16 | F32 (HWIO)
//	          block1_conv1.kernel_scale  [Cout]          F32, int8 files only
//	          block1_conv1.bias          [Cout]          F32
//	          ... the 13 convs by their Keras names ...
//	          head.dense0.kernel         [In Out]        I8 | F16 | F32
//	          head.dense0.kernel_scale   [Out]           F32, int8 files only
//	          head.dense0.bias           [Out]           F32
//	          ... head.dense1, head.dense2 as the head kind has them ...
//	metadata  format "vggo", format_version "1", arch "vgg16",
//	          input_size "224", width_div "1", head "gap",
//	          classes "[\"cat\",\"dog\"]" (a JSON array), preprocess "caffe",
//	          weights_dtype "int8", provenance.<key> (free-form: dataset,
//	          accuracy, date, command, ...).
//
// int8 is symmetric per output channel (the last axis): w ≈ q·scale with
// scale = max|w|/127, via kernels.QuantizeInt8/DequantizeInt8.

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"vggo/internal/atomicfile"

	"vggo/kernels"
	"vggo/model/safetensors"
)

// ModelFormatVersion is the version of the vggo model file this code
// writes, and the newest it reads.
const ModelFormatVersion = 1

// Weight encodings WriteModelFile accepts.
const (
	DTypeInt8    = "int8"    // kernels int8 with one float32 scale per output channel
	DTypeFloat16 = "float16" // kernels float16
	DTypeFloat32 = "float32" // kernels float32
)

// The __metadata__ keys of a vggo model file (all values are strings, as
// safetensors demands). Provenance entries are "provenance.<key>".
const (
	metaFormat        = "format" // always "vggo"
	metaFormatVersion = "format_version"
	metaArch          = "arch"
	metaInputSize     = "input_size"
	metaWidthDiv      = "width_div"
	metaHead          = "head"
	metaClasses       = "classes" // JSON array of strings
	metaPreprocess    = "preprocess"
	metaDType         = "weights_dtype"
	metaProvenance    = "provenance."
	formatName        = "vggo"
)

// Info is what a vggo model file says about itself; ReadInfo gets it from
// the header alone.
type Info struct {
	FormatVersion int               // file format version (ModelFormatVersion when written)
	Arch          string            // "vgg16"
	InputSize     int               // square input side in pixels, a multiple of 32
	WidthDiv      int               // channel divisor (1 = real VGG16), see Arch
	Head          string            // HeadSeed, HeadGAP or HeadLinear
	Classes       []string          // class names, in output order
	Preprocess    string            // PreprocessCaffe or PreprocessTorch (preprocess.go)
	Provenance    map[string]string // free-form: dataset, accuracy, date, command line, ...
	DType         string            // kernel encoding in the file: int8, float16 or float32 (set when read)
	Bytes         int64             // file size (set when read)
	SHA256        string            // hex SHA-256 of the whole file (set when read)
}

// Model is a complete classifier: VGG16's conv base plus a head.
type Model struct {
	Info Info
	Base ConvBase
	Head Head
}

// Check verifies the model's description and every shape: architecture,
// input size, preprocessing mode, head kind and layer count, the dense
// dimensions chaining from the conv base to the class count, and that no
// weight is NaN or infinite. All problems are reported in one *ShapeError.
func (m *Model) Check() error {
	var p []string
	in := m.Info
	if in.Arch != "vgg16" {
		p = append(p, fmt.Sprintf("architecture %q, want \"vgg16\"", in.Arch))
	}
	if in.WidthDiv < 1 || 64%in.WidthDiv != 0 {
		p = append(p, fmt.Sprintf("width divisor %d, want a divisor of 64", in.WidthDiv))
	} else if m.Base.Arch.WidthDiv != in.WidthDiv {
		p = append(p, fmt.Sprintf("conv base width divisor %d differs from Info.WidthDiv %d", m.Base.Arch.WidthDiv, in.WidthDiv))
	}
	if in.InputSize < 32 || in.InputSize%32 != 0 {
		p = append(p, fmt.Sprintf("input size %d, want a positive multiple of 32", in.InputSize))
	}
	if in.Preprocess != PreprocessCaffe && in.Preprocess != PreprocessTorch {
		p = append(p, fmt.Sprintf("preprocessing mode %q, want caffe or torch", in.Preprocess))
	}
	if len(in.Classes) == 0 {
		p = append(p, "no class names")
	}
	for i, c := range in.Classes {
		if c == "" {
			p = append(p, fmt.Sprintf("class %d has an empty name", i))
		}
	}
	if in.Head != m.Head.Kind {
		p = append(p, fmt.Sprintf("Info.Head %q differs from Head.Kind %q", in.Head, m.Head.Kind))
	}
	if len(p) == 0 {
		if err := m.Base.Check(); err != nil {
			p = append(p, err.(*ShapeError).Problems...)
		}
	}
	want := map[string]int{HeadSeed: 3, HeadGAP: 2, HeadLinear: 1}[m.Head.Kind]
	switch {
	case want == 0:
		p = append(p, fmt.Sprintf("head kind %q, want seed, gap or linear", m.Head.Kind))
	case len(m.Head.Dense) != want:
		p = append(p, fmt.Sprintf("head %q has %d dense layers, want %d", m.Head.Kind, len(m.Head.Dense), want))
	}
	if len(p) == 0 {
		prev := m.Base.Arch.Channels()
		if m.Head.Kind == HeadSeed {
			side := in.InputSize / 32
			prev *= side * side
		}
		for i, d := range m.Head.Dense {
			if d.In != prev {
				p = append(p, fmt.Sprintf("head.dense%d: %d inputs, but the previous layer gives %d", i, d.In, prev))
			}
			if d.Out < 1 || len(d.Kernel) != d.In*d.Out || len(d.Bias) != d.Out {
				p = append(p, fmt.Sprintf("head.dense%d: kernel %d values and bias %d for %dx%d", i, len(d.Kernel), len(d.Bias), d.In, d.Out))
			}
			prev = d.Out
		}
		if prev != len(in.Classes) {
			p = append(p, fmt.Sprintf("head gives %d outputs but there are %d class names", prev, len(in.Classes)))
		}
	}
	if len(p) == 0 {
		for i, l := range m.Base.Layers {
			name := VGG16Convs[i].Name
			if n := CountNonFinite(l.Kernel); n > 0 {
				p = append(p, fmt.Sprintf("%s.kernel: %d NaN/Inf values", name, n))
			}
			if n := CountNonFinite(l.Bias); n > 0 {
				p = append(p, fmt.Sprintf("%s.bias: %d NaN/Inf values", name, n))
			}
		}
		for i, d := range m.Head.Dense {
			if n := CountNonFinite(d.Kernel); n > 0 {
				p = append(p, fmt.Sprintf("head.dense%d.kernel: %d NaN/Inf values", i, n))
			}
			if n := CountNonFinite(d.Bias); n > 0 {
				p = append(p, fmt.Sprintf("head.dense%d.bias: %d NaN/Inf values", i, n))
			}
		}
	}
	if len(p) > 0 {
		return &ShapeError{Problems: p}
	}
	return nil
}

// kernelTensors lists every weight matrix of m with its file name, shape
// and output-channel count (the last axis).
func (m *Model) kernelTensors() []namedWeights {
	var out []namedWeights
	for i := range m.Base.Layers {
		s := m.Base.Arch.Conv(i)
		out = append(out, namedWeights{s.Name, []int{3, 3, s.Cin, s.Cout}, &m.Base.Layers[i].Kernel, &m.Base.Layers[i].Bias})
	}
	for i := range m.Head.Dense {
		d := &m.Head.Dense[i]
		out = append(out, namedWeights{fmt.Sprintf("head.dense%d", i), []int{d.In, d.Out}, &d.Kernel, &d.Bias})
	}
	return out
}

type namedWeights struct {
	name   string
	shape  []int // kernel shape; the last axis is the output channel
	kernel *[]float32
	bias   *[]float32
}

// encodeModel builds the safetensors tensors and metadata of m.
func encodeModel(m *Model, dtype string) ([]safetensors.Tensor, map[string]string, error) {
	if err := m.Check(); err != nil {
		return nil, nil, err
	}
	var tensors []safetensors.Tensor
	for _, w := range m.kernelTensors() {
		cout := w.shape[len(w.shape)-1]
		k := *w.kernel
		switch dtype {
		case DTypeInt8:
			q, scales := kernels.QuantizeInt8(k, cout)
			data := make([]byte, len(q))
			for i, v := range q {
				data[i] = byte(v)
			}
			tensors = append(tensors,
				safetensors.Tensor{Name: w.name + ".kernel", DType: safetensors.I8, Shape: w.shape, Data: data},
				safetensors.Tensor{Name: w.name + ".kernel_scale", DType: safetensors.F32, Shape: []int{cout}, Data: float32Bytes(scales)})
		case DTypeFloat16:
			data := make([]byte, 2*len(k))
			for i, v := range k {
				h := safetensors.Float32ToFloat16(v)
				if h&0x7c00 == 0x7c00 {
					return nil, nil, fmt.Errorf("%s.kernel[%d] = %g is outside the float16 range", w.name, i, v)
				}
				binary.LittleEndian.PutUint16(data[2*i:], h)
			}
			tensors = append(tensors, safetensors.Tensor{Name: w.name + ".kernel", DType: safetensors.F16, Shape: w.shape, Data: data})
		case DTypeFloat32:
			tensors = append(tensors, safetensors.Tensor{Name: w.name + ".kernel", DType: safetensors.F32, Shape: w.shape, Data: float32Bytes(k)})
		default:
			return nil, nil, fmt.Errorf("unknown weight dtype %q, want int8, float16 or float32", dtype)
		}
		tensors = append(tensors, safetensors.Tensor{Name: w.name + ".bias", DType: safetensors.F32, Shape: []int{cout}, Data: float32Bytes(*w.bias)})
	}
	classes, _ := json.Marshal(m.Info.Classes)
	md := map[string]string{
		metaFormat:        formatName,
		metaFormatVersion: strconv.Itoa(ModelFormatVersion),
		metaArch:          m.Info.Arch,
		metaInputSize:     strconv.Itoa(m.Info.InputSize),
		metaWidthDiv:      strconv.Itoa(m.Info.WidthDiv),
		metaHead:          m.Info.Head,
		metaClasses:       string(classes),
		metaPreprocess:    m.Info.Preprocess,
		metaDType:         dtype,
	}
	for k, v := range m.Info.Provenance {
		md[metaProvenance+k] = v
	}
	return tensors, md, nil
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// WriteModelFile writes m as a vggo model file with kernels encoded as
// dtype ("int8", "float16" or "float32"; biases and scales are always
// float32). The write is atomic: a temporary file in the same directory is
// written, synced and renamed over path, so readers never see half a model.
// Info.FormatVersion, DType, Bytes and SHA256 are ignored.
func WriteModelFile(path string, m *Model, dtype string) error {
	tensors, md, err := encodeModel(m, dtype)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return safetensors.Write(w, tensors, md)
	})
}

// ReadModelFile reads and validates a vggo model file.
func ReadModelFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return ReadModel(f, st.Size(), path)
}

// ReadInfo reads a model file's description from its header only, without
// decoding any weights (the file is still hashed for Info.SHA256).
func ReadInfo(path string) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	return ReadModelInfo(f, st.Size(), path)
}

// ReadModelInfo is ReadInfo for size bytes of r (an embedded or downloaded
// file); name is used in error messages.
func ReadModelInfo(r io.ReaderAt, size int64, name string) (Info, error) {
	h, err := safetensors.ReadHeader(r, size)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", name, err)
	}
	info, err := parseInfo(h.Metadata)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", name, err)
	}
	info.Bytes = size
	if info.SHA256, err = hashReaderAt(r, size); err != nil {
		return Info{}, fmt.Errorf("%s: %w", name, err)
	}
	return info, nil
}

// ReadModel reads and validates a vggo model file of size bytes from r;
// name is used in error messages. It uses no operating-system services, so
// the browser client calls it on downloaded bytes.
func ReadModel(r io.ReaderAt, size int64, name string) (*Model, error) {
	m, err := readModel(r, size)
	if err != nil {
		var se *ShapeError
		if errors.As(err, &se) {
			se.File = name
			return nil, se
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

func hashReaderAt(r io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, io.NewSectionReader(r, 0, size), make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// parseInfo reads the vggo metadata, naming every missing field at once.
func parseInfo(md map[string]string) (Info, error) {
	if md[metaFormat] != formatName {
		return Info{}, fmt.Errorf("not a vggo model file: safetensors without format=%q metadata (a plain weight file? use weights.LoadWeights)", formatName)
	}
	var missing []string
	for _, k := range []string{metaFormatVersion, metaArch, metaInputSize, metaWidthDiv, metaHead, metaClasses, metaPreprocess, metaDType} {
		if _, ok := md[k]; !ok {
			missing = append(missing, k)
		}
	}
	// A newer version may legitimately lack or rename fields: say that first.
	version, verr := strconv.Atoi(md[metaFormatVersion])
	if _, ok := md[metaFormatVersion]; ok && verr != nil {
		return Info{}, fmt.Errorf("metadata format_version %q is not a number", md[metaFormatVersion])
	}
	if version > ModelFormatVersion {
		return Info{}, fmt.Errorf("model format version %d is newer than this vggo supports (%d); update vggo", version, ModelFormatVersion)
	}
	if len(missing) > 0 {
		return Info{}, fmt.Errorf("model file metadata lacks %s", strings.Join(missing, ", "))
	}
	if version < 1 {
		return Info{}, fmt.Errorf("model format version %d is invalid", version)
	}
	info := Info{FormatVersion: version, Arch: md[metaArch], Head: md[metaHead], Preprocess: md[metaPreprocess], DType: md[metaDType]}
	var err error
	if info.InputSize, err = strconv.Atoi(md[metaInputSize]); err != nil {
		return Info{}, fmt.Errorf("metadata input_size %q is not a number", md[metaInputSize])
	}
	if info.WidthDiv, err = strconv.Atoi(md[metaWidthDiv]); err != nil {
		return Info{}, fmt.Errorf("metadata width_div %q is not a number", md[metaWidthDiv])
	}
	if err := json.Unmarshal([]byte(md[metaClasses]), &info.Classes); err != nil {
		return Info{}, fmt.Errorf("metadata classes is not a JSON array of strings: %v", err)
	}
	var bad []string
	if info.Arch != "vgg16" {
		bad = append(bad, fmt.Sprintf("arch %q is not vgg16", info.Arch))
	}
	if info.WidthDiv < 1 || 64%info.WidthDiv != 0 {
		bad = append(bad, fmt.Sprintf("width_div %d is not a divisor of 64", info.WidthDiv))
	}
	if info.InputSize < 32 || info.InputSize%32 != 0 {
		bad = append(bad, fmt.Sprintf("input_size %d is not a positive multiple of 32", info.InputSize))
	}
	if info.Head != HeadSeed && info.Head != HeadGAP && info.Head != HeadLinear {
		bad = append(bad, fmt.Sprintf("head %q is not seed, gap or linear", info.Head))
	}
	if info.Preprocess != PreprocessCaffe && info.Preprocess != PreprocessTorch {
		bad = append(bad, fmt.Sprintf("preprocess %q is not caffe or torch", info.Preprocess))
	}
	if info.DType != DTypeInt8 && info.DType != DTypeFloat16 && info.DType != DTypeFloat32 {
		bad = append(bad, fmt.Sprintf("weights_dtype %q is not int8, float16 or float32", info.DType))
	}
	if len(info.Classes) == 0 {
		bad = append(bad, "classes is empty")
	}
	if len(bad) > 0 {
		return Info{}, fmt.Errorf("invalid model metadata: %s", strings.Join(bad, "; "))
	}
	for k, v := range md {
		if p, ok := strings.CutPrefix(k, metaProvenance); ok {
			if info.Provenance == nil {
				info.Provenance = map[string]string{}
			}
			info.Provenance[p] = v
		}
	}
	return info, nil
}

func readModel(r io.ReaderAt, size int64) (*Model, error) {
	f, err := safetensors.Read(r, size)
	if err != nil {
		return nil, err
	}
	info, err := parseInfo(f.Metadata)
	if err != nil {
		return nil, err
	}
	info.Bytes = size
	if info.SHA256, err = hashReaderAt(r, size); err != nil {
		return nil, err
	}
	m := &Model{Info: info, Base: ConvBase{Arch: Arch{WidthDiv: info.WidthDiv}}, Head: Head{Kind: info.Head}}
	// Shapes come from the file; Check below validates them against the
	// architecture and the class list.
	var problems []string
	used := map[string]bool{}
	get := func(name string) (safetensors.Tensor, bool) {
		t, ok := f.Tensor(name)
		if !ok {
			problems = append(problems, name+": missing")
		}
		used[name] = true
		return t, ok
	}
	floats := func(t safetensors.Tensor, wantShape []int) []float32 {
		if !slices.Equal(t.Shape, wantShape) {
			problems = append(problems, fmt.Sprintf("%s: shape %v, want %v", t.Name, t.Shape, wantShape))
			return nil
		}
		switch t.DType {
		case safetensors.F32, safetensors.F16, safetensors.BF16:
			v, _ := t.Float32s()
			return v
		}
		problems = append(problems, fmt.Sprintf("%s: dtype %s, want F32, F16 or BF16", t.Name, t.DType))
		return nil
	}
	kernel := func(name string, shape []int) []float32 {
		t, ok := get(name + ".kernel")
		if !ok {
			return nil
		}
		if t.DType != safetensors.I8 {
			return floats(t, shape)
		}
		st, ok := get(name + ".kernel_scale")
		if !ok {
			return nil
		}
		cout := shape[len(shape)-1]
		if cout == 0 {
			problems = append(problems, fmt.Sprintf("%s: shape %v has no output channels", t.Name, t.Shape))
			return nil
		}
		scales := floats(st, []int{cout})
		if !slices.Equal(t.Shape, shape) {
			problems = append(problems, fmt.Sprintf("%s: shape %v, want %v", t.Name, t.Shape, shape))
			return nil
		}
		if scales == nil {
			return nil
		}
		for i, s := range scales {
			if !(s >= 0) || math.IsInf(float64(s), 0) {
				problems = append(problems, fmt.Sprintf("%s[%d] = %g, want a finite scale ≥ 0", st.Name, i, s))
				return nil
			}
		}
		q := make([]int8, len(t.Data))
		for i, b := range t.Data {
			q[i] = int8(b)
		}
		w := make([]float32, len(q))
		kernels.DequantizeInt8(q, scales, w)
		return w
	}
	bias := func(name string, n int) []float32 {
		if t, ok := get(name + ".bias"); ok {
			return floats(t, []int{n})
		}
		return nil
	}
	for i := range m.Base.Layers {
		s := m.Base.Arch.Conv(i)
		m.Base.Layers[i] = ConvParams{Kernel: kernel(s.Name, []int{3, 3, s.Cin, s.Cout}), Bias: bias(s.Name, s.Cout)}
	}
	// The head's dense shapes are read from the file; Check verifies the chain.
	for i := 0; ; i++ {
		name := fmt.Sprintf("head.dense%d", i)
		t, ok := f.Tensor(name + ".kernel")
		if !ok {
			break
		}
		if len(t.Shape) != 2 {
			problems = append(problems, fmt.Sprintf("%s.kernel: shape %v, want [in out]", name, t.Shape))
			break
		}
		d := DenseParams{In: t.Shape[0], Out: t.Shape[1]}
		d.Kernel = kernel(name, t.Shape)
		d.Bias = bias(name, d.Out)
		m.Head.Dense = append(m.Head.Dense, d)
	}
	var extra []string
	for _, t := range f.Tensors {
		if !used[t.Name] {
			extra = append(extra, t.Name+": unexpected tensor")
		}
	}
	sort.Strings(extra)
	problems = append(problems, extra...)
	if len(problems) > 0 {
		return nil, &ShapeError{Problems: problems}
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	return m, nil
}
