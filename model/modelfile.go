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
//	          base_layers "7" (format_version "2" only: the base is cut
//	          after that many conv layers and stores only those),
//	          classes "[\"cat\",\"dog\"]" (a JSON array), preprocess "caffe",
//	          weights_dtype "int8", description (optional, one line for
//	          users: what pictures the model knows), provenance.<key>
//	          (free-form: dataset, accuracy, date, command, ...).
//
// Optional out-of-distribution statistics (OOD, ood.go); files without them
// load with OOD nil and no OOD judgement:
//
//	tensors   ood.block1_conv2.class_means  [classes C]  F32  class means of the pooled activation
//	          ood.block1_conv2.precision    [C C]        F32  inverse shrunk shared covariance
//	          ... one pair per layer of ood.layers ...
//	metadata  ood.method "mahalanobis", ood.layers "block1_conv2,block2_conv2,..."
//	          (conv layers, ascending; their activation after pooling),
//	          ood.scales "12.5,30.1,..." (per layer: the validation median
//	          distance), ood.threshold (score above which an image is
//	          flagged), ood.quantile (the validation quantile it was taken at).
//
// int8 is symmetric per output channel (the last axis): w ≈ q·scale with
// scale = max|w|/127, via kernels.QuantizeInt8/DequantizeInt8.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"strconv"

	"vggo/internal/atomicfile"
	"vggo/kernels"
	"vggo/model/safetensors"
)

// ModelFormatVersion is the newest version of the vggo model file this code
// reads and writes. Version 2 adds base_layers (a base cut after fewer than
// 13 conv layers, Arch.Layers); a file with the whole base is still written
// as version 1, so earlier readers keep reading it, while they refuse a cut
// one as too new instead of missing its absent layers.
const ModelFormatVersion = 2

// formatVersion is the version a file of m is written as: the oldest that
// can describe it.
func formatVersion(m *Model) int {
	if m.Base.Arch.Depth() < ConvLayers {
		return 2
	}
	return 1
}

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
	OOD  *OOD // out-of-distribution statistics; nil in files written without them
}

// Check verifies the model: its description first (Info.Validate, whose
// error it returns as is), then that the description matches the weights,
// every shape (the conv base against the architecture, the head's kind and
// layer count, the dense dimensions chaining from the conv base to the
// class count) and that no weight is NaN or infinite. All problems of the
// weights are reported in one *ShapeError.
func (m *Model) Check() error {
	return m.check(nil)
}

// check is Check for a model whose conv layers may be cut to the output
// channels cut gives (ConvBase.check).
func (m *Model) check(cut channelCut) error {
	in := m.Info
	if err := in.Validate(); err != nil {
		return err
	}
	var p []string
	if m.Base.Arch.WidthDiv != in.WidthDiv {
		p = append(p, fmt.Sprintf("conv base width divisor %d differs from Info.WidthDiv %d", m.Base.Arch.WidthDiv, in.WidthDiv))
	}
	if m.Base.Arch.Depth() != in.ModelArch().Depth() {
		p = append(p, fmt.Sprintf("conv base uses %d conv layers, Info.BaseLayers says %d", m.Base.Arch.Depth(), in.ModelArch().Depth()))
	}
	if in.Head != m.Head.Kind {
		p = append(p, fmt.Sprintf("Info.Head %q differs from Head.Kind %q", in.Head, m.Head.Kind))
	}
	if len(p) == 0 {
		if err := m.Base.check(cut); err != nil {
			p = append(p, err.(*ShapeError).Problems...)
		}
		// Head.Kind equals Info.Head here, which Validate accepted.
		if want := headDenseLayers[m.Head.Kind]; len(m.Head.Dense) != want {
			p = append(p, fmt.Sprintf("head %q has %d dense layers, want %d", m.Head.Kind, len(m.Head.Dense), want))
		}
	}
	if len(p) == 0 {
		if m.OOD != nil {
			p = append(p, m.OOD.check(len(in.Classes), m.Base.Arch)...)
		}
		prev := m.Base.Arch.Channels()
		if m.Head.Kind == HeadSeed {
			side := m.Base.Arch.OutputSide(in.InputSize)
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
	for i := range m.Base.Arch.Depth() {
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
				safetensors.FromFloat32s(w.name+".kernel_scale", []int{cout}, scales))
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
			tensors = append(tensors, safetensors.FromFloat32s(w.name+".kernel", w.shape, k))
		default:
			return nil, nil, fmt.Errorf("unknown weight dtype %q, want int8, float16 or float32", dtype)
		}
		tensors = append(tensors, safetensors.FromFloat32s(w.name+".bias", []int{cout}, *w.bias))
	}
	classes, _ := json.Marshal(m.Info.Classes)
	md := map[string]string{
		metaFormat:        formatName,
		metaFormatVersion: strconv.Itoa(formatVersion(m)),
		metaArch:          m.Info.Arch,
		metaInputSize:     strconv.Itoa(m.Info.InputSize),
		metaWidthDiv:      strconv.Itoa(m.Info.WidthDiv),
		metaHead:          m.Info.Head,
		metaClasses:       string(classes),
		metaPreprocess:    m.Info.Preprocess,
		metaDType:         dtype,
	}
	if d := m.Base.Arch.Depth(); d < ConvLayers {
		md[metaBaseLayers] = strconv.Itoa(d)
	}
	if m.Info.Description != "" {
		md[metaDescription] = m.Info.Description
	}
	if m.Info.FlipAverage {
		md[metaFlipAverage] = "true"
	}
	for k, v := range m.Info.Provenance {
		md[metaProvenance+k] = v
	}
	if m.OOD != nil {
		tensors = append(tensors, m.OOD.tensors(m.Base.Arch)...)
		maps.Copy(md, m.OOD.metadata(m.Base.Arch))
	}
	return tensors, md, nil
}

// WriteModel writes m as a vggo model file to w (see WriteModelFile), for
// callers with no file system: the browser's teach page builds its model
// file in memory.
func WriteModel(w io.Writer, m *Model, dtype string) error {
	tensors, md, err := encodeModel(m, dtype)
	if err != nil {
		return err
	}
	return safetensors.Write(w, tensors, md)
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
