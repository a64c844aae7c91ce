package model

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"vggo/internal/fixture"
)

var weightsFixtureDir = filepath.Join("..", "testdata")

// loadHWIOBase reads testdata/vgg16_div16_hwio.bin, the make_weights.py
// oracle dump of vgg16_div16.pth with kernels already in HWIO, without any
// of the weight readers.
func loadHWIOBase(t testing.TB) *ConvBase {
	t.Helper()
	base := &ConvBase{Arch: Arch{WidthDiv: 16}}
	for i, c := range fixture.ReadHWIO(t, filepath.Join(weightsFixtureDir, "vgg16_div16")) {
		base.Layers[i] = ConvParams(c)
	}
	if err := base.Check(); err != nil {
		t.Fatal(err)
	}
	return base
}

func float64sTo32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

// checkFeaturesAgainstReference runs base through a feature net on every
// reference case and compares the conv-base output and its global average
// with PyTorch's float64 results, within 1e-4 of max|reference|. The input
// is the reference's own preprocessed tensor, or, with fromImage, this
// package's Preprocess of the image.
func checkFeaturesAgainstReference(t *testing.T, base *ConvBase, fromImage bool) {
	t.Helper()
	for _, c := range loadReference(t, referenceDir) {
		net, err := NewFeatureNet(base, c.Size)
		if err != nil {
			t.Fatal(err)
		}
		x := float64sTo32(c.Input.Data)
		if fromImage {
			x = Preprocess(decodeFile(t, c.Image), c.Size, c.Mode)
		}
		conv := net.Features(1, x)
		rel, at := maxRelError(conv, c.Conv.Data)
		t.Logf("%s %s %d: conv output max error %.2g of max|ref|", c.Image, c.Mode, c.Size, rel)
		if rel > 1e-4 {
			t.Errorf("%s %s %d: conv output error %.3g of max|ref| at %d (got %v, want %v)",
				c.Image, c.Mode, c.Size, rel, at, conv[at], c.Conv.Data[at])
		}
		gap := net.PooledFeatures(1, x)
		if rel, at := maxRelError(gap, c.GAP.Data); rel > 1e-4 {
			t.Errorf("%s %s %d: GAP error %.3g of max|ref| at %d (got %v, want %v)",
				c.Image, c.Mode, c.Size, rel, at, gap[at], c.GAP.Data[at])
		}
	}
}

func TestFeatureNetMatchesPyTorch(t *testing.T) {
	base := loadHWIOBase(t)
	t.Run("reference input", func(t *testing.T) { checkFeaturesAgainstReference(t, base, false) })
	t.Run("image through Preprocess", func(t *testing.T) { checkFeaturesAgainstReference(t, base, true) })
}

// --- float64 reference forward pass, written as plain loops ---

func conv3x3Float64(h, w, cin, cout int, in []float64, kernel, bias []float32) []float64 {
	out := make([]float64, h*w*cout)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := out[(y*w+x)*cout : (y*w+x+1)*cout]
			for co := range o {
				o[co] = float64(bias[co])
			}
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					sy, sx := y+ky-1, x+kx-1
					if sy < 0 || sy >= h || sx < 0 || sx >= w {
						continue
					}
					for ci := 0; ci < cin; ci++ {
						v := in[(sy*w+sx)*cin+ci]
						k := kernel[((ky*3+kx)*cin+ci)*cout:]
						for co := range o {
							o[co] += v * float64(k[co])
						}
					}
				}
			}
			for co := range o {
				o[co] = math.Max(o[co], 0)
			}
		}
	}
	return out
}

func maxPoolFloat64(h, w, c int, in []float64) []float64 {
	out := make([]float64, (h/2)*(w/2)*c)
	for y := 0; y < h/2; y++ {
		for x := 0; x < w/2; x++ {
			for ch := 0; ch < c; ch++ {
				m := math.Inf(-1)
				for dy := 0; dy < 2; dy++ {
					for dx := 0; dx < 2; dx++ {
						m = math.Max(m, in[((2*y+dy)*w+2*x+dx)*c+ch])
					}
				}
				out[(y*(w/2)+x)*c+ch] = m
			}
		}
	}
	return out
}

// convBaseFloat64 returns the activation after every conv layer (pooled
// where the layer ends a block) for one image.
func convBaseFloat64(base *ConvBase, size int, x []float32) [ConvLayers][]float64 {
	var acts [ConvLayers][]float64
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	h := size
	for i := 0; i < 13; i++ {
		s := base.Arch.Conv(i)
		cur = conv3x3Float64(h, h, s.Cin, s.Cout, cur, base.Layers[i].Kernel, base.Layers[i].Bias)
		if s.PoolAfter {
			cur = maxPoolFloat64(h, h, s.Cout, cur)
			h /= 2
		}
		acts[i] = cur
	}
	return acts
}

// randomConvBase is a VGG16 conv base with He-initialised random weights and
// small random biases, so activations keep their scale through 13 layers.
func randomConvBase(rng *rand.Rand, arch Arch) *ConvBase {
	base := &ConvBase{Arch: arch}
	for i := range base.Layers {
		s := arch.Conv(i)
		std := math.Sqrt(2 / float64(9*s.Cin))
		k := make([]float32, 9*s.Cin*s.Cout)
		for j := range k {
			k[j] = float32(rng.NormFloat64() * std)
		}
		base.Layers[i] = ConvParams{Kernel: k, Bias: uniformFloats(rng, s.Cout, 0.1)}
	}
	return base
}

// Every layer's activation from ForwardTo matches the float64 loops within
// 1e-4 of its max, for a batch of 2 at width/4, where the layers take all
// three algorithms (direct, Winograd F(4x4) and F(2x2)); ForwardFrom on a
// cached activation gives what the full pass gives.
func TestForwardToMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const size, batch = 64, 2
	base := randomConvBase(rng, Arch{WidthDiv: 4})
	net, err := NewFeatureNet(base, size)
	if err != nil {
		t.Fatal(err)
	}
	saw := map[int]bool{}
	for _, l := range net.convs {
		saw[l.tile] = true
	}
	if !saw[0] || !saw[2] || !saw[4] {
		t.Fatalf("test does not cover all three algorithms (tiles used: %v)", saw)
	}
	x := uniformFloats(rng, batch*size*size*3, 100)
	per := size * size * 3
	var want [batch][ConvLayers][]float64
	for b := 0; b < batch; b++ {
		want[b] = convBaseFloat64(base, size, x[b*per:(b+1)*per])
	}
	for layer := 0; layer < 13; layer++ {
		got := net.ForwardTo(batch, x, layer)
		h, w, c := net.ActivationShape(layer)
		if len(got) != batch*h*w*c {
			t.Fatalf("layer %d: %d values, want %d×%d×%d×%d", layer, len(got), batch, h, w, c)
		}
		for b := 0; b < batch; b++ {
			img := got[b*h*w*c : (b+1)*h*w*c]
			if rel, at := maxRelError(img, want[b][layer]); rel > 1e-4 {
				t.Errorf("layer %d (Winograd tile %d) image %d: error %.3g of max at %d", layer, net.convs[layer].tile, b, rel, at)
			}
		}
	}
	// The same buffers serve a second, smaller call correctly.
	one := net.Features(1, x[:per])
	if rel, _ := maxRelError(one, want[0][12]); rel > 1e-4 {
		t.Errorf("batch 1 after batch 2: error %.3g", rel)
	}
}

func TestNewFeatureNetErrors(t *testing.T) {
	base := randomConvBase(rand.New(rand.NewPCG(1, 1)), Arch{WidthDiv: 16})
	for _, size := range []int{0, 16, 48, 100, 225} {
		_, err := NewFeatureNet(base, size)
		if err == nil || !strings.Contains(err.Error(), "multiple of 32") {
			t.Errorf("size %d: error %v, want multiple of 32", size, err)
		}
	}
	bad := *base
	bad.Layers[3].Bias = bad.Layers[3].Bias[:1]
	if _, err := NewFeatureNet(&bad, 32); err == nil || !strings.Contains(err.Error(), "block2_conv2 bias") {
		t.Errorf("short bias: error %v, want it to name block2_conv2 bias", err)
	}
}
