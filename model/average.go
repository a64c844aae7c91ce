package model

import (
	"fmt"
	"maps"
	"math"
	"slices"
)

// Average returns the model whose every weight is Σ shares[i]·models[i]:
// with non-negative shares summing to 1, a point inside the models fine-tuned
// from one start ("weight averaging": a model soup, or stochastic weight
// averaging over a run's last epochs), which often generalises better than
// any of them. Its description (Info) and head kind are the last model's;
// it has no OOD statistics, since those depend on the weights (train ood
// computes them again). The models must describe the same network:
// architecture, width, cut, input size, head and the number of classes;
// every shape is checked, and the result is checked as Check checks a
// model read from a file. The sums run in float64 in the models' order,
// so two models with shares 1-t and t give (1-t)·a + t·b rounded once.
func Average(models []*Model, shares []float64) (*Model, error) {
	if len(models) == 0 || len(models) != len(shares) {
		return nil, fmt.Errorf("average: %d models and %d shares, want as many of each and at least one", len(models), len(shares))
	}
	sum := 0.0
	for _, s := range shares {
		if !(s >= 0 && s <= 1) {
			return nil, fmt.Errorf("average: share %g, want 0 <= share <= 1", s)
		}
		sum += s
	}
	if math.Abs(sum-1) > 1e-9 {
		return nil, fmt.Errorf("average: the shares %v sum to %g, want 1", shares, sum)
	}
	last := models[len(models)-1]
	bi := last.Info
	for i, a := range models[:len(models)-1] {
		ai := a.Info
		if ai.Arch != bi.Arch || ai.WidthDiv != bi.WidthDiv || ai.ModelArch().Depth() != bi.ModelArch().Depth() ||
			ai.InputSize != bi.InputSize || ai.Head != bi.Head || len(ai.Classes) != len(bi.Classes) || ai.Preprocess != bi.Preprocess {
			return nil, fmt.Errorf("average: model %d differs from the last: %s width/%d, %d conv layers, %dx%d, head %s, %d classes, %s preprocessing against %s width/%d, %d conv layers, %dx%d, head %s, %d classes, %s preprocessing",
				i+1, ai.Arch, ai.WidthDiv, ai.ModelArch().Depth(), ai.InputSize, ai.InputSize, ai.Head, len(ai.Classes), ai.Preprocess,
				bi.Arch, bi.WidthDiv, bi.ModelArch().Depth(), bi.InputSize, bi.InputSize, bi.Head, len(bi.Classes), bi.Preprocess)
		}
		if len(a.Head.Dense) != len(last.Head.Dense) {
			return nil, fmt.Errorf("average: model %d's head has %d dense layers, the last's %d", i+1, len(a.Head.Dense), len(last.Head.Dense))
		}
		for j, d := range last.Head.Dense {
			if ad := a.Head.Dense[j]; ad.In != d.In || ad.Out != d.Out {
				return nil, fmt.Errorf("average: dense layer %d is %dx%d in model %d and %dx%d in the last", j+1, ad.In, ad.Out, i+1, d.In, d.Out)
			}
		}
	}
	// mix averages one tensor, got from each model by pick.
	mix := func(what string, pick func(*Model) []float32) ([]float32, error) {
		srcs := make([][]float32, len(models))
		for i, m := range models {
			srcs[i] = pick(m)
		}
		n := len(srcs[len(srcs)-1])
		for i, src := range srcs {
			if len(src) != n {
				return nil, fmt.Errorf("average: %s has %d values in model %d and %d in the last", what, len(src), i+1, n)
			}
		}
		out := make([]float32, n)
		for j := range out {
			s := 0.0
			for i, src := range srcs {
				s += shares[i] * float64(src[j])
			}
			out[j] = float32(s)
		}
		return out, nil
	}
	m := &Model{Info: bi, Base: ConvBase{Arch: last.Base.Arch}, Head: Head{Kind: last.Head.Kind}}
	m.Info.Classes = slices.Clone(bi.Classes)
	m.Info.Provenance = maps.Clone(bi.Provenance)
	var err error
	for i := range m.Base.Layers {
		name := fmt.Sprintf("conv layer %d", i+1)
		if m.Base.Layers[i].Kernel, err = mix(name+" kernel", func(x *Model) []float32 { return x.Base.Layers[i].Kernel }); err != nil {
			return nil, err
		}
		if m.Base.Layers[i].Bias, err = mix(name+" bias", func(x *Model) []float32 { return x.Base.Layers[i].Bias }); err != nil {
			return nil, err
		}
	}
	for i, bd := range last.Head.Dense {
		d := DenseParams{In: bd.In, Out: bd.Out}
		name := fmt.Sprintf("dense layer %d", i+1)
		if d.Kernel, err = mix(name+" kernel", func(x *Model) []float32 { return x.Head.Dense[i].Kernel }); err != nil {
			return nil, err
		}
		if d.Bias, err = mix(name+" bias", func(x *Model) []float32 { return x.Head.Dense[i].Bias }); err != nil {
			return nil, err
		}
		m.Head.Dense = append(m.Head.Dense, d)
	}
	if err := m.Check(); err != nil {
		return nil, fmt.Errorf("average: %w", err)
	}
	return m, nil
}
