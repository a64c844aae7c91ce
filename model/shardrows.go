package model

import (
	"fmt"

	"vggo/kernels"
)

// Row blocks. Split by output channels, the shards of a forward pass
// exchange the whole activation after every conv layer; at 224x224 the
// first two blocks' activations are two thirds of what they exchange (6 of
// 8.9 million values a pass) for under a third of the work. Those blocks
// can instead be split by rows: each shard computes every channel of its
// own rows of the block's pooled output, on a band of the block's input
// rows wide enough for them, and the shards exchange only the block's
// pooled output. A shard then holds the whole weights of these layers (at
// full width 0.15 MB of float32 for block 1 and 0.9 MB for block 2,
// transformed into 4x that by F(4x4)) and computes a few rows twice that its
// neighbour computes too: the halo that 3x3 convolutions need, rounded to
// whole Winograd tiles so that every output it keeps comes from the same
// tile, on the same inputs, as in Net, bit for bit.
//
// With the weights whole, a pass of several images (a batch, or a
// flip-averaging model's picture and its mirror image) can split those
// blocks by images instead: no halo at all, and even at 32x32, where
// rows would cost a shard 25-67 % more work per block, it spares the
// first two blocks the channel split's exchanges (at batch 32 with 2
// shards, 6 of the 8.5 million values a pass exchanges). Which split a
// pass takes is chosen per pass and block (Shard.mode); the weights held
// are the same.

// ShardRows returns the rows [lo, hi) of an activation of h rows that
// shard k of n computes in a block split by rows: the first h%n shards
// take one row more; a shard gets none when n exceeds h.
func ShardRows(h, n, k int) (lo, hi int) {
	if n < 1 || k < 0 || k >= n || h < 0 {
		panic(fmt.Sprintf("model: ShardRows(h=%d, n=%d, k=%d): want h >= 0 and 0 <= k < n", h, n, k))
	}
	per, extra := h/n, h%n
	lo = k*per + min(k, extra)
	hi = lo + per
	if k < extra {
		hi++
	}
	return lo, hi
}

// Cut says how the parts of a split forward pass's shards make up one
// whole activation of Batch images of Height × Width × Channels (NHWC):
// by output channels (ShardChannels: after every layer of a block split
// by channels), ByRows, by rows of every image (ShardRows: after a block
// split by rows) or, ByImages, by whole images (ShardRows of the batch:
// after a block split by images).
//
// A part [lo, hi) holds (hi-lo)*Unit values: pixels × (hi-lo) channels
// (channels fastest), Batch × (hi-lo) rows × Width × Channels, or (hi-lo)
// images. Laid end to end in shard order, the parts of shard j start at
// lo_j*Unit.
type Cut struct {
	Batch, Height, Width, Channels int
	ByRows, ByImages               bool
}

// Range returns shard k of n's channels, rows or images [lo, hi).
func (c Cut) Range(n, k int) (lo, hi int) {
	switch {
	case c.ByImages:
		return ShardRows(c.Batch, n, k)
	case c.ByRows:
		return ShardRows(c.Height, n, k)
	}
	return ShardChannels(c.Channels, n, k)
}

// Unit is the number of values one channel (of every pixel), one row (of
// every image) or one image adds to a part.
func (c Cut) Unit() int {
	switch {
	case c.ByImages:
		return c.Height * c.Width * c.Channels
	case c.ByRows:
		return c.Batch * c.Width * c.Channels
	}
	return c.Batch * c.Height * c.Width
}

// Len is the number of values of the whole activation.
func (c Cut) Len() int { return c.Batch * c.Height * c.Width * c.Channels }

// Runs is the number of contiguous runs a part by rows or by images
// makes in the whole activation (Run): one per image by rows, one by
// images. Parts by channels are strided (PlaceChannels).
func (c Cut) Runs() int {
	if c.ByImages {
		return 1
	}
	return c.Batch
}

// Run returns where run i of the part [lo, hi) (i < Runs) is, as offsets
// into the whole activation and into the part, and its length: image i's
// rows [lo, hi) by rows, images [lo, hi) by images.
func (c Cut) Run(i, lo, hi int) (fullAt, partAt, n int) {
	if c.ByImages {
		return lo * c.Unit(), 0, (hi - lo) * c.Unit()
	}
	row := c.Width * c.Channels
	return (i*c.Height + lo) * row, i * (hi - lo) * row, (hi - lo) * row
}

// Place copies part, the values [lo, hi) of one shard (Range), into their
// places in full.
func (c Cut) Place(full []float32, lo, hi int, part []float32) {
	if len(full) != c.Len() || len(part) != (hi-lo)*c.Unit() {
		panic(fmt.Sprintf("model: Cut.Place: %d values into %d for %+v, range [%d, %d)", len(part), len(full), c, lo, hi))
	}
	if hi == lo {
		return
	}
	if !c.ByRows && !c.ByImages {
		PlaceChannels(full, c.Channels, lo, hi, 0, part)
		return
	}
	for i := range c.Runs() {
		f, p, n := c.Run(i, lo, hi)
		copy(full[f:f+n], part[p:p+n])
	}
}

// Merge writes the whole activation full from the parts of the n shards:
// part(k) is shard k's (Range). It is the merge of an exchange; the values
// are copied, never recomputed.
func (c Cut) Merge(full []float32, n int, part func(k int) []float32) {
	for k := range n {
		lo, hi := c.Range(n, k)
		c.Place(full, lo, hi, part(k))
	}
}

// wholeBlock is a leading block of conv layers [first, last] whose
// weights every shard holds whole, so that a pass can split it by rows or
// by images instead of by output channels (blockMode). By rows, the
// shard keeps rows [r0, r1) of the block's pooled output, and layer
// first+j runs on rows bands[j] of its input (as if they were the whole
// image, same-padded), giving those rows of its output. By images, it
// runs its images of the batch (ShardRows of the batch) through the
// block whole: nothing is computed twice and nothing exchanged inside
// the block, which needs a batch that divides among the shards.
type wholeBlock struct {
	first, last int
	r0, r1      int
	bands       []rowBand
	rowsPay     bool // wholeBlockEnds' automatic choice counts it worth splitting by rows
}

// blockMode is how a pass splits a block among the shards.
type blockMode int

const (
	byChannels blockMode = iota // every layer, then exchange (Cut by channels)
	byRows                      // the block's pooled rows (Cut.ByRows)
	byImages                    // the batch's images (Cut.ByImages)
)

// rowBand is a range of rows [lo, hi) of a layer's input (or output).
type rowBand struct{ lo, hi int }

// rowBands returns the input rows each conv layer of a block split by
// rows runs on, last layer first backwards, so that the rows need of the
// last layer's output are exact. tiles and heights are the layers'
// Winograd tiles (0: direct) and input heights. A direct convolution's
// output row depends on three input rows; a Winograd tile's outputs on the
// tile's whole input patch, so a band starts on a tile boundary of the
// whole image (tiles line up with Net's) and reaches one row past the
// last tile it needs.
func rowBands(tiles, heights []int, need rowBand) []rowBand {
	bands := make([]rowBand, len(tiles))
	for j := len(tiles) - 1; j >= 0; j-- {
		t, h := tiles[j], heights[j]
		var b rowBand
		if t == 0 {
			b = rowBand{max(0, need.lo-1), min(h, need.hi+1)}
		} else {
			a := need.lo / t * t
			e := (need.hi + t - 1) / t * t
			b = rowBand{max(0, a-t), min(h, e+1)}
		}
		bands[j] = b
		need = b
	}
	return bands
}

// rowOverheadMax bounds the extra work a block split by rows (its rows
// computed twice, weighted by each layer's work, over an even share of
// the block) or by images (the images of the shard with most, over an
// even share of the batch) may cost a shard for the automatic choices
// (ShardOptions.RowBlocks and ImageBlocks).
const rowOverheadMax = 0.12

// wholeWeightsMax bounds the weights of the leading blocks a shard holds
// whole only so that passes may split them by images (ShardOptions'
// automatic choice): a share of the base's weights. VGG16's blocks 1 and
// 2 hold 1.8 % of them (0.26 of 14.7 million), block 3 10 % more.
const wholeWeightsMax = 0.02

// forced is the mode and number of leading blocks opts force (n 0: none).
func (o ShardOptions) forced() (mode blockMode, n int) {
	switch {
	case o.ImageBlocks > 0:
		return byImages, o.ImageBlocks
	case o.RowBlocks > 0:
		return byRows, o.RowBlocks
	}
	return byChannels, 0
}

// wholeBlockEnds returns the last conv layer of each leading block of a
// network of arch at input size, split into count shards, whose weights
// every shard holds whole under opts: whole blocks that end in a
// max-pool, from block 1 on, as many as opts forces or, automatically,
// the longer of two runs of them: the first rows blocks, whose rows
// computed twice cost a shard at most rowOverheadMax more work (worth
// splitting by rows even for one image; RowBlocks 0, else rows is 0), and
// those whose weights together are at most wholeWeightsMax of the base's
// (cheap to hold whole for the passes that split by images; ImageBlocks
// 0). It does not know the model's OOD layers: newShard then stops before
// a block with one inside it.
func wholeBlockEnds(arch Arch, size, count int, opts ShardOptions) (ends []int, rows int) {
	if count < 2 {
		return nil, 0
	}
	total, weights := 0, 0
	for i := range arch.Depth() {
		total += 9 * arch.Conv(i).Cin * arch.Conv(i).Cout
	}
	rowsOK, smallOK := opts.RowBlocks == 0, opts.ImageBlocks == 0
	small := 0
	h := size
	for first := 0; first < arch.Depth(); {
		last := first
		for last < arch.Depth()-1 && !arch.Conv(last).PoolAfter {
			last++
		}
		if !arch.Conv(last).PoolAfter {
			break // the base is cut inside this block
		}
		ends = append(ends, last)
		for i := first; i <= last; i++ {
			weights += 9 * arch.Conv(i).Cin * arch.Conv(i).Cout
		}
		rowsOK = rowsOK && rowOverhead(arch, first, last, h, count, opts) <= rowOverheadMax
		smallOK = smallOK && float64(weights) <= wholeWeightsMax*float64(total)
		if rowsOK {
			rows = len(ends)
		}
		if smallOK {
			small = len(ends)
		}
		first, h = last+1, h/2
	}
	n := max(rows, small)
	if _, forced := opts.forced(); forced > 0 {
		n = min(forced, len(ends))
	}
	return ends[:n], min(rows, n)
}

// rowOverhead is the largest extra work of a shard in block [first,
// last] split by rows into count shards, for input height h: rows
// computed, weighted by each layer's multiply-adds per row, over an even
// share of the block, minus 1.
func rowOverhead(arch Arch, first, last, h, count int, opts ShardOptions) float64 {
	var tiles, heights []int // blocks pool only after their last layer
	for i := first; i <= last; i++ {
		tiles, heights = append(tiles, opts.tileFor(arch.Conv(i), h)), append(heights, h)
	}
	even, worst := 0.0, 0.0
	for k := range count {
		r0, r1 := ShardRows(h/2, count, k)
		if r1 == r0 {
			continue
		}
		work := 0.0
		for j, b := range rowBands(tiles, heights, rowBand{2 * r0, 2 * r1}) {
			s := arch.Conv(first + j)
			work += float64((b.hi - b.lo) * s.Cin * s.Cout)
		}
		worst = max(worst, work)
	}
	for j := range tiles {
		s := arch.Conv(first + j)
		even += float64(h*s.Cin*s.Cout) / float64(count)
	}
	return worst/even - 1
}

// imageOverhead is the extra work of the shard with most images when
// count shards split a batch by images, over an even share, minus 1.
func imageOverhead(batch, count int) float64 {
	per := (batch + count - 1) / count
	return float64(per*count)/float64(batch) - 1
}

// planWholeBlocks returns the blocks of the shard's layers that end at
// ends (wholeBlockEnds; the first rows of them worth splitting by rows)
// as wholeBlocks for shard index of count, stopping before a block with
// an OOD layer other than its last (only a block's pooled output is whole
// on every shard).
func planWholeBlocks(convs []shardLayer, ends []int, rows, index, count int, ood *OOD) []wholeBlock {
	var plan []wholeBlock
	first := 0
	for i, last := range ends {
		if ood != nil {
			for _, L := range ood.Layers {
				if L.Layer >= first && L.Layer < last {
					return plan
				}
			}
		}
		var tiles, heights []int
		for _, l := range convs[first : last+1] {
			tiles, heights = append(tiles, l.tile), append(heights, l.h)
		}
		r0, r1 := ShardRows(convs[last].h/2, count, index)
		plan = append(plan, wholeBlock{first: first, last: last, r0: r0, r1: r1,
			bands: rowBands(tiles, heights, rowBand{2 * r0, 2 * r1}), rowsPay: i < rows})
		first = last + 1
	}
	return plan
}

// mode is how a pass of batch images splits whole block b: as the
// shard's options force, else by images where the batch divides among
// the shards within rowOverheadMax (a flip-averaging model's pass of one
// picture is two images), else by rows where their halo costs at most
// that, else by channels.
func (s *Shard) mode(b wholeBlock, batch int) blockMode {
	if mode, n := s.opts.forced(); n > 0 {
		return mode
	}
	switch {
	case s.opts.ImageBlocks == 0 && imageOverhead(batch, s.count) <= rowOverheadMax:
		return byImages
	case b.rowsPay:
		return byRows
	}
	return byChannels
}

// mayCutChannels reports whether some pass splits whole block b by
// channels (mode), so that the shard must also hold its channels of the
// block's layers packed on their own.
func (s *Shard) mayCutChannels(b wholeBlock) bool {
	_, forced := s.opts.forced()
	return forced == 0 && !b.rowsPay
}

// runRows runs whole block wb of the shard by rows on batch whole input
// activations x and exchanges the pooled rows it keeps; full receives
// the whole pooled activation.
func (s *Shard) runRows(batch int, x []float32, wb wholeBlock, ex Exchange) ([]float32, error) {
	first, last := s.convs[wb.first], s.convs[wb.last]
	c := last.spec.Cout
	cut := Cut{Batch: batch, Height: last.h / 2, Width: last.w / 2, Channels: c, ByRows: true}
	part := s.part[1][:(wb.r1-wb.r0)*cut.Unit()]
	if wb.r1 > wb.r0 {
		inRow := first.w * first.spec.Cin
		for b := range batch {
			img := x[b*first.h*inRow : (b+1)*first.h*inRow]
			cur := img[wb.bands[0].lo*inRow : wb.bands[0].hi*inRow]
			for j := range wb.bands {
				l := s.convs[wb.first+j]
				band := wb.bands[j]
				row := l.w * l.spec.Cout
				out := s.band[j%2][:(band.hi-band.lo)*row]
				l.conv.Forward(1, band.hi-band.lo, l.w, cur, out, true)
				next := rowBand{2 * wb.r0, 2 * wb.r1}
				if j+1 < len(wb.bands) {
					next = wb.bands[j+1]
				}
				cur = out[(next.lo-band.lo)*row : (next.hi-band.lo)*row]
			}
			_, at, n := cut.Run(b, wb.r0, wb.r1)
			kernels.MaxPool2x2(1, 2*(wb.r1-wb.r0), last.w, c, cur, part[at:at+n])
		}
	}
	full := s.full[:cut.Len()]
	if err := ex(wb.last, cut, part, full); err != nil {
		return nil, err
	}
	return full, nil
}

// runImages runs whole block wb of the shard by images: its images of
// the batch x (ShardRows of the batch) through every layer of the block,
// whole, and exchanges their pooled output; full receives the whole
// pooled activation. Each image's values come from the same kernels on
// the same inputs as in Net, which runs the whole batch at once.
func (s *Shard) runImages(batch int, x []float32, wb wholeBlock, ex Exchange) ([]float32, error) {
	first, last := s.convs[wb.first], s.convs[wb.last]
	c := last.spec.Cout
	cut := Cut{Batch: batch, Height: last.h / 2, Width: last.w / 2, Channels: c, ByImages: true}
	i0, i1 := cut.Range(s.count, s.index)
	part := s.part[1][:(i1-i0)*cut.Unit()]
	if n := i1 - i0; n > 0 {
		in := first.h * first.w * first.spec.Cin
		cur := x[i0*in : i1*in]
		for j := wb.first; j <= wb.last; j++ {
			l := s.convs[j]
			out := s.band[(j-wb.first)%2][:n*l.h*l.w*l.spec.Cout]
			l.conv.Forward(n, l.h, l.w, cur, out, true)
			cur = out
		}
		kernels.MaxPool2x2(n, last.h, last.w, c, cur, part)
	}
	full := s.full[:cut.Len()]
	if err := ex(wb.last, cut, part, full); err != nil {
		return nil, err
	}
	return full, nil
}
