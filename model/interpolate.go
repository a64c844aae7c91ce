package model

import (
	"fmt"
	"maps"
	"slices"
)

// Interpolate returns the model whose every weight is (1-t)·a + t·b: with
// t between 0 and 1, a point on the line between two models fine-tuned
// from the same start ("weight averaging", or a two-model soup), which
// often generalises better than either end. Its description (Info) and
// head kind are b's; it has no OOD statistics, since those depend on the
// weights (train ood computes them again). a and b must describe the same
// network: architecture, width, cut, input size, head and the number of
// classes; every shape is checked, and the result is checked as Check
// checks a model read from a file.
func Interpolate(a, b *Model, t float64) (*Model, error) {
	if !(t >= 0 && t <= 1) {
		return nil, fmt.Errorf("interpolate: t = %g, want 0 <= t <= 1", t)
	}
	ai, bi := a.Info, b.Info
	if ai.Arch != bi.Arch || ai.WidthDiv != bi.WidthDiv || ai.ModelArch().Depth() != bi.ModelArch().Depth() ||
		ai.InputSize != bi.InputSize || ai.Head != bi.Head || len(ai.Classes) != len(bi.Classes) || ai.Preprocess != bi.Preprocess {
		return nil, fmt.Errorf("interpolate: the models differ: %s width/%d, %d conv layers, %dx%d, head %s, %d classes, %s preprocessing against %s width/%d, %d conv layers, %dx%d, head %s, %d classes, %s preprocessing",
			ai.Arch, ai.WidthDiv, ai.ModelArch().Depth(), ai.InputSize, ai.InputSize, ai.Head, len(ai.Classes), ai.Preprocess,
			bi.Arch, bi.WidthDiv, bi.ModelArch().Depth(), bi.InputSize, bi.InputSize, bi.Head, len(bi.Classes), bi.Preprocess)
	}
	mix := func(what string, x, y []float32) ([]float32, error) {
		if len(x) != len(y) {
			return nil, fmt.Errorf("interpolate: %s has %d values in one model and %d in the other", what, len(x), len(y))
		}
		out := make([]float32, len(x))
		for i := range x {
			out[i] = float32((1-t)*float64(x[i]) + t*float64(y[i]))
		}
		return out, nil
	}
	m := &Model{Info: bi, Base: ConvBase{Arch: b.Base.Arch}, Head: Head{Kind: b.Head.Kind}}
	m.Info.Classes = slices.Clone(bi.Classes)
	m.Info.Provenance = maps.Clone(bi.Provenance)
	var err error
	for i := range m.Base.Layers {
		name := fmt.Sprintf("conv layer %d", i+1)
		if m.Base.Layers[i].Kernel, err = mix(name+" kernel", a.Base.Layers[i].Kernel, b.Base.Layers[i].Kernel); err != nil {
			return nil, err
		}
		if m.Base.Layers[i].Bias, err = mix(name+" bias", a.Base.Layers[i].Bias, b.Base.Layers[i].Bias); err != nil {
			return nil, err
		}
	}
	if len(a.Head.Dense) != len(b.Head.Dense) {
		return nil, fmt.Errorf("interpolate: the heads have %d and %d dense layers", len(a.Head.Dense), len(b.Head.Dense))
	}
	for i, bd := range b.Head.Dense {
		ad := a.Head.Dense[i]
		if ad.In != bd.In || ad.Out != bd.Out {
			return nil, fmt.Errorf("interpolate: dense layer %d is %dx%d in one model and %dx%d in the other", i+1, ad.In, ad.Out, bd.In, bd.Out)
		}
		d := DenseParams{In: bd.In, Out: bd.Out}
		name := fmt.Sprintf("dense layer %d", i+1)
		if d.Kernel, err = mix(name+" kernel", ad.Kernel, bd.Kernel); err != nil {
			return nil, err
		}
		if d.Bias, err = mix(name+" bias", ad.Bias, bd.Bias); err != nil {
			return nil, err
		}
		m.Head.Dense = append(m.Head.Dense, d)
	}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("interpolate: %w", err)
	}
	return m, nil
}
