package model

import (
	"fmt"

	"vggo/kernels"
)

// WithHead returns a Net for m that shares n's packed conv layers instead
// of packing m's again: m must have n's conv base (a head trained on n's
// features, as the browser's teach page does), which is not compared here
// beyond the architecture and input size. Packing VGG16's conv layers is
// most of NewNet's time; the head's dense layers are small. n stays
// usable, but the two Nets share nothing mutable only as long as they are
// not run at the same time (their activation buffers are their own).
func (n *Net) WithHead(m *Model) (*Net, error) {
	return n.WithRetrained(m, n.last+1)
}

// WithRetrained is WithHead for a model whose conv layers from `from` on
// were retrained too (the teach page's "also fine-tune the last conv
// layer"): it shares n's packed layers below `from` and packs m's from
// there on.
func (n *Net) WithRetrained(m *Model, from int) (*Net, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	if m.Info.InputSize != n.size || m.Base.Arch != n.arch {
		return nil, fmt.Errorf("model: WithHead: a %dx%d %+v model on a %dx%d %+v Net", m.Info.InputSize, m.Info.InputSize, m.Base.Arch, n.size, n.size, n.arch)
	}
	convs := n.convs
	for i := max(0, from); i <= n.last; i++ {
		convs[i] = packConv(convs[i].spec, convs[i].h, m.Base.Layers[i])
	}
	out := &Net{size: n.size, arch: n.arch, convs: convs, last: n.last, headKind: m.Head.Kind,
		classes: append([]string(nil), m.Info.Classes...), mode: m.Info.Preprocess, ood: m.OOD, flip: m.Info.FlipAverage}
	for _, d := range m.Head.Dense {
		out.head = append(out.head, denseLayer{in: d.In, out: d.Out, dense: kernels.NewDense(d.In, d.Out, d.Kernel, d.Bias)})
	}
	out.headBufs = make([][]float32, len(out.head)+1)
	return out, nil
}
