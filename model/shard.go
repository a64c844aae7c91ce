package model

import (
	"fmt"
	"runtime"

	"vggo/kernels"
)

// ShardAlign is the channel granularity of a shard split: every shard's
// range of output channels starts at a multiple of it, so the packed
// weight panels of each shard are whole (8 is the wasm SIMD128 GEMM's
// panel width) and no shard pays for padding columns another one computes.
const ShardAlign = 8

// ShardChannels returns the output channels [lo, hi) of a layer with c
// channels that shard k of n computes. The c channels are cut into blocks
// of ShardAlign (the last one may be short) and the blocks dealt out in
// order, the first c%n shards taking one more; a shard can get none (when
// n exceeds the blocks), and the ranges of shards 0..n-1 tile [0, c).
func ShardChannels(c, n, k int) (lo, hi int) {
	if n < 1 || k < 0 || k >= n || c < 0 {
		panic(fmt.Sprintf("model: ShardChannels(c=%d, n=%d, k=%d): want c >= 0 and 0 <= k < n", c, n, k))
	}
	blocks := (c + ShardAlign - 1) / ShardAlign
	per, extra := blocks/n, blocks%n
	first := k*per + min(k, extra)
	count := per
	if k < extra {
		count++
	}
	return min(c, first*ShardAlign), min(c, (first+count)*ShardAlign)
}

// PlaceChannels copies rows, channels [lo, hi) of the pixels from p0 on
// (len(rows)/(hi-lo) pixels, channels fastest), into their places in full
// (pixels × c). It is Cut.Place for a run of one shard's pixels, so an
// exchange can merge a part through a small buffer, a piece at a time,
// instead of holding the whole part (at 224x224 one of two shards' part of
// block 1 is 6.4 MB).
func PlaceChannels(full []float32, c, lo, hi, p0 int, rows []float32) {
	w := hi - lo
	if w <= 0 || lo < 0 || hi > c || len(rows)%w != 0 || p0 < 0 || (p0+len(rows)/w)*c > len(full) {
		panic(fmt.Sprintf("model: PlaceChannels: %d values of channels [%d, %d) from pixel %d into %d values of %d channels", len(rows), lo, hi, p0, len(full), c))
	}
	for i := 0; i < len(rows)/w; i++ {
		copy(full[(p0+i)*c+lo:(p0+i)*c+hi], rows[i*w:(i+1)*w])
	}
}

// SliceChannels returns the channels [lo, hi) of x (rows × c, channels
// fastest) as a new rows × (hi-lo) slice: a layer's kernel ([3][3][Cin]
// rows × Cout) or bias (one row) cut to one shard's output channels.
func SliceChannels(x []float32, rows, c, lo, hi int) []float32 {
	if len(x) != rows*c || lo < 0 || lo > hi || hi > c {
		panic(fmt.Sprintf("model: SliceChannels: %d values as %d × %d, channels [%d, %d)", len(x), rows, c, lo, hi))
	}
	w := hi - lo
	out := make([]float32, rows*w)
	for i := 0; i < rows; i++ {
		copy(out[i*w:(i+1)*w], x[i*c+lo:i*c+hi])
	}
	return out
}

// Exchange hands a shard the whole activation after conv layer `layer`
// (after its max-pool where the layer ends a block): part is this shard's
// part of it (cut.Range: its channels, or its rows or images after a
// block split by rows or images), full receives the whole activation,
// from every shard's part (Cut.Place). Every shard calls it once per
// layer of a block split by channels and once per block split by rows or
// images, in layer order, with the same layer and cut. An error (a peer
// is gone) ends the forward pass.
type Exchange func(layer int, cut Cut, part, full []float32) error

// shardLayer is one conv layer of a Shard: only the output channels
// [lo, hi) of it, conv nil when the range is empty.
type shardLayer struct {
	spec   ConvSpec
	h, w   int
	tile   int // Winograd tile (0: direct), as ShardOptions.tileFor picks
	lo, hi int // all channels in a whole block
	conv   conv3x3
	// cut is, in a whole block that some passes split by channels
	// (Shard.mayCutChannels), the shard's ShardChannels of the layer,
	// packed on their own; nil otherwise.
	cut *channelConv
}

// channelConv is a conv layer's output channels [lo, hi), packed.
type channelConv struct {
	lo, hi int
	conv   conv3x3
}

// byChannels returns the channels [lo, hi) the layer computes when a
// pass splits it by channels, and their conv (nil when none).
func (l *shardLayer) byChannels() (lo, hi int, conv conv3x3) {
	if l.cut != nil {
		return l.cut.lo, l.cut.hi, l.cut.conv
	}
	return l.lo, l.hi, l.conv
}

// Shard is the part of a Net that one of n inference workers holds when
// they split each forward pass by output channels: the weights and biases
// of its ShardChannels of every conv layer (so n shards together hold one
// copy of the conv base), and for shard 0 the head too. Each shard computes
// its channels of a layer from the whole previous activation, then the
// shards exchange parts (Exchange) so each has the whole activation for the
// next layer. Each output value comes from the same kernel arithmetic on
// the same input as in Net, with the same algorithm per layer (the
// Winograd tile depends on the input channels and size only), so the
// result equals Net's bit for bit. The first blocks may instead be split
// by rows or by images (ShardOptions.RowBlocks and ImageBlocks; see
// wholeBlock), with the same result.
//
// Like a Net, a Shard is not safe for concurrent use.
type Shard struct {
	index, count int
	size         int
	convs        [ConvLayers]shardLayer // the first depth are used (a cut base has fewer)
	depth        int
	opts         ShardOptions
	whole        []wholeBlock // the leading blocks held whole
	head         *Net         // shard 0: a Net with only the head (and the conv shapes); nil otherwise

	part [2][]float32 // this shard's conv output and its max-pooled output (or its rows or images of a whole block's)
	band [2][]float32 // a whole block's layer outputs by rows or images, alternating
	full []float32    // the whole activation after the last exchange
}

// NewShard packs shard index of count (0 <= index < count) of m's network
// for inference: each conv layer cut to ShardChannels (whole in the
// blocks the shard may split by rows or images, ShardOptions' automatic
// choice), transformed as NewNet would; shard 0 also gets the head. m is
// checked as in NewNet.
func NewShard(m *Model, index, count int) (*Shard, error) {
	return newShard(m, index, count, false, ShardOptions{}, nil)
}

// TakeShard is NewShard for a caller that needs m's conv weights no more
// (an inference worker): layer by layer, it cuts the layer to this shard's
// channels, drops m's weights of it (m.Base.Layers become empty) and
// collects them before transforming the cut. The shard's transformed
// layers then take the place of the float32 ones, which matters in wasm,
// whose memory never shrinks: a worker's memory peaks at about the whole
// float32 base plus one layer, not plus its cut or transformed weights.
func TakeShard(m *Model, index, count int) (*Shard, error) {
	return newShard(m, index, count, true, ShardOptions{}, nil)
}

// ShardOptions are the choices of TakeShardWith.
type ShardOptions struct {
	// HalfWeights keeps the Winograd-transformed weights as float16
	// (kernels.NewWinograd3x3Half): half their memory (at 224x224 full
	// VGG16's transformed weights take 235 MB as float32), for devices
	// where the float32 ones do not fit. It changes the results: F(4x4)
	// layers then err by about 5e-3 of their output's maximum instead of
	// 1e-5 (kernels' TestWinogradHalfAccuracy), so probabilities no longer
	// match Net's to 1e-5; shards built alike still agree bit for bit.
	HalfWeights bool
	// SmallTiles runs blocks 4 and 5 (the 512-channel layers at full
	// width) with Winograd F(2x2) wherever F(4x4) would run: 16 instead of
	// 36 transformed values per weight. Those layers hold 88 % of VGG16's
	// transformed weights, so at 224x224 they shrink from 207 to 92 MB in
	// float32 (46 MB with HalfWeights). The price is speed: F(2x2) does
	// 1.78x the multiplications of F(4x4) at 28x28 and 1.36x at 14x14.
	// F(2x2) is the more accurate of the two (about 6e-7 of a layer's
	// output maximum against 1e-5), but no longer Net's arithmetic, so
	// results match Net's to rounding rather than bit for bit; shards built
	// alike still agree bit for bit.
	SmallTiles bool
	// RowBlocks is the number of leading blocks every pass splits by
	// rows instead of output channels (see wholeBlock): 0 lets the shard
	// choose per pass (the blocks, from block 1 on, where rows computed
	// twice cost a shard at most rowOverheadMax more work: at 224x224
	// with 2 shards, blocks 1 and 2; at 32x32 none), -1 none. Only whole
	// blocks are split by rows, and none from the first with an OOD layer
	// before its last conv layer. All shards of a pass must be built
	// alike.
	RowBlocks int
	// ImageBlocks is the number of leading blocks every pass splits by
	// images (see wholeBlock), whatever its batch: 0 lets the shard
	// choose (it holds the weights of blocks 1 and 2 whole, 2 % of
	// VGG16's, and splits them, and any row blocks, by images in the
	// passes whose batch divides among the shards within rowOverheadMax),
	// -1 none. It takes precedence over RowBlocks.
	ImageBlocks int
}

// SaveMemory is the packing for devices short of memory: float16
// Winograd weights and F(2x2) in blocks 4 and 5. Full VGG16 at 224x224 in
// two workers takes 133 MB of wasm memory instead of 316 MB, at about 1.6x
// the time; probabilities move by up to a few thousandths (HalfWeights).
func SaveMemory() ShardOptions { return ShardOptions{HalfWeights: true, SmallTiles: true} }

// tileFor is the Winograd tile a shard's layer runs with (0: direct).
func (o ShardOptions) tileFor(spec ConvSpec, h int) int {
	tile := winogradTile(spec.Cin, h, h)
	if o.SmallTiles && tile == 4 && spec.Block >= 4 {
		return 2
	}
	return tile
}

// TakeShardWith is TakeShard with options.
func TakeShardWith(m *Model, index, count int, opts ShardOptions) (*Shard, error) {
	return newShard(m, index, count, true, opts, nil)
}

// newShard builds the shard; precut, if not nil, says which channels m's
// conv layers hold (ReadShard's shardCut: at least the shard's own).
func newShard(m *Model, index, count int, take bool, opts ShardOptions, precut channelCut) (*Shard, error) {
	if count < 1 || index < 0 || index >= count {
		return nil, fmt.Errorf("shard %d of %d: want 0 <= shard < count", index, count)
	}
	if err := m.check(precut); err != nil {
		return nil, err
	}
	size := m.Info.InputSize
	if err := ValidateInputSize(size); err != nil {
		return nil, err
	}
	depth := m.Base.Arch.Depth()
	s := planShard(m.Base.Arch, size, index, count, m.OOD, opts)
	head := &Net{size: size, arch: m.Base.Arch, last: depth - 1}
	// Layer by layer: cut this shard's channels, let go of the layer's
	// float32 weights (take), transform the cut. With take, the garbage
	// collector runs after each layer, so the transformed layers fill the
	// memory the whole layers leave and wasm memory (which never shrinks)
	// peaks at about the float32 base plus one layer's cut and scratch.
	for i := range depth {
		l := &s.convs[i]
		spec := l.spec
		lo, hi := ShardChannels(spec.Cout, count, index)
		l.lo, l.hi = lo, hi
		b := s.wholeBlockOf(i)
		if b != nil {
			l.lo, l.hi = 0, spec.Cout
		}
		p := m.Base.Layers[i]
		held := 0 // the first channel the layer's weights hold
		if precut != nil {
			held, _ = precut(i)
		}
		// pack returns the conv of channels [lo, hi) of the layer.
		pack := func(lo, hi int) conv3x3 {
			kernel, bias := p.Kernel, p.Bias
			if cout := len(p.Bias); lo-held != 0 || hi-held != cout {
				kernel, bias = SliceChannels(p.Kernel, 9*spec.Cin, cout, lo-held, hi-held), SliceChannels(p.Bias, 1, cout, lo-held, hi-held)
			}
			switch tile := l.tile; {
			case tile != 0 && opts.HalfWeights:
				return kernels.NewWinograd3x3Half(spec.Cin, hi-lo, kernel, bias, tile)
			case tile != 0:
				return kernels.NewWinograd3x3Tile(spec.Cin, hi-lo, kernel, bias, tile)
			}
			return kernels.NewConv3x3(spec.Cin, hi-lo, kernel, bias)
		}
		if l.hi > l.lo {
			l.conv = pack(l.lo, l.hi)
		}
		if b != nil && s.mayCutChannels(*b) {
			l.cut = &channelConv{lo: lo, hi: hi}
			if hi > lo {
				l.cut.conv = pack(lo, hi)
			}
		}
		if take {
			m.Base.Layers[i] = ConvParams{}
			runtime.GC()
		}
		head.convs[i] = convLayer{spec: spec, h: l.h, w: l.w}
	}
	if index == 0 {
		head.headKind = m.Head.Kind
		head.classes = append([]string(nil), m.Info.Classes...)
		head.mode = m.Info.Preprocess
		head.ood = m.OOD
		head.flip = m.Info.FlipAverage
		for _, d := range m.Head.Dense {
			head.head = append(head.head, denseLayer{in: d.In, out: d.Out, dense: kernels.NewDense(d.In, d.Out, d.Kernel, d.Bias)})
		}
		head.headBufs = make([][]float32, len(head.head)+1)
		s.head = head
	}
	return s, nil
}

// planShard returns shard index of count of a network of arch at input
// size without weights: its conv layers' shapes and Winograd tiles under
// opts, and the leading blocks it holds whole.
func planShard(arch Arch, size, index, count int, ood *OOD, opts ShardOptions) *Shard {
	s := &Shard{index: index, count: count, size: size, depth: arch.Depth(), opts: opts}
	h := size
	for i := range s.depth {
		spec := arch.Conv(i)
		s.convs[i] = shardLayer{spec: spec, h: h, w: h, tile: opts.tileFor(spec, h)}
		if spec.PoolAfter {
			h /= 2
		}
	}
	ends, rows := wholeBlockEnds(arch, size, count, opts)
	s.whole = planWholeBlocks(s.convs[:s.depth], ends, rows, index, count, ood)
	return s
}

// Index and Count say which shard this is, of how many.
func (s *Shard) Index() int { return s.index }

// Count is the number of shards the network is split into.
func (s *Shard) Count() int { return s.count }

// InputSize is the side of the square images the network takes.
func (s *Shard) InputSize() int { return s.size }

// Depth is the number of conv layers a pass runs (fewer than 13 for a
// base cut by -base-layers).
func (s *Shard) Depth() int { return s.depth }

// WholeBlocks is the number of leading blocks whose weights the shard
// holds whole, which passes may split by rows or by images
// (ShardOptions.RowBlocks and ImageBlocks).
func (s *Shard) WholeBlocks() int { return len(s.whole) }

// Splits says how a pass of batch images splits each whole block, in
// order: "rows", "images" or "channels".
func (s *Shard) Splits(batch int) []string {
	var splits []string
	for _, b := range s.whole {
		splits = append(splits, [...]string{byChannels: "channels", byRows: "rows", byImages: "images"}[s.mode(b, batch)])
	}
	return splits
}

// Exchanges is the number of times a pass of batch images calls its
// Exchange: once per conv layer, but once per block split by rows or
// images.
func (s *Shard) Exchanges(batch int) int {
	n := 0
	s.steps(batch, func(passStep) { n++ })
	return n
}

// passStep is one step of a pass, ending in one exchange: a whole block
// split by rows or images (block), or conv layer `layer` split by
// channels.
type passStep struct {
	layer int
	block *wholeBlock
	mode  blockMode
}

// steps calls f with the steps of a pass of batch images, in order.
func (s *Shard) steps(batch int, f func(passStep)) {
	for i := 0; i < s.depth; i++ {
		if b := s.wholeBlockOf(i); b != nil && b.first == i {
			if mode := s.mode(*b, batch); mode != byChannels {
				f(passStep{layer: b.last, block: b, mode: mode})
				i = b.last
				continue
			}
		}
		f(passStep{layer: i, mode: byChannels})
	}
}

// Channels returns the output channels [lo, hi) of conv layer `layer`
// whose weights this shard holds: all of them in a whole block.
func (s *Shard) Channels(layer int) (lo, hi int) {
	l := s.convs[layer]
	return l.lo, l.hi
}

// OOD is the model's OOD statistics on shard 0 (nil elsewhere, or when the
// model has none).
func (s *Shard) OOD() *OOD {
	if s.head == nil {
		return nil
	}
	return s.head.ood
}

// Run runs this shard's part of the conv base on batch preprocessed images
// x (every shard gets the same x), exchanging after each layer, and returns
// the conv base output (batch × size/32 × size/32 × C, in the Shard's
// buffer, valid until the next call). after, if not nil, sees the whole
// activation after every layer.
func (s *Shard) Run(batch int, x []float32, ex Exchange, after func(layer int, full []float32)) ([]float32, error) {
	if batch < 1 || len(x) != batch*s.size*s.size*3 {
		panic(fmt.Sprintf("model: Shard.Run: %d values for batch %d of %d×%d×3", len(x), batch, s.size, s.size))
	}
	s.grow(batch)
	cur := x
	var err error
	s.steps(batch, func(step passStep) {
		if err != nil {
			return
		}
		var full []float32
		switch step.mode {
		case byRows:
			full, err = s.runRows(batch, cur, *step.block, ex)
		case byImages:
			full, err = s.runImages(batch, cur, *step.block, ex)
		default:
			full, err = s.runChannels(batch, cur, step.layer, ex)
		}
		if err != nil {
			return
		}
		if after != nil {
			after(step.layer, full)
		}
		cur = full
	})
	if err != nil {
		return nil, err
	}
	return cur, nil
}

// runChannels runs this shard's channels of conv layer i (and its
// max-pool) on batch whole input activations x and exchanges them; full
// receives the whole activation.
func (s *Shard) runChannels(batch int, x []float32, i int, ex Exchange) ([]float32, error) {
	l := &s.convs[i]
	lo, hi, conv := l.byChannels()
	w := hi - lo
	out := s.part[0][:batch*l.h*l.w*w]
	if conv != nil {
		conv.Forward(batch, l.h, l.w, x, out, true)
	}
	h, wd := l.h, l.w
	if l.spec.PoolAfter {
		h, wd = h/2, wd/2
		pooled := s.part[1][:batch*h*wd*w]
		if w > 0 {
			kernels.MaxPool2x2(batch, l.h, l.w, w, out, pooled)
		}
		out = pooled
	}
	full := s.full[:batch*h*wd*l.spec.Cout]
	if err := ex(i, Cut{Batch: batch, Height: h, Width: wd, Channels: l.spec.Cout}, out, full); err != nil {
		return nil, err
	}
	return full, nil
}

// PassInput is what the pool runs for batch preprocessed images x (shard
// 0 says, from the model): x itself, or for a model that averages each
// image with its mirror image (Info.FlipAverage) x followed by the
// mirrored images. Every shard's Run and shard 0's ForwardOOD take it.
func (s *Shard) PassInput(batch int, x []float32) (passBatch int, passX []float32) {
	if s.head == nil {
		panic(fmt.Sprintf("model: Shard.PassInput on shard %d: only shard 0 holds the head", s.index))
	}
	return s.head.passInput(batch, x)
}

// ForwardOOD is Net.ForwardOOD for shard 0: it runs the conv base on the
// pass input x of batch images (PassInput's) with the other shards (Run)
// and the head, and returns the same probabilities and OOD scores as
// Net.ForwardOOD, bit for bit. It panics on other shards.
func (s *Shard) ForwardOOD(batch int, x []float32, ex Exchange) (probs []float32, scores []float64, err error) {
	if s.head == nil {
		panic(fmt.Sprintf("model: Shard.ForwardOOD on shard %d: only shard 0 holds the head", s.index))
	}
	n := s.head
	pb := n.passBatch(batch)
	var pooled [][]float32
	var after func(int, []float32)
	if n.ood != nil {
		pooled = make([][]float32, len(n.ood.Layers))
		after = func(layer int, full []float32) {
			for j, L := range n.ood.Layers {
				if L.Layer == layer {
					h, w, c := n.ActivationShape(layer)
					pooled[j] = make([]float32, pb*c)
					kernels.GlobalAvgPool(pb, h, w, c, full, pooled[j])
				}
			}
		}
	}
	features, err := s.Run(pb, x, ex, after)
	if err != nil {
		return nil, nil, err
	}
	probs = n.averageMirrored(batch, n.runHead(pb, features))
	if n.ood == nil {
		return probs, nil, nil
	}
	return probs, n.oodScores(batch, pooled), nil
}

// MaxActivation is the number of values of the largest whole activation
// a pass of batch images exchanges: what a shared exchange buffer must hold.
func (s *Shard) MaxActivation(batch int) int {
	n := 0
	s.steps(batch, func(step passStep) {
		l := s.convs[step.layer]
		h, w := l.h, l.w
		if l.spec.PoolAfter {
			h, w = h/2, w/2
		}
		n = max(n, batch*h*w*l.spec.Cout)
	})
	return n
}

// wholeBlockOf returns the whole block that holds conv layer i, or nil.
func (s *Shard) wholeBlockOf(i int) *wholeBlock {
	for j := range s.whole {
		if b := &s.whole[j]; i >= b.first && i <= b.last {
			return b
		}
	}
	return nil
}

// grow sizes the buffers for a pass of batch images: part[0] for this
// shard's largest conv output by channels, part[1] for its largest pooled
// one (a quarter of its layer's conv output, or its rows or images of a
// whole block's), band for the largest output of a whole block's layer by
// rows (one image's band) or by images (the shard's images), full for the
// largest whole activation.
func (s *Shard) grow(batch int) {
	conv, pooled, full, band := 0, 0, 0, 0
	s.steps(batch, func(step passStep) {
		l := s.convs[step.layer]
		switch b := step.block; step.mode {
		case byRows:
			pooled = max(pooled, batch*(b.r1-b.r0)*(l.w/2)*l.spec.Cout)
			for j, r := range b.bands {
				bl := s.convs[b.first+j]
				band = max(band, (r.hi-r.lo)*bl.w*bl.spec.Cout)
			}
		case byImages:
			i0, i1 := ShardRows(batch, s.count, s.index)
			pooled = max(pooled, (i1-i0)*(l.h/2)*(l.w/2)*l.spec.Cout)
			for _, bl := range s.convs[b.first : b.last+1] {
				band = max(band, (i1-i0)*bl.h*bl.w*bl.spec.Cout)
			}
		default:
			lo, hi, _ := l.byChannels()
			conv = max(conv, batch*l.h*l.w*(hi-lo))
			if l.spec.PoolAfter {
				pooled = max(pooled, batch*(l.h/2)*(l.w/2)*(hi-lo))
			}
		}
		h, w := l.h, l.w
		if l.spec.PoolAfter {
			h, w = h/2, w/2
		}
		full = max(full, batch*h*w*l.spec.Cout)
	})
	if len(s.band[0]) < band {
		s.band = [2][]float32{make([]float32, band), make([]float32, band)}
	}
	if len(s.full) < full {
		s.full = make([]float32, full)
	}
	if len(s.part[0]) < conv {
		s.part[0] = make([]float32, conv)
	}
	if len(s.part[1]) < pooled {
		s.part[1] = make([]float32, pooled)
	}
}
