package nn

import (
	"fmt"
	"slices"

	"gorgonia.org/tensor"

	"vggo/model"
)

// Clone returns a copy of p with its own values (names and shapes are
// shared: they never change), e.g. to keep the best epoch's weights.
func (p *Params) Clone() *Params {
	q := &Params{Names: p.Names, Shapes: p.Shapes, Tensors: make([]*tensor.Dense, len(p.Tensors))}
	for i, t := range p.Tensors {
		q.Tensors[i] = tensor.New(tensor.WithShape(p.Shapes[i]...), tensor.WithBacking(slices.Clone(t.Float32s())))
	}
	return q
}

// CopyFrom sets p's values to q's; q has p's layout (one is the other's
// Clone).
func (p *Params) CopyFrom(q *Params) {
	for i, t := range p.Tensors {
		copy(t.Float32s(), q.Tensors[i].Float32s())
	}
}

// Save puts each tensor's values into tensors under prefix+name. The values
// are shared, not copied, so the caller writes them out before p trains on.
func (p *Params) Save(tensors map[string][]float32, prefix string) {
	for i, t := range p.Tensors {
		tensors[prefix+p.Names[i]] = t.Float32s()
	}
}

// Restore copies the values Save put under prefix back into p; a missing or
// wrongly sized entry is an error naming it, and may leave p partly set.
func (p *Params) Restore(tensors map[string][]float32, prefix string) error {
	for i, t := range p.Tensors {
		v, ok := tensors[prefix+p.Names[i]]
		if !ok || len(v) != len(t.Float32s()) {
			return fmt.Errorf("tensor %s%s missing or wrong size", prefix, p.Names[i])
		}
		copy(t.Float32s(), v)
	}
	return nil
}

// Export is the inverse of InitParams and LoadHead: the conv base with p's
// trained layers in place of base's (the frozen layers stay base's), and
// the head made of p's dense layers. Values are copied, so p may train on.
func (s Spec) Export(p *Params, base *model.ConvBase) (model.ConvBase, model.Head) {
	conv := *base // the frozen layers' slices are shared; nothing writes them
	i := 0
	for l := s.Boundary; l < s.Arch.Depth(); l++ {
		conv.Layers[l] = model.ConvParams{Kernel: slices.Clone(p.Tensors[i].Float32s()), Bias: slices.Clone(p.Tensors[i+1].Float32s())}
		i += 2
	}
	head := model.Head{Kind: s.Head}
	for ; i < len(p.Tensors); i += 2 {
		sh := p.Shapes[i]
		head.Dense = append(head.Dense, model.DenseParams{In: sh[0], Out: sh[1],
			Kernel: slices.Clone(p.Tensors[i].Float32s()), Bias: slices.Clone(p.Tensors[i+1].Float32s())})
	}
	return conv, head
}
