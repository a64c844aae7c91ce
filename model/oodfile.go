package model

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"vggo/internal/atomicfile"
	"vggo/model/safetensors"
)

// The model file's OOD entries (the format comment in modelfile.go).
const (
	oodTensorPrefix  = "ood."
	oodMeans         = ".class_means"
	oodPrecision     = ".precision"
	metaOODMethod    = "ood.method"
	metaOODLayers    = "ood.layers"
	metaOODScales    = "ood.scales"
	metaOODThreshold = "ood.threshold"
	metaOODQuantile  = "ood.quantile"
	oodMethod        = "mahalanobis"
)

// tensors are the OOD statistics as model file tensors; arch names the layers.
func (o *OOD) tensors(arch Arch) []safetensors.Tensor {
	var out []safetensors.Tensor
	for _, L := range o.Layers {
		name := oodTensorPrefix + arch.Conv(L.Layer).Name
		out = append(out,
			safetensors.FromFloat32s(name+oodMeans, []int{L.Classes, L.Channels}, L.Means),
			safetensors.FromFloat32s(name+oodPrecision, []int{L.Channels, L.Channels}, L.Precision))
	}
	return out
}

// metadata are the OOD entries of the model file's __metadata__.
func (o *OOD) metadata(arch Arch) map[string]string {
	var names, scales []string
	for _, L := range o.Layers {
		names = append(names, arch.Conv(L.Layer).Name)
		scales = append(scales, strconv.FormatFloat(L.Scale, 'g', -1, 64))
	}
	return map[string]string{
		metaOODMethod:    oodMethod,
		metaOODLayers:    strings.Join(names, ","),
		metaOODScales:    strings.Join(scales, ","),
		metaOODThreshold: strconv.FormatFloat(o.Threshold, 'g', -1, 64),
		metaOODQuantile:  strconv.FormatFloat(o.Quantile, 'g', -1, 64),
	}
}

// readOOD reads the optional OOD statistics of a model file: nil when its
// metadata has no ood.method. get and floats are readModel's tensor
// readers, which record missing tensors and wrong shapes or dtypes as
// problems (and return nil then); Model.Check checks the rest.
func readOOD(f *safetensors.File, arch Arch, get func(string) (safetensors.Tensor, bool), floats func(safetensors.Tensor, []int) []float32) (*OOD, error) {
	md := f.Metadata
	method, ok := md[metaOODMethod]
	if !ok {
		return nil, nil
	}
	if method != oodMethod {
		return nil, fmt.Errorf("metadata %s %q: want %q", metaOODMethod, method, oodMethod)
	}
	o := &OOD{}
	names, scales := strings.Split(md[metaOODLayers], ","), strings.Split(md[metaOODScales], ",")
	if len(names) != len(scales) {
		return nil, fmt.Errorf("metadata %s names %d layers but %s gives %d scales", metaOODLayers, len(names), metaOODScales, len(scales))
	}
	threshold, err1 := strconv.ParseFloat(md[metaOODThreshold], 64)
	quantile, err2 := strconv.ParseFloat(md[metaOODQuantile], 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("metadata %s %q and %s %q: want numbers", metaOODThreshold, md[metaOODThreshold], metaOODQuantile, md[metaOODQuantile])
	}
	o.Threshold, o.Quantile = threshold, quantile
	for i, name := range names {
		layer := slices.IndexFunc(VGG16Convs[:], func(s ConvSpec) bool { return s.Name == name })
		scale, err := strconv.ParseFloat(scales[i], 64)
		if layer < 0 || err != nil {
			return nil, fmt.Errorf("metadata %s: %q is not a conv layer, or its scale %q is not a number", metaOODLayers, name, scales[i])
		}
		means, ok1 := get(oodTensorPrefix + name + oodMeans)
		prec, ok2 := get(oodTensorPrefix + name + oodPrecision)
		if !ok1 || !ok2 {
			return nil, nil // named as missing by get
		}
		c := arch.Conv(layer).Cout
		L := &OODLayer{Layer: layer, Channels: c, Scale: scale}
		if len(means.Shape) == 2 {
			L.Classes = means.Shape[0] // else floats names the wrong shape
		}
		L.Means = floats(means, []int{L.Classes, c})
		L.Precision = floats(prec, []int{c, c})
		if L.Means == nil || L.Precision == nil {
			return nil, nil // the problem is recorded
		}
		L.derive()
		o.Layers = append(o.Layers, L)
	}
	return o, nil
}

// WriteOOD stores o in the model file at path, replacing any OOD
// statistics it had. Every other tensor and metadata entry is copied byte
// for byte, so the weights stay exactly the trained ones. The write is
// atomic, and only a result that reads back as a valid model (ReadModel)
// is written.
func WriteOOD(path string, o *OOD) error {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return err
	}
	info, err := parseInfo(f.Metadata)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	arch := info.ModelArch()
	var tensors []safetensors.Tensor
	for _, t := range f.Tensors {
		if !strings.HasPrefix(t.Name, oodTensorPrefix) {
			tensors = append(tensors, t)
		}
	}
	md := maps.Clone(f.Metadata)
	maps.Copy(md, o.metadata(arch))
	tensors = append(tensors, o.tensors(arch)...)
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, tensors, md); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := ReadModel(bytes.NewReader(buf.Bytes()), int64(buf.Len()), path); err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}
