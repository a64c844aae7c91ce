// Package weights reads VGG16's pretrained conv base from foreign weight
// files: Keras .h5 (HDF5), torchvision .pth (torch.save zip with pickle) and
// .safetensors with torchvision names. They are the trainer's business: the
// browser worker links only package model (forward pass and the vggo model
// file), so it carries no HDF5 or pickle code.
package weights

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"vggo/model"
	"vggo/model/safetensors"
)

// Load reads VGG16's conv base from a pretrained weight file,
// choosing the reader from the file's first bytes, not its name: the HDF5
// signature → Keras .h5, a zip → torch.save .pth, a little-endian header
// length followed by '{' → .safetensors.
func Load(path string, arch model.Arch) (*model.ConvBase, error) {
	base, _, err := LoadLayout(path, arch)
	return base, err
}

// Weight-file layouts LoadLayout names, for the trainer to tell its user
// what it read.
const (
	LayoutKeras1      = "Keras 1 .h5 (save_weights, the published notop file's layout)"
	LayoutKeras2      = "tf.keras 2 .h5 (save_weights)"
	LayoutKeras3      = "Keras 3 .weights.h5"
	LayoutTorchvision = "torchvision .pth (torch.save zip)"
	LayoutSafetensors = "safetensors with torchvision names"
)

var kerasLayoutNames = map[KerasLayout]string{KerasLayout1: LayoutKeras1, KerasLayout2: LayoutKeras2, KerasLayout3: LayoutKeras3}

// LoadLayout is Load that also names the layout it found (one of the
// Layout constants; "" when the format was not recognised).
func LoadLayout(path string, arch model.Arch) (*model.ConvBase, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", err
	}
	var head [9]byte
	n, err := f.ReadAt(head[:], 0)
	f.Close()
	if err != nil && err != io.EOF {
		return nil, "", fmt.Errorf("%s: %v", path, err)
	}
	switch b := head[:n]; {
	case bytes.HasPrefix(b, []byte("\x89HDF\r\n\x1a\n")):
		base, layout, err := LoadKerasH5Layout(path, arch)
		return base, kerasLayoutNames[layout], err
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		base, err := LoadTorch(path, arch)
		return base, LayoutTorchvision, err
	case len(b) == 9 && b[8] == '{':
		base, err := LoadSafetensors(path, arch)
		return base, LayoutSafetensors, err
	case bytes.HasPrefix(b, []byte{0x80, 0x02}):
		return nil, "", fmt.Errorf("%s: legacy (pre-1.6, non-zip) torch.save format is not supported; re-save it with a current PyTorch", path)
	}
	return nil, "", fmt.Errorf("%s: unknown weight file format (not HDF5, torch.save zip or safetensors)", path)
}

// GuessWidthDiv finds the width divisor a weight file was saved at, for a
// file that does not fit the divisor a run asked for: the first of 1, 2,
// 4, ..., 64 at which it loads. ok is false when none does (the file is
// damaged or another network, and the shape errors say more).
func GuessWidthDiv(path string) (div int, ok bool) {
	for d := 1; d <= model.VGG16Convs[0].Cout; d *= 2 {
		if _, err := Load(path, model.Arch{WidthDiv: d}); err == nil {
			return d, true
		}
	}
	return 0, false
}

// LoadSafetensors reads VGG16's conv base from a safetensors file with
// torchvision/timm names ("features.0.weight", OIHW; "module." prefixes
// are stripped). F32, F16, BF16 and F64 tensors are accepted and widened or
// narrowed to float32. Only the conv tensors are read from disk.
func LoadSafetensors(path string, arch model.Arch) (*model.ConvBase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h, err := safetensors.ReadHeader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	tensors := map[string]rawTensor{}
	for _, t := range h.Tensors {
		t := t
		tensors[t.Name] = rawTensor{dtype: t.DType, shape: t.Shape, read: func() ([]float32, error) {
			raw, err := h.ReadData(f, t)
			if err != nil {
				return nil, err
			}
			out := make([]float32, t.NumElements())
			return out, safetensors.ToFloat32(t.DType, raw, out)
		}}
	}
	return convBaseFromTorchNames(path, arch, tensors)
}

// rawTensor is a named tensor of a weight file whose values are read on
// demand, so that a file's classifier (most of a full VGG16) is never read.
type rawTensor struct {
	dtype safetensors.DType
	shape []int
	read  func() ([]float32, error)
}

// convBaseFromTorchNames maps torchvision names (features.N.weight OIHW,
// features.N.bias) onto the 13 conv layers, checks names, shapes and dtypes
// first (all problems in one *model.ShapeError), then reads the values, rejects
// NaN/Inf and transposes kernels to HWIO.
func convBaseFromTorchNames(file string, arch model.Arch, tensors map[string]rawTensor) (*model.ConvBase, error) {
	// DataParallel wraps every name in "module.".
	stripped := map[string]rawTensor{}
	for name, t := range tensors {
		stripped[strings.TrimPrefix(name, "module.")] = t
	}
	tensors = stripped

	var problems []string
	expected := map[string]bool{}
	for i := range model.VGG16Convs {
		s := arch.Conv(i)
		for _, part := range []struct {
			suffix, what string
			shape        []int
		}{
			{"weight", "kernel", []int{s.Cout, s.Cin, 3, 3}},
			{"bias", "bias", []int{s.Cout}},
		} {
			key := fmt.Sprintf("features.%d.%s", model.TorchFeatureIndex[i], part.suffix)
			expected[key] = true
			t, ok := tensors[key]
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s (%s %s): missing", key, s.Name, part.what))
			case !slices.Equal(t.shape, part.shape):
				problems = append(problems, fmt.Sprintf("%s (%s %s): shape %v, want %v", key, s.Name, part.what, t.shape, part.shape))
			case !t.dtype.IsFloat():
				problems = append(problems, fmt.Sprintf("%s (%s %s): dtype %s, want F32, F16 or BF16", key, s.Name, part.what, t.dtype))
			}
		}
	}
	var names, features, others []string
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case strings.HasPrefix(name, "features."):
			features = append(features, name)
			if !expected[name] {
				problems = append(problems, fmt.Sprintf("%s: unexpected tensor in the conv base (batch-norm VGG16 or another network?)", name))
			}
		default:
			others = append(others, name)
		}
	}
	if len(features) == 0 {
		if len(others) > 5 {
			others = append(others[:5], "...")
		}
		problems = []string{fmt.Sprintf("no features.* tensors (not a torchvision VGG16 state dict); found %d tensors: %s", len(tensors), strings.Join(others, ", "))}
	}
	if len(problems) > 0 {
		return nil, &model.ShapeError{File: file, Problems: problems}
	}

	base := &model.ConvBase{Arch: arch}
	var bad []string
	for i := range model.VGG16Convs {
		s := arch.Conv(i)
		wkey := fmt.Sprintf("features.%d.weight", model.TorchFeatureIndex[i])
		bkey := fmt.Sprintf("features.%d.bias", model.TorchFeatureIndex[i])
		w, err := tensors[wkey].read()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, wkey, err)
		}
		b, err := tensors[bkey].read()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, bkey, err)
		}
		if n := model.CountNonFinite(w); n > 0 {
			bad = append(bad, fmt.Sprintf("%s (%s kernel): %d NaN/Inf values", wkey, s.Name, n))
		}
		if n := model.CountNonFinite(b); n > 0 {
			bad = append(bad, fmt.Sprintf("%s (%s bias): %d NaN/Inf values", bkey, s.Name, n))
		}
		base.Layers[i] = model.ConvParams{Kernel: oihwToHWIO(w, s.Cout, s.Cin), Bias: b}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: non-finite weights:\n  - %s", file, strings.Join(bad, "\n  - "))
	}
	return base, nil
}

// oihwToHWIO turns PyTorch's [Cout][Cin][3][3] kernel into [3][3][Cin][Cout].
// Seen as a matrix, it transposes [Cout][Cin·9] into [9·Cin][Cout] (with
// the 9 taps moved outermost); it works on 16 output channels at a time so
// that the 16 source rows stream through the cache while each destination
// run of 16 is written contiguously.
func oihwToHWIO(w []float32, cout, cin int) []float32 {
	const tile = 16
	out := make([]float32, len(w))
	row := cin * 9
	for o0 := 0; o0 < cout; o0 += tile {
		o1 := min(o0+tile, cout)
		for i := 0; i < cin; i++ {
			for k := 0; k < 9; k++ {
				dst := out[(k*cin+i)*cout+o0 : (k*cin+i)*cout+o1]
				src := i*9 + k
				for o := range dst {
					dst[o] = w[(o0+o)*row+src]
				}
			}
		}
	}
	return out
}
