package model

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vggo/kernels"
	"vggo/model/rank"
)

// runHalfShards runs n shards with float16 weights on batch images x and
// returns shard 0's probabilities.
func runHalfShards(t *testing.T, m *Model, n, batch int, x []float32) []float32 {
	t.Helper()
	return runShardsBuilt(t, n, batch, x, func(k int) (*Shard, error) {
		c := *m // TakeShardWith empties the copy's conv weights, not m's
		return TakeShardWith(&c, k, n, ShardOptions{HalfWeights: true})
	})
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

// halfFeatureBound is the largest difference, relative to its maximum,
// float16 weights may make in the conv base's output at 224x224 (13
// layers of about 5e-3 each; TestShardSmallTiles logs the figure).
const halfFeatureBound = 5e-2

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
		if i < samples && rank.Best(got) != rank.Best(want) {
			t.Errorf("%s: float16 weights pick class %d, float32 %d", files[i], rank.Best(got), rank.Best(want))
		}
		if d > halfProbBound {
			t.Errorf("input %d: probabilities differ by %.3g, bound %g", i, d, halfProbBound)
		}
	}
	t.Logf("default model, float16 vs float32 weights: max probability difference %.2e on %d samples, %.2e on 4 random inputs", worst[true], samples, worst[false])
}

// TestReadShardEqualsTakeShard: shards read straight from a model file
// (ReadShard, each layer cut as it is read) compute the same
// probabilities, bit for bit, as shards cut from ReadModel's Model, for
// int8 and float32 files, full and cut bases, float32 and float16
// weights; and a bad shard number or a damaged file is an error naming
// the file.
func TestReadShardEqualsTakeShard(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	full := randomConvBase(rng, Arch{WidthDiv: 16})
	for name, m := range map[string]*Model{
		"div16 size32 gap": randomNetModel(rng, 16, 32, HeadGAP, 4),
		"div8 size64 seed": randomNetModel(rng, 8, 64, HeadSeed, 3),
		"cut after 7":      cutModel(rng, full, 7, 64, HeadGAP, 3),
	} {
		for _, dtype := range []string{"int8", "float32"} {
			var buf bytes.Buffer
			if err := WriteModel(&buf, m, dtype); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			read, err := ReadModel(bytes.NewReader(data), int64(len(data)), "m.safetensors")
			if err != nil {
				t.Fatal(err)
			}
			size := read.Info.InputSize
			x := uniformFloats(rng, size*size*3, 100)
			for _, n := range []int{1, 2, 3} {
				for _, half := range []bool{false, true} {
					opts := ShardOptions{HalfWeights: half}
					want := runShardsBuilt(t, n, 1, x, func(k int) (*Shard, error) {
						c := *read
						return TakeShardWith(&c, k, n, opts)
					})
					got := runShardsBuilt(t, n, 1, x, func(k int) (*Shard, error) {
						s, info, err := ReadShard(bytes.NewReader(data), int64(len(data)), "m.safetensors", k, n, opts)
						if err == nil && info.SHA256 != read.Info.SHA256 {
							t.Errorf("ReadShard's Info.SHA256 %q, ReadModel's %q", info.SHA256, read.Info.SHA256)
						}
						return s, err
					})
					if !slices.Equal(got, want) {
						t.Errorf("%s %s, %d shards, half %v: ReadShard gives %v, TakeShard %v", name, dtype, n, half, got, want)
					}
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := WriteModel(&buf, randomNetModel(rng, 16, 32, HeadGAP, 2), "int8"); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if _, _, err := ReadShard(bytes.NewReader(data), int64(len(data)), "x.safetensors", 2, 2, ShardOptions{}); err == nil || !strings.Contains(err.Error(), "x.safetensors") {
		t.Errorf("shard 2 of 2: error %v, want one naming the file", err)
	}
	bad := data[:len(data)-100]
	if _, _, err := ReadShard(bytes.NewReader(bad), int64(len(bad)), "cut.safetensors", 0, 2, ShardOptions{}); err == nil || !strings.Contains(err.Error(), "cut.safetensors") {
		t.Errorf("truncated file: error %v, want one naming the file", err)
	}
}

// runShardsBuilt runs n shards that build makes on batch images x and returns
// shard 0's probabilities.
func runShardsBuilt(t *testing.T, n, batch int, x []float32, build func(k int) (*Shard, error)) []float32 {
	t.Helper()
	shards := make([]*Shard, n)
	for k := range shards {
		s, err := build(k)
		if err != nil {
			t.Fatal(err)
		}
		shards[k] = s
	}
	ex := newLocalExchange(n)
	var probs []float32
	errs := make(chan error, n)
	pb, px := shards[0].PassInput(batch, x)
	for k, s := range shards {
		go func() {
			var err error
			if k == 0 {
				probs, _, err = s.ForwardOOD(batch, px, ex.forShard(k))
			} else {
				_, err = s.Run(pb, px, ex.forShard(k), nil)
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

// TestShardSmallTiles: with SmallTiles, blocks 4 and 5 run F(2x2) where
// they would run F(4x4) (16 instead of 36 transformed values per weight,
// the other blocks untouched); shards built alike agree bit for bit at any
// count, and the conv base's output differs from Net's (another
// algorithm) by at most 1e-5 of its maximum, or halfFeatureBound with
// HalfWeights too. The head is softened, so that bit-identical
// probabilities across shard counts mean something.
func TestShardSmallTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	// At 224 and width/16 block 4 is 28x28 with 32 channels, where every
	// architecture picks F(4x4); block 5 at 14x14 too.
	m := randomNetModel(rng, 16, 224, HeadGAP, 5)
	softenHead(m, 0.01)
	net, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	x := uniformFloats(rng, 224*224*3, 100)
	if p := slices.Max(net.Forward(1, x)); p > 0.99 {
		t.Fatalf("top probability %g: the softmax saturates, so equal probabilities would prove nothing", p)
	}
	wantFeat := slices.Clone(net.Features(1, x))
	tiles := func(opts ShardOptions) (tile [ConvLayers]int, bytes [ConvLayers]int64) {
		c := *m
		s, err := TakeShardWith(&c, 0, 1, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range s.convs[:s.depth] {
			if wg, ok := l.conv.(*kernels.Winograd3x3); ok {
				tile[i], bytes[i] = wg.Tile(), wg.WeightBytes()
			}
		}
		return
	}
	plainTile, plainBytes := tiles(ShardOptions{})
	smallTile, smallBytes := tiles(ShardOptions{SmallTiles: true})
	for i := range ConvLayers {
		spec := m.Base.Arch.Conv(i)
		wantTile := plainTile[i]
		if spec.Block >= 4 {
			if plainTile[i] != 4 {
				t.Fatalf("layer %d (block %d) runs tile %d without SmallTiles; the test needs F(4x4) there", i+1, spec.Block, plainTile[i])
			}
			wantTile = 2
			if got, want := smallBytes[i]*36, plainBytes[i]*16; got != want {
				t.Errorf("layer %d: %d weight bytes with SmallTiles, want 16/36 of %d", i+1, smallBytes[i], plainBytes[i])
			}
		}
		if smallTile[i] != wantTile {
			t.Errorf("layer %d (block %d): tile %d with SmallTiles, want %d", i+1, spec.Block, smallTile[i], wantTile)
		}
	}
	for _, half := range []bool{false, true} {
		opts := ShardOptions{SmallTiles: true, HalfWeights: half}
		build := func(n int) func(k int) (*Shard, error) {
			return func(k int) (*Shard, error) { c := *m; return TakeShardWith(&c, k, n, opts) }
		}
		one := runShardsBuilt(t, 1, 1, x, build(1))
		for _, n := range []int{2, 3} {
			if got := runShardsBuilt(t, n, 1, x, build(n)); !slices.Equal(got, one) {
				t.Errorf("%+v: %d shards give %v, one gives %v", opts, n, got, one)
			}
		}
		c := *m
		s, err := TakeShardWith(&c, 0, 1, opts)
		if err != nil {
			t.Fatal(err)
		}
		feat, err := s.Run(1, x, func(_ int, _ Cut, part, full []float32) error { copy(full, part); return nil }, nil)
		if err != nil {
			t.Fatal(err)
		}
		peak := 0.0
		for _, v := range wantFeat {
			peak = max(peak, math.Abs(float64(v)))
		}
		df := maxAbsDiff(feat, wantFeat) / peak
		bound := 1e-5
		if half {
			bound = halfFeatureBound
		}
		t.Logf("%+v: conv base output differs from Net's by %.2e of its maximum", opts, df)
		if df > bound || slices.Equal(feat, wantFeat) {
			t.Errorf("%+v: conv base output differs from Net's by %.3g of its maximum: want a difference, below %g", opts, df, bound)
		}
	}
}
