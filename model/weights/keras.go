package weights

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"vggo/model"
	"vggo/model/hdf5"
)

// KerasLayout names the three Keras weight-file layouts LoadKerasH5 reads.
type KerasLayout string

// Keras weight-file layouts.
const (
	// KerasLayout1 is Keras 1's save_weights, the layout of the published
	// vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5: root attribute
	// layer_names, one group per layer with attribute weight_names, and
	// datasets "block1_conv1_W_1:0" / "block1_conv1_b_1:0" (or without "_1").
	KerasLayout1 KerasLayout = "keras1"
	// KerasLayout2 is tf.keras 2's save_weights: the same attributes, with
	// datasets "block1_conv1/block1_conv1/kernel:0" and ".../bias:0".
	KerasLayout2 KerasLayout = "keras2"
	// KerasLayout3 is Keras 3's .weights.h5: "layers/conv2d/vars/0" (kernel)
	// and "vars/1" (bias), then conv2d_1, conv2d_2, ... in model order.
	KerasLayout3 KerasLayout = "keras3"
)

// LoadKerasH5 reads the 13 VGG16 conv layers from a Keras .h5 weights file
// (include_top=False "notop" files, or full files whose top is ignored) in
// any of the three Keras layouts, and checks them against arch. Every
// missing tensor and shape or dtype mismatch is reported in one
// *model.ShapeError with File set; weights that are NaN or infinite are reported
// per layer with their count. Kernels come out HWIO, as Keras stores them.
func LoadKerasH5(path string, arch model.Arch) (*model.ConvBase, error) {
	base, _, err := LoadKerasH5Layout(path, arch)
	return base, err
}

// LoadKerasH5Layout is LoadKerasH5 that also says which layout it found.
func LoadKerasH5Layout(path string, arch model.Arch) (*model.ConvBase, KerasLayout, error) {
	f, err := hdf5.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("reading Keras weights: %w", err)
	}
	defer f.Close()
	tensors, layout, err := findKerasTensors(f)
	if err != nil {
		return nil, layout, err
	}
	base, err := readKerasTensors(f, tensors, arch)
	return base, layout, err
}

// kerasTensor locates one conv layer's kernel and bias datasets; a nil
// dataset is missing, with the reason in problem.
type kerasTensor struct {
	kernel, bias *hdf5.Dataset
	problems     []string
}

// findKerasTensors detects the layout and locates the 13 conv layers'
// datasets. Structural problems come back in the per-layer problems (so
// they can all be reported together); an error means the file is not a
// readable Keras weights file at all.
func findKerasTensors(f *hdf5.File) (*[model.ConvLayers]kerasTensor, KerasLayout, error) {
	root := f.Root()
	if g, err := legacyRoot(root); err != nil {
		return nil, "", err
	} else if g != nil {
		return findLegacy(f, g)
	}
	layers, err := root.Group("layers")
	if err == nil {
		t, err := findKeras3(f, layers)
		return t, KerasLayout3, err
	}
	if !errors.Is(err, hdf5.ErrNotFound) {
		return nil, "", err
	}
	names, _ := root.Names()
	return nil, "", fmt.Errorf("%s: not a Keras weights file: no layer_names attribute (Keras 1/2) and no layers group (Keras 3); the root group holds %q", f.Name(), names)
}

// legacyRoot returns the group holding layer_names: the root for
// save_weights files, "model_weights" for whole-model files, or nil.
func legacyRoot(root *hdf5.Group) (*hdf5.Group, error) {
	if _, err := root.Attr("layer_names"); err == nil {
		return root, nil
	} else if !errors.Is(err, hdf5.ErrNotFound) {
		return nil, err
	}
	g, err := root.Group("model_weights")
	if err != nil {
		if errors.Is(err, hdf5.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	if _, err := g.Attr("layer_names"); err != nil {
		if errors.Is(err, hdf5.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return g, nil
}

// kernelName matches Keras 1 kernel names (block1_conv1_W_1:0,
// block1_conv1_W:0) and Keras 2 ones (.../kernel:0); biasName likewise.
var (
	kernelName = regexp.MustCompile(`(^|/|_)(W|kernel)(_\d+)?(:\d+)?$`)
	biasName   = regexp.MustCompile(`(^|/|_)(b|bias)(_\d+)?(:\d+)?$`)
)

// findLegacy locates the conv datasets of a Keras 1 or 2 file through the
// layer_names and weight_names attributes, as Keras itself does.
func findLegacy(f *hdf5.File, g *hdf5.Group) (*[model.ConvLayers]kerasTensor, KerasLayout, error) {
	a, err := g.Attr("layer_names")
	if err != nil {
		return nil, "", err
	}
	layerNames, err := a.Strings()
	if err != nil {
		return nil, "", err
	}
	listed := map[string]bool{}
	for _, n := range layerNames {
		listed[n] = true
	}
	layout := KerasLayout1
	var out [model.ConvLayers]kerasTensor
	for i, spec := range model.VGG16Convs {
		t := &out[i]
		if !listed[spec.Name] {
			t.problems = append(t.problems, fmt.Sprintf("%s: layer missing from layer_names", spec.Name))
			continue
		}
		lg, err := g.Group(spec.Name)
		if err != nil {
			if !errors.Is(err, hdf5.ErrNotFound) {
				return nil, "", err
			}
			t.problems = append(t.problems, fmt.Sprintf("%s: listed in layer_names but the file has no group %s", spec.Name, spec.Name))
			continue
		}
		wa, err := lg.Attr("weight_names")
		if err != nil {
			if !errors.Is(err, hdf5.ErrNotFound) {
				return nil, "", err
			}
			t.problems = append(t.problems, fmt.Sprintf("%s: group has no weight_names attribute", spec.Name))
			continue
		}
		weightNames, err := wa.Strings()
		if err != nil {
			return nil, "", err
		}
		if len(weightNames) != 2 {
			t.problems = append(t.problems, fmt.Sprintf("%s: %d weights %q, want 2 (kernel and bias)", spec.Name, len(weightNames), weightNames))
			continue
		}
		// Keras loads by position (kernel, bias); the names must agree.
		kn, bn := weightNames[0], weightNames[1]
		if !kernelName.MatchString(kn) || !biasName.MatchString(bn) {
			t.problems = append(t.problems, fmt.Sprintf("%s: weight names %q are not (kernel, bias)", spec.Name, weightNames))
			continue
		}
		if strings.Contains(kn, "kernel") {
			layout = KerasLayout2
		}
		for j, wn := range weightNames {
			d, err := lg.Dataset(wn)
			if err != nil {
				if !errors.Is(err, hdf5.ErrNotFound) {
					return nil, "", err
				}
				t.problems = append(t.problems, fmt.Sprintf("%s: weight %q listed in weight_names is missing", spec.Name, wn))
				continue
			}
			if j == 0 {
				t.kernel = d
			} else {
				t.bias = d
			}
		}
	}
	return &out, layout, nil
}

// keras3Conv matches Keras 3's auto-generated Conv2D keys: conv2d,
// conv2d_1, conv2d_2, ...
var keras3Conv = regexp.MustCompile(`^conv2d(?:_(\d+))?$`)

// findKeras3 locates the conv datasets of a Keras 3 .weights.h5 file: the
// groups layers/conv2d, conv2d_1, ... in numeric order (conv2d_10 after
// conv2d_9), each with vars/0 (kernel) and vars/1 (bias).
func findKeras3(f *hdf5.File, layers *hdf5.Group) (*[model.ConvLayers]kerasTensor, error) {
	names, err := layers.Names()
	if err != nil {
		return nil, err
	}
	type numbered struct {
		name string
		n    int
	}
	var convs []numbered
	for _, name := range names {
		m := keras3Conv.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		n := 0
		if m[1] != "" {
			if n, err = strconv.Atoi(m[1]); err != nil {
				continue
			}
		}
		convs = append(convs, numbered{name, n})
	}
	sort.Slice(convs, func(i, j int) bool { return convs[i].n < convs[j].n })
	if len(convs) != model.ConvLayers {
		list := make([]string, len(convs))
		for i, c := range convs {
			list[i] = c.name
		}
		return nil, &model.ShapeError{File: f.Name(), Problems: []string{fmt.Sprintf("Keras 3 file has %d conv2d layers %q under /layers, want VGG16's %d", len(convs), list, model.ConvLayers)}}
	}
	var out [model.ConvLayers]kerasTensor
	for i, c := range convs {
		t := &out[i]
		spec := model.VGG16Convs[i]
		vars, err := layers.Group(c.name + "/vars")
		if err != nil {
			if !errors.Is(err, hdf5.ErrNotFound) {
				return nil, err
			}
			t.problems = append(t.problems, fmt.Sprintf("%s (layers/%s): no vars group", spec.Name, c.name))
			continue
		}
		vn, err := vars.Names()
		if err != nil {
			return nil, err
		}
		if len(vn) != 2 {
			t.problems = append(t.problems, fmt.Sprintf("%s (layers/%s): %d variables %q, want 2 (0: kernel, 1: bias)", spec.Name, c.name, len(vn), vn))
		}
		for j, key := range []string{"0", "1"} {
			d, err := vars.Dataset(key)
			if err != nil {
				if !errors.Is(err, hdf5.ErrNotFound) {
					return nil, err
				}
				t.problems = append(t.problems, fmt.Sprintf("%s (layers/%s): variable vars/%s is missing", spec.Name, c.name, key))
				continue
			}
			if j == 0 {
				t.kernel = d
			} else {
				t.bias = d
			}
		}
	}
	return &out, nil
}

// readKerasTensors checks every located dataset's shape and dtype against
// arch, reports all problems at once, then reads the data and checks it is
// finite.
func readKerasTensors(f *hdf5.File, tensors *[model.ConvLayers]kerasTensor, arch model.Arch) (*model.ConvBase, error) {
	var problems []string
	for i := range tensors {
		t := &tensors[i]
		s := arch.Conv(i)
		problems = append(problems, t.problems...)
		if t.kernel != nil {
			problems = append(problems, checkTensor(s.Name+" kernel", t.kernel, []int{3, 3, s.Cin, s.Cout})...)
		}
		if t.bias != nil {
			problems = append(problems, checkTensor(s.Name+" bias", t.bias, []int{s.Cout})...)
		}
	}
	if len(problems) > 0 {
		return nil, &model.ShapeError{File: f.Name(), Problems: problems}
	}
	base := &model.ConvBase{Arch: arch}
	var bad []string
	for i := range tensors {
		s := arch.Conv(i)
		p := &base.Layers[i]
		var err error
		if p.Kernel, err = tensors[i].kernel.Float32s(); err != nil {
			return nil, err
		}
		if p.Bias, err = tensors[i].bias.Float32s(); err != nil {
			return nil, err
		}
		bad = append(bad, nonFinite(s.Name+" kernel", p.Kernel)...)
		bad = append(bad, nonFinite(s.Name+" bias", p.Bias)...)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: non-finite weights:\n  - %s", f.Name(), strings.Join(bad, "\n  - "))
	}
	if err := base.Check(); err != nil {
		var se *model.ShapeError
		if errors.As(err, &se) {
			se.File = f.Name()
		}
		return nil, err
	}
	return base, nil
}

// checkTensor compares a dataset's dtype and shape with what VGG16 needs.
func checkTensor(what string, d *hdf5.Dataset, want []int) []string {
	var problems []string
	if !d.Type.IsFloat32() {
		problems = append(problems, fmt.Sprintf("%s (%s): dtype %s, want float32", what, d.Path(), d.Type))
	}
	if !slices.Equal(d.Shape, want) {
		p := fmt.Sprintf("%s (%s): shape %v, want %v", what, d.Path(), d.Shape, want)
		if len(want) == 4 && slices.Equal(d.Shape, []int{want[3], want[2], 3, 3}) {
			p += " (this is OIHW: a Theano/channels_first or PyTorch ordering; use the tf_dim_ordering file)"
		}
		problems = append(problems, p)
	}
	return problems
}

// nonFinite describes the NaN and infinite values in w, if any.
func nonFinite(what string, w []float32) []string {
	n := model.CountNonFinite(w)
	if n == 0 {
		return nil
	}
	nan := 0
	for _, v := range w {
		if v != v {
			nan++
		}
	}
	return []string{fmt.Sprintf("%s: %d NaN and %d infinite values out of %d", what, nan, n-nan, len(w))}
}
