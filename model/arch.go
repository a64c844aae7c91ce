// Package model is VGG16 itself: the architecture, the inference forward pass
// over package kernels, image preprocessing and the vggo model file. The
// readers for foreign pretrained weight files (Keras .h5, torchvision .pth,
// .safetensors) are in package model/weights, so the browser does not link them.
//
// Tensor layouts are fixed across the whole project so that no reader or
// writer has to guess: activations are NHWC, conv kernels are HWIO
// ([3][3][Cin][Cout], the Keras order), dense kernels are [In][Out].
package model

import (
	"fmt"
	"math"
)

// ConvSpec describes one of VGG16's 13 convolution layers at full width.
type ConvSpec struct {
	Name      string // Keras layer name, e.g. "block1_conv1"
	Block     int    // 1..5
	Cin, Cout int    // channel counts at full width
	PoolAfter bool   // a 2x2/2 max-pool follows (last conv of each block)
}

// ConvLayers is the number of convolution layers in VGG16's conv base; code
// that loops over or bounds layer indices uses it instead of a literal 13.
const ConvLayers = len(VGG16Convs)

// VGG16Convs is the conv base of Keras VGG16(include_top=False) and
// torchvision vgg16().features, in order.
var VGG16Convs = [...]ConvSpec{
	{"block1_conv1", 1, 3, 64, false},
	{"block1_conv2", 1, 64, 64, true},
	{"block2_conv1", 2, 64, 128, false},
	{"block2_conv2", 2, 128, 128, true},
	{"block3_conv1", 3, 128, 256, false},
	{"block3_conv2", 3, 256, 256, false},
	{"block3_conv3", 3, 256, 256, true},
	{"block4_conv1", 4, 256, 512, false},
	{"block4_conv2", 4, 512, 512, false},
	{"block4_conv3", 4, 512, 512, true},
	{"block5_conv1", 5, 512, 512, false},
	{"block5_conv2", 5, 512, 512, false},
	{"block5_conv3", 5, 512, 512, true},
}

// TorchFeatureIndex is the index of each conv layer inside torchvision's
// vgg16().features Sequential (ReLU and MaxPool take the other slots).
var TorchFeatureIndex = [ConvLayers]int{0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28}

// Arch selects a VGG16 variant. WidthDiv divides every channel count except
// the 3 input channels: 1 is the real VGG16; the test fixtures use 16 so
// they stay small while keeping every layer and name.
//
// Layers cuts the conv base after its first Layers conv layers (after the
// block's max-pool where that layer ends one), so the head reads an earlier,
// more general activation than block 5's (train -base-layers): 0 and
// ConvLayers both mean the whole base. A cut base holds, and its model file
// stores, only those layers.
type Arch struct {
	WidthDiv int
	Layers   int
}

// Depth is the number of conv layers the variant uses: Layers, or
// ConvLayers when Layers is 0.
func (a Arch) Depth() int {
	if a.Layers == 0 {
		return ConvLayers
	}
	return a.Layers
}

// FullVGG16 is the real network.
var FullVGG16 = Arch{WidthDiv: 1}

// Validate checks that WidthDiv divides every channel count (all are
// multiples of block 1's 64), so each layer keeps a whole number of
// channels, and that Layers is 0..ConvLayers.
func (a Arch) Validate() error {
	if c := VGG16Convs[0].Cout; a.WidthDiv < 1 || c%a.WidthDiv != 0 {
		return fmt.Errorf("width divisor %d: want a divisor of %d", a.WidthDiv, c)
	}
	if a.Layers < 0 || a.Layers > ConvLayers {
		return fmt.Errorf("base layers %d: want 1..%d (0: all %d)", a.Layers, ConvLayers, ConvLayers)
	}
	return nil
}

// InputMultiple is what every input side must be a multiple of: VGG16
// halves the image in five 2x2 max-pools.
const InputMultiple = 32

// ValidateInputSize checks an input side: a positive multiple of
// InputMultiple.
func ValidateInputSize(size int) error {
	if size < InputMultiple || size%InputMultiple != 0 {
		return fmt.Errorf("input size %d: want a multiple of %d, at least %d (224 is the ImageNet size)", size, InputMultiple, InputMultiple)
	}
	return nil
}

// Conv returns layer i's spec with the width divisor applied.
func (a Arch) Conv(i int) ConvSpec {
	s := VGG16Convs[i]
	d := a.WidthDiv
	if d <= 0 {
		d = 1
	}
	if s.Cin != 3 {
		s.Cin /= d
	}
	s.Cout /= d
	return s
}

// Channels is the channel count of the conv base's output (its last used
// layer's).
func (a Arch) Channels() int { return a.Conv(a.Depth() - 1).Cout }

// SideAfter is the feature map side after conv layer `layer` (its block's
// max-pool included) for an input of side size; layer −1 is the input.
func SideAfter(size, layer int) int {
	for i := 0; i <= layer; i++ {
		if VGG16Convs[i].PoolAfter {
			size /= 2
		}
	}
	return size
}

// OutputSide is the side of the conv base's output for an input of side
// size: size/32 for the whole base, larger for a cut one.
func (a Arch) OutputSide(size int) int { return SideAfter(size, a.Depth()-1) }

// ConvParams holds one conv layer's float32 parameters: Kernel HWIO
// ([3][3][Cin][Cout]), Bias [Cout].
type ConvParams struct {
	Kernel []float32
	Bias   []float32
}

// ConvBase is VGG16's 13 conv layers; a cut base (Arch.Layers) fills only
// the first Arch.Depth() and leaves the others empty.
type ConvBase struct {
	Arch   Arch
	Layers [ConvLayers]ConvParams
}

// DenseParams is one dense layer: Kernel [In][Out], Bias [Out].
type DenseParams struct {
	In, Out int
	Kernel  []float32
	Bias    []float32
}

// Head kinds.
const (
	HeadSeed   = "seed"   // Flatten → Dense 4096 ReLU → Dense 1072 ReLU → Dropout 0.2 → Dense n softmax
	HeadGAP    = "gap"    // GlobalAveragePooling → Dense 256 ReLU → Dropout → Dense n softmax
	HeadLinear = "linear" // GlobalAveragePooling → Dense n softmax
)

// headDenseLayers is the number of dense layers of each head kind.
var headDenseLayers = map[string]int{HeadSeed: 3, HeadGAP: 2, HeadLinear: 1}

// ValidateHead checks a head kind.
func ValidateHead(kind string) error {
	if _, ok := headDenseLayers[kind]; !ok {
		return fmt.Errorf("head kind %q: want seed, gap or linear", kind)
	}
	return nil
}

// Head is the classifier on top of the conv base. Dense layers are in order;
// every layer but the last is followed by ReLU, the last by softmax.
type Head struct {
	Kind  string
	Dense []DenseParams
}

// Cut returns b cut after its first `layers` conv layers (Arch.Layers; 0
// keeps all): the kept layers' slices are shared, the others left empty.
func (b *ConvBase) Cut(layers int) *ConvBase {
	c := &ConvBase{Arch: b.Arch}
	c.Arch.Layers = layers
	copy(c.Layers[:c.Arch.Depth()], b.Layers[:c.Arch.Depth()])
	return c
}

// Check verifies every shape of b against its Arch and reports all
// mismatches in one error. The layers past a cut base's depth must be
// empty.
func (b *ConvBase) Check() error {
	return b.check(nil)
}

// check is Check for a base whose layers may hold only the output
// channels [lo, hi) that cut gives for a layer (a shard read by
// ReadShard); nil cut wants every channel.
func (b *ConvBase) check(cut channelCut) error {
	var errs []string
	if l := b.Arch.Layers; l < 0 || l > ConvLayers {
		return &ShapeError{Problems: []string{fmt.Sprintf("base layers %d: want 1..%d (0: all %d)", l, ConvLayers, ConvLayers)}}
	}
	for i := b.Arch.Depth(); i < ConvLayers; i++ {
		if p := b.Layers[i]; p.Kernel != nil || p.Bias != nil {
			errs = append(errs, fmt.Sprintf("%s: present, but the base is cut after %d conv layers", VGG16Convs[i].Name, b.Arch.Depth()))
		}
	}
	for i := range b.Arch.Depth() {
		s := b.Arch.Conv(i)
		p := b.Layers[i]
		cout := s.Cout
		if cut != nil {
			lo, hi := cut(i)
			cout = hi - lo
		}
		if want := 9 * s.Cin * cout; len(p.Kernel) != want {
			errs = append(errs, fmt.Sprintf("%s kernel: %d values, want 3x3x%dx%d=%d", s.Name, len(p.Kernel), s.Cin, cout, want))
		}
		if len(p.Bias) != cout {
			errs = append(errs, fmt.Sprintf("%s bias: %d values, want %d", s.Name, len(p.Bias), cout))
		}
	}
	if len(errs) > 0 {
		return &ShapeError{Problems: errs}
	}
	return nil
}

// ShapeError lists every mismatch found between a weight source and the
// architecture.
type ShapeError struct {
	File     string
	Problems []string
}

func (e *ShapeError) Error() string {
	s := ""
	if e.File != "" {
		s = e.File + ": "
	}
	s += fmt.Sprintf("%d mismatch(es) with the VGG16 architecture:", len(e.Problems))
	for _, p := range e.Problems {
		s += "\n  - " + p
	}
	return s
}

// CountNonFinite counts NaN and ±Inf values (exponent bits all ones): the
// weight readers and Model.Check refuse weights that have any.
func CountNonFinite(x []float32) int {
	n := 0
	for _, v := range x {
		if math.Float32bits(v)&0x7f800000 == 0x7f800000 {
			n++
		}
	}
	return n
}
