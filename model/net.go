package model

import (
	"fmt"
	"image"
	"io"

	"vggo/kernels"
	"vggo/model/rank"
)

// DefaultInputSize is VGG16's ImageNet input side, the size to train and
// serve at unless there is a reason not to (a model file always records
// its own input size, which NewNet uses).
const DefaultInputSize = 224

// conv3x3 is what Conv3x3 and Winograd3x3 have in common.
type conv3x3 interface {
	Forward(n, h, w int, in, out []float32, relu bool)
}

// convLayer is one packed conv layer of a Net and the spatial size of its
// input at the Net's input size.
type convLayer struct {
	spec ConvSpec
	h, w int
	conv conv3x3
	tile int // Winograd output tile (4 or 2), 0 for the direct convolution
}

// denseLayer is one packed dense layer of a head.
type denseLayer struct {
	in, out int
	dense   *kernels.Dense
}

// Net is a VGG16 ready to run: every layer's weights packed once (and, for
// the layers winogradTile picks, transformed to the Winograd domain once),
// plus activation buffers that are reused across calls.
//
// A Net is not safe for concurrent use: its buffers are shared between
// calls. The kernels use several threads inside one call (kernels.SetThreads);
// run one Net per goroutine to classify in parallel.
type Net struct {
	size  int
	arch  Arch
	convs [ConvLayers]convLayer // the first last+1 are packed
	last  int                   // the last conv layer used, whose activation is the conv base output (arch.Depth()-1)

	// The classifier; headKind is "" for a feature net (NewFeatureNet).
	headKind string
	head     []denseLayer
	classes  []string
	mode     string
	ood      *OOD // nil when the model file has no OOD statistics
	flip     bool // Info.FlipAverage: average each image with its mirror image

	// Ping-pong activation buffers, grown to the largest batch seen, and
	// the head's per-layer outputs.
	bufs     [2][]float32
	headBufs [][]float32
}

// winogradTile is the fixed rule choosing the convolution algorithm per
// layer: kernels.WinogradTile for one image, which package kernels derives
// from its per-layer benchmarks (Winograd F(4x4,3x3) on most layers,
// F(2x2,3x3) where there are only a few tiles, the direct implicit-GEMM
// convolution for the RGB input layer and a single 2x2 image). Batch 1 is
// what the browser and `classify` run; bigger batches (feature caching)
// get the same algorithms, correct at any batch. The rule depends only on
// the layer shape at the Net's input size, never on a measurement at run
// time, so a Net computes the same bits on every run and machine with the
// same kernels. It also sets the memory a Net holds: F(4x4) keeps 4x a
// layer's weights, F(2x2) 16/9.
func winogradTile(cin, h, w int) int {
	return kernels.WinogradTile(1, cin, h, w)
}

// NewFeatureNet packs a conv base without a classifier for inputSize×
// inputSize images. Use Features or PooledFeatures on it (Forward panics).
// A cut base (Arch.Layers) packs only its layers; its output is the
// activation after the last of them.
func NewFeatureNet(base *ConvBase, inputSize int) (*Net, error) {
	if err := ValidateInputSize(inputSize); err != nil {
		return nil, err
	}
	if err := base.Check(); err != nil {
		return nil, err
	}
	n := &Net{size: inputSize, arch: base.Arch, last: base.Arch.Depth() - 1}
	h := inputSize
	for i := range base.Arch.Depth() {
		s := base.Arch.Conv(i)
		n.convs[i] = packConv(s, h, base.Layers[i])
		if s.PoolAfter {
			h /= 2
		}
	}
	return n, nil
}

// packConv packs one conv layer of spec s for h×h inputs, on the
// convolution winogradTile picks.
func packConv(s ConvSpec, h int, p ConvParams) convLayer {
	l := convLayer{spec: s, h: h, w: h, tile: winogradTile(s.Cin, h, h)}
	if l.tile != 0 {
		l.conv = kernels.NewWinograd3x3Tile(s.Cin, s.Cout, p.Kernel, p.Bias, l.tile)
	} else {
		l.conv = kernels.NewConv3x3(s.Cin, s.Cout, p.Kernel, p.Bias)
	}
	return l
}

// NewNet packs a complete model for inference: the conv base as in
// NewFeatureNet (each layer packed once, Winograd-transformed once where
// winogradTile says so) and the head's dense layers. The model's weights are
// float32 here whatever the file stored: ReadModelFile dequantizes int8 and
// float16 once, at load, never per image. m is checked first (Model.Check)
// and every problem reported.
//
// Heads (Model.Head.Kind), as in the Keras transfer-learning tutorial:
//   - HeadSeed: Flatten of the size/32 × size/32 × C conv output in NHWC
//     order (row, column, channel, channel fastest: exactly what Keras'
//     Flatten gives on channels_last tensors, so Keras dense kernels load
//     unchanged) → Dense 4096 ReLU → Dense 1072 ReLU → Dropout (the
//     identity at inference) → Dense n softmax.
//   - HeadGAP: global average pool → Dense 256 ReLU → Dropout → Dense n softmax.
//   - HeadLinear: global average pool → Dense n softmax.
//
// Whatever the kind, every dense layer but the last is followed by ReLU
// and the last by softmax; Model.Check fixes the layer counts.
func NewNet(m *Model) (*Net, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	n, err := NewFeatureNet(&m.Base, m.Info.InputSize)
	if err != nil {
		return nil, err
	}
	n.headKind = m.Head.Kind
	n.classes = append([]string(nil), m.Info.Classes...)
	n.mode = m.Info.Preprocess
	n.ood = m.OOD
	n.flip = m.Info.FlipAverage
	for _, d := range m.Head.Dense {
		n.head = append(n.head, denseLayer{in: d.In, out: d.Out, dense: kernels.NewDense(d.In, d.Out, d.Kernel, d.Bias)})
	}
	n.headBufs = make([][]float32, len(n.head)+1)
	return n, nil
}

// Classes are the class names, in output order (nil for a feature net).
func (n *Net) Classes() []string { return n.classes }

// PreprocessMode is the preprocessing the model was trained with
// (PreprocessCaffe or PreprocessTorch; "" for a feature net).
func (n *Net) PreprocessMode() string { return n.mode }

// Forward classifies batch preprocessed images x (NHWC,
// batch×size×size×3, see Preprocess) and returns a new slice of
// batch×classes softmax probabilities. For a model that asks for it
// (Info.FlipAverage) each image's probabilities are the mean of its own
// and its mirror image's, both run in one pass of 2·batch images, so the
// pass costs twice as much. It panics on a wrong len(x) or on a Net
// without a head (NewFeatureNet).
func (n *Net) Forward(batch int, x []float32) []float32 {
	n.checkHead("Forward")
	n.checkLen("Forward", "x", len(x), batch, n.size*n.size*3)
	pb, px := n.passInput(batch, x)
	return n.averageMirrored(batch, n.runHead(pb, n.runConvs(pb, px, 0, n.last)))
}

// passInput is what a pass runs for batch images x: x itself, or for a
// flip-averaging model x followed by its images mirrored left to right
// (which is the same as preprocessing the mirrored pictures: the
// preprocessing treats every pixel alike).
func (n *Net) passInput(batch int, x []float32) (int, []float32) {
	if !n.flip {
		return batch, x
	}
	return n.passBatch(batch), WithMirrors(batch, n.size, x)
}

// passBatch is how many images a pass for batch images runs.
func (n *Net) passBatch(batch int) int {
	if n.flip {
		return 2 * batch
	}
	return batch
}

// averageMirrored turns a pass's probabilities into the images': for a
// flip-averaging model, row i of the result is the mean of rows i and
// batch+i (the image and its mirror).
func (n *Net) averageMirrored(batch int, probs []float32) []float32 {
	if !n.flip {
		return probs
	}
	k := len(probs) / (2 * batch)
	out := make([]float32, batch*k)
	for i := range out {
		out[i] = (probs[i] + probs[batch*k+i]) / 2
	}
	return out
}

// WithMirrors returns batch images x (NHWC, size×size×3 each) followed by
// each of them mirrored left to right: 2·batch images.
func WithMirrors(batch, size int, x []float32) []float32 {
	img := size * size * 3
	if len(x) != batch*img {
		panic(fmt.Sprintf("model: WithMirrors: %d values, want %d images of %dx%dx3", len(x), batch, size, size))
	}
	out := make([]float32, 2*len(x))
	copy(out, x)
	for b := range batch {
		for y := range size {
			row := x[b*img+y*size*3 : b*img+(y+1)*size*3]
			dst := out[len(x)+b*img+y*size*3:]
			for c := range size {
				copy(dst[3*c:3*c+3], row[3*(size-1-c):3*(size-c)])
			}
		}
	}
	return out
}

// ForwardOOD is Forward that also judges each image against the training
// data: scores[i] is image i's OOD score (OOD.Score over its pooled
// activations at the OOD layers; OOD().Flagged says whether it is unlike
// the training images). scores is nil when the model has no OOD
// statistics. The probabilities are Forward's, bit for bit; a
// flip-averaging model's scores are its images' own, not their mirrors'
// (the OOD threshold is set on unmirrored images).
func (n *Net) ForwardOOD(batch int, x []float32) (probs []float32, scores []float64) {
	n.checkHead("ForwardOOD")
	n.checkLen("ForwardOOD", "x", len(x), batch, n.size*n.size*3)
	pb, px := n.passInput(batch, x)
	if n.ood == nil {
		return n.averageMirrored(batch, n.runHead(pb, n.runConvs(pb, px, 0, n.last))), nil
	}
	layers := make([]int, len(n.ood.Layers))
	for i, L := range n.ood.Layers {
		layers[i] = L.Layer
	}
	pooled, features := n.pooledAt(pb, px, layers)
	return n.averageMirrored(batch, n.runHead(pb, features)), n.oodScores(batch, pooled)
}

// oodScores are the OOD scores of the first batch images of a pass, from
// their pooled activations at the OOD layers.
func (n *Net) oodScores(batch int, pooled [][]float32) []float64 {
	scores := make([]float64, batch)
	for i := range scores {
		scores[i] = n.ood.Score(func(l int) []float32 {
			c := n.ood.Layers[l].Channels
			return pooled[l][i*c : (i+1)*c]
		})
	}
	return scores
}

// PooledAt returns the global average of the activation after each of the
// given conv layers (ascending, 0..12; after the block's max-pool where the
// layer ends one): pooled[j] is batch × that layer's channels. The trainer
// computes OOD statistics with it.
func (n *Net) PooledAt(batch int, x []float32, layers []int) [][]float32 {
	n.checkLen("PooledAt", "x", len(x), batch, n.size*n.size*3)
	pooled, _ := n.pooledAt(batch, x, layers)
	return pooled
}

// pooledAt runs the conv base, pooling the activation after each of layers,
// and returns the pooled activations and the conv base output (in one of
// the Net's buffers).
func (n *Net) pooledAt(batch int, x []float32, layers []int) (pooled [][]float32, features []float32) {
	act, next := x, 0
	for j, l := range layers {
		n.checkLayer("PooledAt", l)
		if j > 0 && l <= layers[j-1] {
			panic(fmt.Sprintf("model: Net.PooledAt: layers %v are not ascending", layers))
		}
		out := n.runConvs(batch, act, next, l)
		h, w, c := n.ActivationShape(l)
		p := make([]float32, batch*c)
		kernels.GlobalAvgPool(batch, h, w, c, out, p)
		pooled = append(pooled, p)
		// runConvs writes to both buffers, so the next segment starts from a copy.
		act, next = append([]float32(nil), out...), l+1
	}
	if next <= n.last {
		return pooled, n.runConvs(batch, act, next, n.last)
	}
	return pooled, act
}

// OOD is the model's out-of-distribution statistics, nil when its file
// has none (then ForwardOOD gives no scores).
func (n *Net) OOD() *OOD { return n.ood }

// ForwardFrom finishes the forward pass from act, the activation after
// conv layer `layer` as ForwardTo returns it (batch × ActivationShape(layer)):
// it runs the conv layers after `layer` and the head, and returns batch×classes
// probabilities. Forward(b, x) equals ForwardFrom(b, ForwardTo(b, x, l), l)
// for every l (for a flip-averaging model, Forward's probabilities
// average in the mirror images; ForwardFrom's, from one activation, do
// not). act is not modified.
func (n *Net) ForwardFrom(batch int, act []float32, layer int) []float32 {
	n.checkHead("ForwardFrom")
	n.checkLayer("ForwardFrom", layer)
	h, w, c := n.ActivationShape(layer)
	n.checkLen("ForwardFrom", "act", len(act), batch, h*w*c)
	if layer < n.last {
		act = n.runConvs(batch, act, layer+1, n.last)
	}
	return n.runHead(batch, act)
}

func (n *Net) checkHead(fn string) {
	if n.headKind == "" {
		panic("model: Net." + fn + ": this Net has no classifier head (made by NewFeatureNet); use Features or PooledFeatures")
	}
}

// runHead applies the head to the conv base output (batch ×
// ActivationShape(n.last)) and returns fresh probabilities.
func (n *Net) runHead(batch int, features []float32) []float32 {
	h, w, c := n.ActivationShape(n.last)
	x := features // HeadSeed: Flatten is the NHWC memory order itself
	if n.headKind != HeadSeed {
		n.headBufs[0] = growFloats(n.headBufs[0], batch*c)
		kernels.GlobalAvgPool(batch, h, w, c, features, n.headBufs[0])
		x = n.headBufs[0]
	}
	for i, d := range n.head {
		y := growFloats(n.headBufs[i+1], batch*d.out)
		n.headBufs[i+1] = y
		d.dense.Forward(batch, x, y, i < len(n.head)-1) // ReLU on all but the last
		x = y
	}
	probs := make([]float32, len(x))
	kernels.Softmax(batch, n.head[len(n.head)-1].out, x, probs)
	return probs
}

// growFloats returns buf resliced to n values, reallocated if too small.
func growFloats(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// Classify preprocesses img the way the model expects (Preprocess with the
// Net's input size and mode), runs it, and returns every class with its
// probability, most probable first.
func (n *Net) Classify(img image.Image) []rank.Prediction {
	n.checkHead("Classify")
	probs := n.Forward(1, Preprocess(img, n.size, n.mode))
	return rank.TopK(probs, n.classes, len(probs))
}

// ClassifyImage decodes one image file (DecodeImage: any supported format,
// EXIF orientation applied, size budgets checked) and classifies it with n.
// Errors name the file.
func ClassifyImage(n *Net, r io.Reader, name string) ([]rank.Prediction, error) {
	img, err := DecodeImage(r, name)
	if err != nil {
		return nil, err
	}
	return n.Classify(img), nil
}

// InputSize is the side of the square images the Net takes.
func (n *Net) InputSize() int { return n.size }

// Arch is the VGG16 variant of the Net.
func (n *Net) Arch() Arch { return n.arch }

// ActivationShape is the shape (height, width, channels) of one image's
// activation after conv layer `layer` (0..12, or fewer in a cut base), after its max-pool when the
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
	if layer < 0 || layer > n.last {
		panic(fmt.Sprintf("model: Net.%s: layer %d, want 0..%d", fn, layer, n.last))
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
// batch × side × side × channels, NHWC, side being Arch().OutputSide(size)
// (size/32 for the whole base). Same as ForwardTo at the last layer used.
func (n *Net) Features(batch int, x []float32) []float32 {
	return n.ForwardTo(batch, x, n.last)
}

// PooledFeatures returns the global average of the conv base output:
// batch × channels.
func (n *Net) PooledFeatures(batch int, x []float32) []float32 {
	n.checkLen("PooledFeatures", "x", len(x), batch, n.size*n.size*3)
	act := n.runConvs(batch, x, 0, n.last)
	h, w, c := n.ActivationShape(n.last)
	out := make([]float32, batch*c)
	kernels.GlobalAvgPool(batch, h, w, c, act, out)
	return out
}

// runConvs runs conv layers first..last on act (the input of layer first)
// and returns the result, which lives in one of the Net's two activation
// buffers: each step writes to the buffer its input is not in.
func (n *Net) runConvs(batch int, act []float32, first, last int) []float32 {
	n.growBuffers(batch)
	cur, in := act, -1 // in: which buffer holds cur (-1: the caller's slice)
	step := func(size int) []float32 {
		in = 1 - max(in, 0)
		return n.bufs[in][:size]
	}
	for i := first; i <= last; i++ {
		l := n.convs[i]
		out := step(batch * l.h * l.w * l.spec.Cout)
		l.conv.Forward(batch, l.h, l.w, cur, out, true)
		cur = out
		if l.spec.PoolAfter {
			pooled := step(batch * (l.h / 2) * (l.w / 2) * l.spec.Cout)
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
	if len(n.bufs[0]) < need {
		n.bufs[0] = make([]float32, need)
		n.bufs[1] = make([]float32, need)
	}
}
