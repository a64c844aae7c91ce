package nn

import (
	"slices"
	"strings"
	"testing"

	"vggo/model"
)

// TestExportInvertsInitAndLoadHead: Export gives back the base's frozen
// layers, the trained conv layers and a head that LoadHead takes back into
// identical parameters, all as copies.
func TestExportInvertsInitAndLoadHead(t *testing.T) {
	spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: 11, Head: model.HeadGAP, Hidden: []int{16}, Classes: 3}
	base := &model.ConvBase{Arch: spec.Arch}
	for i := range spec.Boundary {
		base.Layers[i].Bias = []float32{float32(i)} // a marker: Export must keep the frozen layers
	}
	p := spec.InitParams(nil, 1)
	conv, head := spec.Export(p, base)
	for i := range spec.Boundary {
		if !slices.Equal(conv.Layers[i].Bias, base.Layers[i].Bias) {
			t.Errorf("frozen conv layer %d is not the base's", i)
		}
	}
	for l, i := spec.Boundary, 0; l < model.ConvLayers; l, i = l+1, i+2 {
		if !slices.Equal(conv.Layers[l].Kernel, p.Tensors[i].Float32s()) || !slices.Equal(conv.Layers[l].Bias, p.Tensors[i+1].Float32s()) {
			t.Errorf("trained conv layer %d is not %s", l, p.Names[i])
		}
	}
	q := spec.InitParams(nil, 2)
	if err := spec.LoadHead(q, &head); err != nil {
		t.Fatal(err)
	}
	first := 2 * (model.ConvLayers - spec.Boundary)
	for i := first; i < len(p.Tensors); i++ {
		if !slices.Equal(q.Tensors[i].Float32s(), p.Tensors[i].Float32s()) {
			t.Errorf("%s did not survive Export and LoadHead", p.Names[i])
		}
	}
	p.Tensors[first].Float32s()[0]++
	if head.Dense[0].Kernel[0] == p.Tensors[first].Float32s()[0] {
		t.Error("the exported head shares its values with the parameters")
	}
}

// TestParamsSnapshotAndRestore: a Clone is independent of its source;
// CopyFrom, and Save then Restore, copy every value; Restore names a
// missing tensor.
func TestParamsSnapshotAndRestore(t *testing.T) {
	spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: 12, Head: model.HeadLinear, Classes: 2}
	p := spec.InitParams(nil, 1)
	best := p.Clone()
	p.Tensors[0].Float32s()[0]++
	if best.Tensors[0].Float32s()[0] == p.Tensors[0].Float32s()[0] {
		t.Fatal("the clone shares its values with the source")
	}
	best.CopyFrom(p)
	saved := map[string][]float32{}
	best.Save(saved, "best/")
	q := spec.InitParams(nil, 2)
	if err := q.Restore(saved, "best/"); err != nil {
		t.Fatal(err)
	}
	for i := range p.Tensors {
		if !slices.Equal(q.Tensors[i].Float32s(), p.Tensors[i].Float32s()) {
			t.Errorf("%s differs after CopyFrom, Save and Restore", p.Names[i])
		}
	}
	delete(saved, "best/dense1/bias")
	if err := q.Restore(saved, "best/"); err == nil || !strings.Contains(err.Error(), "best/dense1/bias") {
		t.Errorf("restore without best/dense1/bias: %v", err)
	}
}

// TestSolverMomentsRoundTrip: RestoreMoments gives a new solver the step
// count and both Adam moments of one that SaveMoments saved, and refuses a
// missing second moment.
func TestSolverMomentsRoundTrip(t *testing.T) {
	spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: model.ConvLayers, Head: model.HeadLinear, Classes: 2}
	p := spec.InitParams(nil, 1)
	s, _ := NewSolver("adam", 0.01)
	s.Iter = 5
	for i, tn := range p.Tensors {
		n := len(tn.Float32s())
		s.Slots = append(s.Slots, make([]float32, n))
		s.Slots2 = append(s.Slots2, make([]float32, n))
		s.Slots[i][0], s.Slots2[i][0] = float32(i+1), float32(-i-1)
	}
	saved := map[string][]float32{}
	s.SaveMoments(saved)
	r, _ := NewSolver("adam", 0.01)
	if err := r.RestoreMoments(saved, s.Iter, p); err != nil {
		t.Fatal(err)
	}
	for i := range s.Slots {
		if r.Iter != s.Iter || !slices.Equal(r.Slots[i], s.Slots[i]) || !slices.Equal(r.Slots2[i], s.Slots2[i]) {
			t.Errorf("moments of parameter %d (or the step count) differ after the round trip", i)
		}
	}
	delete(saved, "v/001")
	if err := r.RestoreMoments(saved, s.Iter, p); err == nil || !strings.Contains(err.Error(), "optimizer state 1") {
		t.Errorf("restore without v/001: %v", err)
	}
}
