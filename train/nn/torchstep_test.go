package nn

import (
	"math"
	"os"
	"testing"

	"vggo/model"
	"vggo/model/safetensors"
)

// TestTrainStepMatchesPyTorch runs one training step (forward, loss, every
// gradient, an SGD update) of the network testdata/make_train_step.py
// describes, on its weights and batch, and compares with its float64
// PyTorch reference. Tolerance: 1e-4 of each tensor's largest magnitude
// (the Winograd layers' float32 error is about 1e-5 of it).
func TestTrainStepMatchesPyTorch(t *testing.T) {
	const path = "../../testdata/trainstep/step.safetensors"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	file, err := safetensors.Read(f, st.Size())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	get := func(name string) []float32 {
		t.Helper()
		ts, ok := file.Tensor(name)
		if !ok {
			t.Fatalf("%s: no tensor %q", path, name)
		}
		v, err := ts.Float32s()
		if err != nil {
			t.Fatalf("%s: %s: %v", path, name, err)
		}
		return v
	}

	spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: 7, Head: model.HeadGAP, Hidden: []int{8}, Classes: 3}
	const batch = 8
	p := spec.InitParams(nil, 1)
	for i, name := range p.Names {
		w := get(name)
		if len(w) != len(p.Tensors[i].Float32s()) {
			t.Fatalf("%s: %s has %d values, the spec %d", path, name, len(w), len(p.Tensors[i].Float32s()))
		}
		copy(p.Tensors[i].Float32s(), w)
	}
	before := p.Clone()
	g, err := spec.Build(p, batch, true)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := g.Step(get("x"), get("targets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := get("loss")[0]; math.Abs(float64(loss-want)) > 1e-5*math.Abs(float64(want)) {
		t.Errorf("loss %g, PyTorch %g", loss, want)
	}
	check := func(what string, got []float32, want []float64) {
		t.Helper()
		var d, scale float64
		for i, w := range want {
			d = max(d, math.Abs(float64(got[i])-w))
			scale = max(scale, math.Abs(w))
		}
		if d > 1e-4*scale {
			t.Errorf("%s: max |diff| %g, %g of max |PyTorch| %g", what, d, d/scale, scale)
		}
	}
	const lr = 0.1
	updated := make([][]float64, len(p.Tensors)) // SGD's first step: w − lr·g
	for i, vg := range g.ValueGrads() {
		gv, err := vg.Grad()
		if err != nil {
			t.Fatal(err)
		}
		want := get("grad/" + p.Names[i])
		check("gradient of "+p.Names[i], f32(gv), to64(want))
		updated[i] = make([]float64, len(want))
		for j, w := range before.Tensors[i].Float32s() {
			updated[i][j] = float64(w) - lr*float64(want[j])
		}
	}
	s, _ := NewSolver("sgd", lr)
	if err := s.Step(g.ValueGrads()); err != nil {
		t.Fatal(err)
	}
	for i, name := range p.Names {
		check("updated "+name, p.Tensors[i].Float32s(), updated[i])
	}
}

func to64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}
