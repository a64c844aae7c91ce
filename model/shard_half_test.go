package model

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// runHalfShards is runShards for shards built with float16 weights.
func runHalfShards(t *testing.T, m *Model, n, batch int, x []float32) []float32 {
	t.Helper()
	shards := make([]*Shard, n)
	for k := range shards {
		c := *m // TakeShardWith empties the copy's conv weights, not m's
		s, err := TakeShardWith(&c, k, n, ShardOptions{HalfWeights: true})
		if err != nil {
			t.Fatal(err)
		}
		shards[k] = s
	}
	ex := newLocalExchange(n)
	var probs []float32
	errs := make(chan error, n)
	for k, s := range shards {
		go func() {
			var err error
			if k == 0 {
				probs, _, err = s.ForwardOOD(batch, x, ex.forShard(k))
			} else {
				_, err = s.Run(batch, x, ex.forShard(k), nil)
			}
			errs <- err
		}()
	}
	for range shards {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	return probs
}

// maxAbsDiff is the largest |a[i]-b[i]|.
func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

// TestShardHalfWeightsAgree: shards with float16 Winograd weights agree
// bit for bit at any shard count (each output value is the same
// arithmetic on the same rounded weights), and differ from Net's float32
// pass by at most the stated bound.
func TestShardHalfWeightsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for name, m := range map[string]*Model{
		"div16 size32 gap":   randomNetModel(rng, 16, 32, HeadGAP, 5),
		"div4 size64 linear": randomNetModel(rng, 4, 64, HeadLinear, 4),
		"div16 size96 seed":  randomNetModel(rng, 16, 96, HeadSeed, 3),
	} {
		net, err := NewNet(m)
		if err != nil {
			t.Fatal(err)
		}
		size := m.Info.InputSize
		x := uniformFloats(rng, 2*size*size*3, 100)
		want := net.Forward(2, x)
		one := runHalfShards(t, m, 1, 2, x)
		for _, n := range []int{2, 3, 4} {
			if got := runHalfShards(t, m, n, 2, x); !slices.Equal(got, one) {
				t.Errorf("%s: %d float16 shards give %v, one gives %v", name, n, got, one)
			}
		}
		d := maxAbsDiff(one, want)
		t.Logf("%s: float16 weights vs float32 Net: max probability difference %.2e", name, d)
		if d > halfProbBound {
			t.Errorf("%s: float16 weights differ from Net by %.3g in probability, bound %g", name, d, halfProbBound)
		}
	}
}

// halfProbBound is the largest probability difference float16 Winograd
// weights may make against the float32 forward pass, measured on the
// default model's samples and random inputs and on random networks
// (TestShardHalfWeightsAgree, TestHalfWeightsDefaultModel log the real
// figures); the float32 pool is held to 1e-5 (bit-identical in fact).
const halfProbBound = 1e-2

// TestHalfWeightsDefaultModel measures float16 weights on the shipped
// default model: its ten sample images and four random inputs, against
// the float32 Net; the top class must not change on the samples.
func TestHalfWeightsDefaultModel(t *testing.T) {
	root := filepath.Join("..", "web")
	m, err := ReadModelFile(filepath.Join(root, "models", "fashion-mnist-vgg16.vggo.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	size := m.Info.InputSize
	var inputs [][]float32
	files, _ := filepath.Glob(filepath.Join(root, "static", "samples", "*.png"))
	if len(files) == 0 {
		t.Fatal("no sample images in web/static/samples")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := DecodeImage(bytes.NewReader(data), f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Preprocess(img, size, m.Info.Preprocess))
	}
	samples := len(inputs)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 4 {
		inputs = append(inputs, uniformFloats(rng, size*size*3, 2))
	}
	worst := map[bool]float64{}
	for i, x := range inputs {
		want := slices.Clone(net.Forward(1, x))
		got := runHalfShards(t, m, 2, 1, x)
		d := maxAbsDiff(got, want)
		worst[i < samples] = max(worst[i < samples], d)
		if i < samples && argmax(got) != argmax(want) {
			t.Errorf("%s: float16 weights pick class %d, float32 %d", files[i], argmax(got), argmax(want))
		}
		if d > halfProbBound {
			t.Errorf("input %d: probabilities differ by %.3g, bound %g", i, d, halfProbBound)
		}
	}
	t.Logf("default model, float16 vs float32 weights: max probability difference %.2e on %d samples, %.2e on 4 random inputs", worst[true], samples, worst[false])
}

func argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
