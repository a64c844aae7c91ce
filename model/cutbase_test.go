package model

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"vggo/model/safetensors"
)

// cutModel is a width/16 model whose base is cut after `layers` conv
// layers, cut from full (which keeps all 13), with a random head of kind
// over the cut base's output.
func cutModel(rng *rand.Rand, full *ConvBase, layers, size int, kind string, classes int) *Model {
	base := full.Cut(layers)
	c, side := base.Arch.Channels(), base.Arch.OutputSide(size)
	head := Head{Kind: kind}
	switch kind {
	case HeadSeed:
		head.Dense = []DenseParams{randomDenseParams(rng, side*side*c, 16), randomDenseParams(rng, 16, 12), randomDenseParams(rng, 12, classes)}
	case HeadGAP:
		head.Dense = []DenseParams{randomDenseParams(rng, c, 16), randomDenseParams(rng, 16, classes)}
	case HeadLinear:
		head.Dense = []DenseParams{randomDenseParams(rng, c, classes)}
	}
	names := make([]string, classes)
	for i := range names {
		names[i] = string(rune('a' + i))
	}
	return &Model{
		Info: Info{Arch: "vgg16", InputSize: size, WidthDiv: full.Arch.WidthDiv, BaseLayers: layers, Head: kind, Classes: names, Preprocess: PreprocessTorch},
		Base: *base,
		Head: head,
	}
}

// A model cut after K conv layers classifies from the full base's
// activation after layer K−1: its Features equal the full feature net's
// ForwardTo(K−1) bit for bit, and its probabilities equal the float64 head
// loops on that intermediate output. This is the path the browser worker
// runs too (NewNet on a read model file).
func TestCutNetMatchesFullIntermediate(t *testing.T) {
	const size, batch, classes = 64, 2, 4
	rng := rand.New(rand.NewPCG(19, 3))
	full := randomConvBase(rng, Arch{WidthDiv: 16})
	fullNet, err := NewFeatureNet(full, size)
	if err != nil {
		t.Fatal(err)
	}
	x := uniformFloats(rng, batch*size*size*3, 100)
	for _, layers := range []int{1, 2, 4, 7, 10, 12, 13} {
		for _, kind := range []string{HeadGAP, HeadSeed, HeadLinear} {
			m := cutModel(rng, full, layers, size, kind, classes)
			net, err := NewNet(m)
			if err != nil {
				t.Fatalf("K=%d %s: %v", layers, kind, err)
			}
			inter := fullNet.ForwardTo(batch, x, layers-1)
			feat := net.Features(batch, x)
			if len(feat) != len(inter) {
				t.Fatalf("K=%d: Features has %d values, the full base's activation after layer %d has %d", layers, len(feat), layers-1, len(inter))
			}
			for i := range feat {
				if feat[i] != inter[i] {
					t.Fatalf("K=%d: Features[%d] = %v, full base's intermediate %v", layers, i, feat[i], inter[i])
				}
			}
			probs := net.Forward(batch, x)
			per := len(inter) / batch
			for b := range batch {
				f64 := make([]float64, per)
				for i, v := range inter[b*per : (b+1)*per] {
					f64[i] = float64(v)
				}
				want := headFloat64(m, f64)
				for c := range classes {
					if got := probs[b*classes+c]; math.Abs(float64(got)-want[c]) > 1e-5 {
						t.Fatalf("K=%d %s image %d class %d: p = %v, float64 head on the intermediate output %v", layers, kind, b, c, got, want[c])
					}
				}
			}
		}
	}
}

// A cut model's file records base_layers, is format version 2, stores only
// the layers it uses, and reads back into a Net that gives the same
// probabilities; a whole-base model stays version 1 without the field.
func TestCutModelFileRoundTrip(t *testing.T) {
	const size = 32
	rng := rand.New(rand.NewPCG(19, 4))
	full := randomConvBase(rng, Arch{WidthDiv: 16})
	for _, layers := range []int{3, 7, 13} {
		m := cutModel(rng, full, layers, size, HeadGAP, 3)
		path := filepath.Join(t.TempDir(), "cut.vggo")
		if err := WriteModelFile(path, m, DTypeFloat32); err != nil {
			t.Fatal(err)
		}
		f, err := safetensors.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wantVersion, wantMeta := "2", "7"
		if layers == 13 {
			wantVersion, wantMeta = "1", ""
		}
		if layers == 3 {
			wantMeta = "3"
		}
		if got := f.Metadata["format_version"]; got != wantVersion {
			t.Errorf("K=%d: format_version %q, want %q", layers, got, wantVersion)
		}
		if got := f.Metadata["base_layers"]; got != wantMeta {
			t.Errorf("K=%d: base_layers %q, want %q", layers, got, wantMeta)
		}
		convs := 0
		for _, ts := range f.Tensors {
			if strings.HasPrefix(ts.Name, "block") && strings.HasSuffix(ts.Name, ".kernel") {
				convs++
			}
		}
		if convs != layers {
			t.Errorf("K=%d: file holds %d conv kernels, want %d", layers, convs, layers)
		}
		got, err := ReadModelFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.Info.ModelArch().Depth() != layers || got.Base.Arch.Depth() != layers {
			t.Errorf("K=%d: read back Info.BaseLayers %d, base depth %d", layers, got.Info.BaseLayers, got.Base.Arch.Depth())
		}
		a, err := NewNet(m)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewNet(got)
		if err != nil {
			t.Fatal(err)
		}
		x := uniformFloats(rng, size*size*3, 100)
		pa, pb := a.Forward(1, x), b.Forward(1, x)
		for i := range pa {
			if pa[i] != pb[i] {
				t.Fatalf("K=%d: class %d p = %v after the round trip, %v before", layers, i, pb[i], pa[i])
			}
		}
	}
}

// Invalid cuts are refused with the problem named.
func TestCutBaseErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 5))
	full := randomConvBase(rng, Arch{WidthDiv: 16})
	m := cutModel(rng, full, 7, 32, HeadGAP, 3)

	bad := *m
	bad.Info.BaseLayers = 14
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "base layers 14: want 1..13") {
		t.Errorf("BaseLayers 14: %v", err)
	}
	bad = *m
	bad.Info.BaseLayers = 8
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "conv base uses 7 conv layers, Info.BaseLayers says 8") {
		t.Errorf("Info and base disagree: %v", err)
	}
	bad = *m
	bad.Base.Layers[9] = full.Layers[9]
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "block4_conv3: present, but the base is cut after 7 conv layers") {
		t.Errorf("layer past the cut: %v", err)
	}
	path := writeRawModel(t, m, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
		md["format_version"] = "1"
		return ts
	})
	if _, err := ReadModelFile(path); err == nil || !strings.Contains(err.Error(), "base_layers needs format version 2, the file says 1") {
		t.Errorf("version 1 with base_layers: %v", err)
	}
	path = writeRawModel(t, m, func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
		md["base_layers"] = "0"
		return ts
	})
	if _, err := ReadModelFile(path); err == nil || !strings.Contains(err.Error(), `metadata base_layers "0"`) {
		t.Errorf("base_layers 0: %v", err)
	}
}
