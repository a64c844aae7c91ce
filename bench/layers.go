package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"vggo/kernels"
	"vggo/model"
)

// layerShape is one distinct conv layer shape of VGG16 at an input size,
// with the names of the layers that have it.
type layerShape struct {
	names           []string
	side, cin, cout int
}

// vggLayerShapes lists VGG16's distinct conv layer shapes at input size
// (square), in network order, at width/widthDiv.
func vggLayerShapes(size, widthDiv int) []layerShape {
	var out []layerShape
	side := size
	for _, c := range model.VGG16Convs {
		cin, cout := c.Cin/widthDiv, c.Cout/widthDiv
		if c.Cin == 3 {
			cin = 3
		}
		if n := len(out); n > 0 && out[n-1].side == side && out[n-1].cin == cin && out[n-1].cout == cout {
			out[n-1].names = append(out[n-1].names, c.Name)
		} else {
			out = append(out, layerShape{names: []string{c.Name}, side: side, cin: cin, cout: cout})
		}
		if c.PoolAfter {
			side /= 2
		}
	}
	return out
}

func (s layerShape) String() string {
	return fmt.Sprintf("%s: %dx%d, %d→%d", strings.Join(s.names, ", "), s.side, s.side, s.cin, s.cout)
}

// layerPasses times one conv layer's three training passes the way a
// training step (train/nn over kernels.Conv3x3Layer) pays them: forward
// with its weight transform (the weights changed in the optimizer), the
// input gradient with the transform of its flipped kernel, the kernel and
// bias gradient.
type layerPasses struct {
	layer                *kernels.Conv3x3Layer
	in, out, dout, din   []float32
	kernel, bias, dk, db []float32
}

func newLayerPasses(s layerShape, batch int) *layerPasses {
	rng := rand.New(rand.NewPCG(uint64(s.cin), uint64(s.cout)))
	r := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	px := batch * s.side * s.side
	p := &layerPasses{layer: kernels.NewConv3x3Layer(batch, s.side, s.side, s.cin, s.cout),
		in: r(px * s.cin), out: make([]float32, px*s.cout), dout: r(px * s.cout), din: make([]float32, px*s.cin),
		kernel: r(9 * s.cin * s.cout), bias: r(s.cout), dk: make([]float32, 9*s.cin*s.cout), db: make([]float32, s.cout)}
	p.layer.SetKernel(p.kernel, p.bias)
	return p
}

// step stands in for an optimizer step: every weight changes.
func (p *layerPasses) step() {
	for i := range p.kernel {
		p.kernel[i] *= 1 + 1e-6
	}
}

// run times pass "forward", "data" or "filter" in milliseconds.
func (p *layerPasses) run(pass string) (float64, error) {
	switch pass {
	case "forward":
		p.step()
		start := time.Now()
		p.layer.SetKernel(p.kernel, p.bias)
		p.layer.Forward(p.in, p.out, true)
		return msSince(start), nil
	case "data":
		p.step()
		p.layer.SetKernel(p.kernel, p.bias) // untimed: the forward pass pays it
		start := time.Now()
		p.layer.BackwardData(p.dout, p.din)
		return msSince(start), nil
	case "filter":
		start := time.Now()
		p.layer.BackwardFilter(p.in, p.dout, p.dk, p.db, false)
		return msSince(start), nil
	}
	return 0, fmt.Errorf("unknown pass %q", pass)
}

// layerPassNames are the passes in the order a step runs them, with what
// the table calls them.
var layerPassNames = []struct{ pass, label string }{
	{"forward", "forward (+ weight transform, bias, ReLU)"},
	{"data", "input gradient (+ transform of the flipped kernel)"},
	{"filter", "kernel + bias gradient"},
}
