// Package randnet builds the network every engine of the peer benchmark
// runs: VGG16's conv base with random weights, global average pooling and
// one Dense layer to 10 classes (vggo's "linear" head). Timing does not
// depend on the weight values; the draw is He-uniform so activations stay
// finite through all 13 layers.
package randnet

import (
	"math"
	"math/rand/v2"
	"strconv"

	"vggo/model"
)

// Classes is the width of the benchmark's last layer.
const Classes = 10

// Model returns a random-weight VGG16 (width divided by widthDiv) + GAP +
// Dense 10 for inputs of size×size pixels, drawn from seed.
func Model(size, widthDiv int, seed uint64) *model.Model {
	rng := rand.New(rand.NewPCG(seed, 0x7665)) // "ve"
	arch := model.Arch{WidthDiv: widthDiv}
	m := &model.Model{
		Info: model.Info{Arch: "vgg16", InputSize: size, WidthDiv: widthDiv, Head: model.HeadLinear,
			Preprocess: model.PreprocessTorch},
		Base: model.ConvBase{Arch: arch},
	}
	for i := range m.Base.Layers {
		c := arch.Conv(i)
		m.Base.Layers[i] = model.ConvParams{
			Kernel: heUniform(rng, 9*c.Cin*c.Cout, 9*c.Cin),
			Bias:   make([]float32, c.Cout),
		}
	}
	in := arch.Channels()
	m.Head = model.Head{Kind: model.HeadLinear, Dense: []model.DenseParams{{
		In: in, Out: Classes, Kernel: heUniform(rng, in*Classes, in), Bias: make([]float32, Classes),
	}}}
	for i := 0; i < Classes; i++ {
		m.Info.Classes = append(m.Info.Classes, strconv.Itoa(i))
	}
	return m
}

// Input returns n uniform values in [-1, 1) drawn from seed: a stand-in
// for preprocessed pixels.
func Input(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 0x696e)) // "in"
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	return x
}

func heUniform(rng *rand.Rand, n, fanIn int) []float32 {
	lim := math.Sqrt(6 / float64(fanIn))
	w := make([]float32, n)
	for i := range w {
		w[i] = float32((2*rng.Float64() - 1) * lim)
	}
	return w
}
