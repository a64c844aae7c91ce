package model

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// randomDenseParams is a He-initialised dense layer with small random biases.
func randomDenseParams(rng *rand.Rand, in, out int) DenseParams {
	k := make([]float32, in*out)
	std := math.Sqrt(2 / float64(in))
	for i := range k {
		k[i] = float32(rng.NormFloat64() * std)
	}
	return DenseParams{In: in, Out: out, Kernel: k, Bias: uniformFloats(rng, out, 0.1)}
}

// randomNetModel is a width/div VGG16 with a random head of the given kind;
// hidden sizes are scaled down from 4096/1072/256 to keep tests fast (the
// Net does not depend on them).
func randomNetModel(rng *rand.Rand, div, size int, kind string, classes int) *Model {
	base := randomConvBase(rng, Arch{WidthDiv: div})
	c := base.Arch.Channels()
	head := Head{Kind: kind}
	switch kind {
	case HeadSeed:
		side := size / 32
		head.Dense = []DenseParams{randomDenseParams(rng, side*side*c, 64), randomDenseParams(rng, 64, 24), randomDenseParams(rng, 24, classes)}
	case HeadGAP:
		head.Dense = []DenseParams{randomDenseParams(rng, c, 32), randomDenseParams(rng, 32, classes)}
	case HeadLinear:
		head.Dense = []DenseParams{randomDenseParams(rng, c, classes)}
	}
	names := make([]string, classes)
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	return &Model{
		Info: Info{Arch: "vgg16", InputSize: size, WidthDiv: div, Head: kind, Classes: names, Preprocess: PreprocessCaffe},
		Base: *base,
		Head: head,
	}
}

// headFloat64 is the head written as loops: flatten or GAP, dense layers
// with ReLU between them, softmax.
func headFloat64(m *Model, features []float64) []float64 {
	c := m.Base.Arch.Channels()
	x := features
	if m.Head.Kind != HeadSeed {
		x = make([]float64, c)
		pixels := len(features) / c
		for p := 0; p < pixels; p++ {
			for ch := 0; ch < c; ch++ {
				x[ch] += features[p*c+ch] / float64(pixels)
			}
		}
	}
	for i, d := range m.Head.Dense {
		y := make([]float64, d.Out)
		for o := range y {
			y[o] = float64(d.Bias[o])
			for k := 0; k < d.In; k++ {
				y[o] += x[k] * float64(d.Kernel[k*d.Out+o])
			}
			if i < len(m.Head.Dense)-1 {
				y[o] = math.Max(y[o], 0)
			}
		}
		x = y
	}
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, v)
	}
	sum := 0.0
	p := make([]float64, len(x))
	for i, v := range x {
		p[i] = math.Exp(v - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// Forward matches the float64 loops for every head kind, at batch 1 and 3,
// and ForwardFrom(ForwardTo(x, l), l) gives exactly Forward(x) for every l.
func TestNetForwardMatchesFloat64(t *testing.T) {
	for _, tc := range []struct {
		kind string
		size int
	}{{HeadSeed, 64}, {HeadGAP, 64}, {HeadLinear, 32}} {
		t.Run(tc.kind, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.size)))
			m := randomNetModel(rng, 16, tc.size, tc.kind, 5)
			net, err := NewNet(m)
			if err != nil {
				t.Fatal(err)
			}
			const batch = 3
			per := tc.size * tc.size * 3
			x := uniformFloats(rng, batch*per, 100)
			full := net.Forward(batch, x)
			if len(full) != batch*5 {
				t.Fatalf("Forward gave %d values, want %d", len(full), batch*5)
			}
			for b := 0; b < batch; b++ {
				img := x[b*per : (b+1)*per]
				want := headFloat64(m, convBaseFloat64(&m.Base, tc.size, img)[12])
				one := net.Forward(1, img)
				for _, got := range [][]float32{full[b*5 : b*5+5], one} {
					for i := range want {
						if math.Abs(float64(got[i])-want[i]) > 1e-4 {
							t.Fatalf("image %d class %d: p = %v, want %v", b, i, got[i], want[i])
						}
					}
				}
			}
			for layer := 0; layer < 13; layer++ {
				got := net.ForwardFrom(batch, net.ForwardTo(batch, x, layer), layer)
				for i := range full {
					if got[i] != full[i] {
						t.Fatalf("ForwardFrom(ForwardTo(%d)) differs at %d: %v vs %v", layer, i, got[i], full[i])
					}
				}
			}
		})
	}
}

func TestNewNetErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	tests := []struct {
		name   string
		change func(m *Model)
		want   string
	}{
		{"input size", func(m *Model) { m.Info.InputSize = 100 }, "input size 100"},
		{"dense inputs", func(m *Model) { m.Head.Dense[0] = randomDenseParams(rng, 7, 32) }, "head.dense0: 7 inputs"},
		{"class count", func(m *Model) { m.Info.Classes = m.Info.Classes[:2] }, "head gives 5 outputs but there are 2 class names"},
		{"mode", func(m *Model) { m.Info.Preprocess = "tf" }, `preprocessing mode "tf"`},
		{"conv shape", func(m *Model) { m.Base.Layers[0].Kernel = m.Base.Layers[0].Kernel[:5] }, "block1_conv1 kernel"},
	}
	for _, tc := range tests {
		m := randomNetModel(rng, 16, 32, HeadGAP, 5)
		tc.change(m)
		if _, err := NewNet(m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	m := randomNetModel(rng, 16, 32, HeadLinear, 4)
	net, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	img := randomNRGBA(rng, image.Rect(0, 0, 50, 40))
	preds := net.Classify(img)
	probs := net.Forward(1, Preprocess(img, 32, PreprocessCaffe))
	if len(preds) != 4 {
		t.Fatalf("%d predictions, want 4", len(preds))
	}
	sum := float32(0)
	for i, p := range preds {
		if i > 0 && p.Prob > preds[i-1].Prob {
			t.Errorf("not sorted: %v", preds)
		}
		if p.Prob != probs[p.Index] || p.Class != m.Info.Classes[p.Index] {
			t.Errorf("prediction %+v does not match Forward %v", p, probs)
		}
		sum += p.Prob
	}
	if math.Abs(float64(sum)-1) > 1e-5 {
		t.Errorf("probabilities sum to %v", sum)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	fromFile, err := ClassifyImage(net, &buf, "random.png")
	if err != nil {
		t.Fatal(err)
	}
	for i := range preds {
		if fromFile[i] != preds[i] {
			t.Errorf("ClassifyImage[%d] = %+v, want %+v", i, fromFile[i], preds[i])
		}
	}
	if _, err := ClassifyImage(net, strings.NewReader("hello"), "hello.txt"); err == nil || !strings.HasPrefix(err.Error(), "hello.txt: not an image") {
		t.Errorf("ClassifyImage on text: error %v", err)
	}
}

func TestFeatureNetHasNoHead(t *testing.T) {
	net, err := NewFeatureNet(randomConvBase(rand.New(rand.NewPCG(1, 2)), Arch{WidthDiv: 16}), 32)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "no classifier head") {
			t.Errorf("Forward on a feature net: panic %v", r)
		}
	}()
	net.Forward(1, make([]float32, 32*32*3))
}

func TestForwardPanicsOnWrongInputLength(t *testing.T) {
	net, err := NewNet(randomNetModel(rand.New(rand.NewPCG(1, 3)), 16, 32, HeadLinear, 3))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "len(x) = 100, want batch 1 × 3072") {
			t.Errorf("panic %v", r)
		}
	}()
	net.Forward(1, make([]float32, 100))
}
