package model

// The vggo model file is one safetensors file (docs/design.md, "The model file"),
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
//	          weights_dtype "int8", description (optional, one line for
//	          users: what pictures the model knows), provenance.<key>
//	          (free-form: dataset, accuracy, date, command, ...).
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
	"hash"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"

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

// Model is a complete classifier: VGG16's conv base plus a head.
type Model struct {
	Info Info
	Base ConvBase
	Head Head
}

// Check verifies the model: its description first (Info.Validate, whose
// error it returns as is), then that the description matches the weights,
// every shape (the conv base against the architecture, the head's kind and
// layer count, the dense dimensions chaining from the conv base to the
// class count) and that no weight is NaN or infinite. All problems of the
// weights are reported in one *ShapeError.
func (m *Model) Check() error {
	in := m.Info
	if err := in.Validate(); err != nil {
		return err
	}
	var p []string
	if m.Base.Arch.WidthDiv != in.WidthDiv {
		p = append(p, fmt.Sprintf("conv base width divisor %d differs from Info.WidthDiv %d", m.Base.Arch.WidthDiv, in.WidthDiv))
	}
	if in.Head != m.Head.Kind {
		p = append(p, fmt.Sprintf("Info.Head %q differs from Head.Kind %q", in.Head, m.Head.Kind))
	}
	if len(p) == 0 {
		if err := m.Base.Check(); err != nil {
			p = append(p, err.(*ShapeError).Problems...)
		}
		// Head.Kind equals Info.Head here, which Validate accepted.
		if want := headDenseLayers[m.Head.Kind]; len(m.Head.Dense) != want {
			p = append(p, fmt.Sprintf("head %q has %d dense layers, want %d", m.Head.Kind, len(m.Head.Dense), want))
		}
	}
	if len(p) == 0 {
		prev := m.Base.Arch.Channels()
		if m.Head.Kind == HeadSeed {
			side := in.InputSize / InputMultiple
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
	if m.Info.Description != "" {
		md[metaDescription] = m.Info.Description
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
// Info.FormatVersion, Bytes and SHA256 are ignored, and so is Info.DType
// (dtype decides) once Check has accepted it.
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

// ReadModel reads and validates a vggo model file of size bytes from r;
// name is used in error messages. It reads r once, start to end, and
// hashes the bytes as they come for Info.SHA256. It uses no
// operating-system services, so the browser client calls it on downloaded
// bytes.
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

// FileSHA256 returns the lower-case hex SHA-256 of a whole file: the hash
// ReadModelFile puts in Info.SHA256, for callers that read only the header
// (ReadInfo) or nothing at all.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashingReaderAt hashes what is read through it, as long as the reads run
// in order from offset 0 without gaps, as safetensors.Read's do (length,
// header, data), so a model file is hashed in the pass that reads it.
type hashingReaderAt struct {
	r    io.ReaderAt
	h    hash.Hash
	next int64 // offset up to which h has seen the file; -1 once reads skipped
}

func (hr *hashingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := hr.r.ReadAt(p, off)
	if off != hr.next {
		hr.next = -1
	} else if hr.next >= 0 {
		hr.h.Write(p[:n])
		hr.next += int64(n)
	}
	return n, err
}

// sum returns the hex SHA-256 of the first size bytes, or an error if the
// reads did not cover exactly them in order.
func (hr *hashingReaderAt) sum(size int64) (string, error) {
	if hr.next != size {
		return "", fmt.Errorf("internal error: the model file was not read in one sequential pass, so it cannot be hashed")
	}
	return hex.EncodeToString(hr.h.Sum(nil)), nil
}

func readModel(r io.ReaderAt, size int64) (*Model, error) {
	hr := &hashingReaderAt{r: r, h: sha256.New()}
	f, err := safetensors.Read(hr, size)
	if err != nil {
		return nil, err
	}
	info, err := parseInfo(f.Metadata)
	if err != nil {
		return nil, err
	}
	info.Bytes = size
	if info.SHA256, err = hr.sum(size); err != nil {
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
