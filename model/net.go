package model

import (
	"fmt"
	"sort"
	"unsafe"

	"vggo/kernels"
)

// DefaultInputSize is VGG16's ImageNet input side, used when a model does
// not say otherwise.
const DefaultInputSize = 224

// conv3x3 is what Conv3x3 and Winograd3x3 have in common.
type conv3x3 interface {
	Forward(n, h, w int, in, out []float32, relu bool)
}

// convLayer is one packed conv layer of a Net and the spatial size of its
// input at the Net's input size.
type convLayer struct {
	spec     ConvSpec
	h, w     int
	conv     conv3x3
	winograd bool
}

// denseLayer is one packed dense layer of a head.
type denseLayer struct {
	in, out int
	dense   *kernels.Dense
}

// Net is a VGG16 ready to run: every layer's weights packed once (and, for
// the layers useWinograd picks, transformed to the Winograd domain once),
// plus activation buffers that are reused across calls.
//
// A Net is not safe for concurrent use: its buffers are shared between
// calls. The kernels use several threads inside one call (kernels.SetThreads);
// run one Net per goroutine to classify in parallel.
type Net struct {
	size  int
	arch  Arch
	convs [13]convLayer

	// The classifier; headKind is "" for a feature net (NewFeatureNet).
	headKind string
	head     []denseLayer
	classes  []string
	mode     string

	// Ping-pong activation buffers, grown to the largest batch seen.
	bufA, bufB []float32
	logits     []float32
}

// useWinograd is the fixed rule choosing the convolution algorithm per
// layer shape: Winograd F(4x4,3x3) when the layer has at least 64 input
// channels and an input of at least 8x8 pixels, the direct implicit-GEMM
// convolution otherwise. Winograd does 2.25x fewer multiplies but pays for
// its input/output transforms, which only amortise over many channels, and
// works in 4x4 tiles, which waste work on small images. The rule is a fixed
// function of the shape, not measured at run time, so a Net computes the
// same bits on every run; BenchmarkConvAlgorithms is the measurement behind
// it.
func useWinograd(cin, h, w int) bool {
	return cin >= 64 && h >= 8 && w >= 8
}

// checkInputSize reports whether size is a usable input side: a multiple
// of 32 (five 2x2 max-pools) and at least 32.
func checkInputSize(size int) error {
	if size < 32 || size%32 != 0 {
		return fmt.Errorf("input size %d: VGG16 needs a multiple of 32, at least 32 (224 is the ImageNet size)", size)
	}
	return nil
}

// NewFeatureNet packs a conv base without a classifier for inputSize×
// inputSize images. Use Features or PooledFeatures on it (Forward panics).
func NewFeatureNet(base *ConvBase, inputSize int) (*Net, error) {
	if err := checkInputSize(inputSize); err != nil {
		return nil, err
	}
	if err := base.Check(); err != nil {
		return nil, err
	}
	n := &Net{size: inputSize, arch: base.Arch}
	h := inputSize
	for i := range n.convs {
		s := base.Arch.Conv(i)
		p := base.Layers[i]
		l := convLayer{spec: s, h: h, w: h, winograd: useWinograd(s.Cin, h, h)}
		if l.winograd {
			l.conv = kernels.NewWinograd3x3(s.Cin, s.Cout, p.Kernel, p.Bias)
		} else {
			l.conv = kernels.NewConv3x3(s.Cin, s.Cout, p.Kernel, p.Bias)
		}
		n.convs[i] = l
		if s.PoolAfter {
			h /= 2
		}
	}
	return n, nil
}

// InputSize is the side of the square images the Net takes.
func (n *Net) InputSize() int { return n.size }

// Arch is the VGG16 variant of the Net.
func (n *Net) Arch() Arch { return n.arch }

// ActivationShape is the shape (height, width, channels) of one image's
// activation after conv layer `layer` (0..12), after its max-pool when the
// layer has one: what ForwardTo returns per image.
func (n *Net) ActivationShape(layer int) (h, w, c int) {
	n.checkLayer("ActivationShape", layer)
	l := n.convs[layer]
	h, w = l.h, l.w
	if l.spec.PoolAfter {
		h, w = h/2, w/2
	}
	return h, w, l.spec.Cout
}

func (n *Net) checkLayer(fn string, layer int) {
	if layer < 0 || layer > 12 {
		panic(fmt.Sprintf("model: Net.%s: layer %d, want 0..12", fn, layer))
	}
}

func (n *Net) checkLen(fn, what string, got, batch, per int) {
	if batch < 1 {
		panic(fmt.Sprintf("model: Net.%s: batch %d, want >= 1", fn, batch))
	}
	if got != batch*per {
		panic(fmt.Sprintf("model: Net.%s: len(%s) = %d, want batch %d × %d = %d", fn, what, got, batch, per, batch*per))
	}
}

// ForwardTo runs conv layers 0..layer on batch preprocessed NHWC images x
// (batch×size×size×3, see Preprocess) and returns a new slice with the
// activation after layer `layer` (ReLU applied; max-pooled when that layer
// ends a block), batch × ActivationShape(layer). The trainer caches frozen
// features with it and continues with ForwardFrom.
func (n *Net) ForwardTo(batch int, x []float32, layer int) []float32 {
	n.checkLayer("ForwardTo", layer)
	n.checkLen("ForwardTo", "x", len(x), batch, n.size*n.size*3)
	act := n.runConvs(batch, x, 0, layer)
	return append([]float32(nil), act...)
}

// Features returns the conv base output for batch images:
// batch × size/32 × size/32 × channels, NHWC. Same as ForwardTo(batch, x, 12).
func (n *Net) Features(batch int, x []float32) []float32 {
	return n.ForwardTo(batch, x, 12)
}

// PooledFeatures returns the global average of the conv base output:
// batch × channels.
func (n *Net) PooledFeatures(batch int, x []float32) []float32 {
	n.checkLen("PooledFeatures", "x", len(x), batch, n.size*n.size*3)
	act := n.runConvs(batch, x, 0, 12)
	h, w, c := n.ActivationShape(12)
	out := make([]float32, batch*c)
	kernels.GlobalAvgPool(batch, h, w, c, act, out)
	return out
}

// runConvs runs conv layers first..last on act (the input of layer first)
// and returns the result, which lives in one of the Net's buffers.
func (n *Net) runConvs(batch int, act []float32, first, last int) []float32 {
	n.growBuffers(batch)
	cur := act
	for i := first; i <= last; i++ {
		l := n.convs[i]
		out := n.otherBuffer(cur)[:batch*l.h*l.w*l.spec.Cout]
		l.conv.Forward(batch, l.h, l.w, cur, out, true)
		cur = out
		if l.spec.PoolAfter {
			pooled := n.otherBuffer(cur)[:batch*(l.h/2)*(l.w/2)*l.spec.Cout]
			kernels.MaxPool2x2(batch, l.h, l.w, l.spec.Cout, cur, pooled)
			cur = pooled
		}
	}
	return cur
}

// growBuffers makes both activation buffers hold the largest activation of
// a batch: the conv outputs of block 1 at full resolution.
func (n *Net) growBuffers(batch int) {
	need := 0
	for _, l := range n.convs {
		need = max(need, batch*l.h*l.w*l.spec.Cout)
	}
	if len(n.bufA) < need {
		n.bufA = make([]float32, need)
		n.bufB = make([]float32, need)
	}
}

// otherBuffer returns whichever activation buffer cur is not in.
func (n *Net) otherBuffer(cur []float32) []float32 {
	if len(cur) > 0 && unsafe.SliceData(cur) == unsafe.SliceData(n.bufA) {
		return n.bufB
	}
	return n.bufA
}

// Prediction is one class and its probability.
type Prediction struct {
	Class string
	Index int
	Prob  float32
}

// TopK returns the k most probable classes of one probability vector,
// most probable first (ties: lower index first). classes names the
// indices; missing names are reported as "class N". k larger than
// len(probs) returns all.
func TopK(probs []float32, classes []string, k int) []Prediction {
	preds := make([]Prediction, len(probs))
	for i, p := range probs {
		name := fmt.Sprintf("class %d", i)
		if i < len(classes) {
			name = classes[i]
		}
		preds[i] = Prediction{Class: name, Index: i, Prob: p}
	}
	sort.SliceStable(preds, func(a, b int) bool { return preds[a].Prob > preds[b].Prob })
	if k < len(preds) {
		preds = preds[:max(k, 0)]
	}
	return preds
}
