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
// by channels) or, ByRows, by rows of every image (ShardRows: after a
// block split by rows).
//
// A part [lo, hi) holds (hi-lo)*Unit values: pixels × (hi-lo) channels
// (channels fastest), or Batch × (hi-lo) rows × Width × Channels. Laid end
// to end in shard order, the parts of shard j start at lo_j*Unit.
type Cut struct {
	Batch, Height, Width, Channels int
	ByRows                         bool
}

// Range returns shard k of n's channels or rows [lo, hi).
func (c Cut) Range(n, k int) (lo, hi int) {
	if c.ByRows {
		return ShardRows(c.Height, n, k)
	}
	return ShardChannels(c.Channels, n, k)
}

// Unit is the number of values one channel (of every pixel) or one row
// (of every image) adds to a part.
func (c Cut) Unit() int {
	if c.ByRows {
		return c.Batch * c.Width * c.Channels
	}
	return c.Batch * c.Height * c.Width
}

// Len is the number of values of the whole activation.
func (c Cut) Len() int { return c.Batch * c.Height * c.Width * c.Channels }

// ImageRows returns where image b's rows [lo, hi) are, as [start, end)
// offsets into the whole activation (by rows) and into the part that
// holds rows [lo, hi) of every image: one contiguous run in each.
func (c Cut) ImageRows(b, lo, hi int) (fullAt, partAt, n int) {
	row := c.Width * c.Channels
	return (b*c.Height + lo) * row, b * (hi - lo) * row, (hi - lo) * row
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
	if !c.ByRows {
		PlaceChannels(full, c.Channels, lo, hi, 0, part)
		return
	}
	for b := range c.Batch {
		f, p, n := c.ImageRows(b, lo, hi)
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

// rowBlock is a block of conv layers [first, last] that a shard runs by
// rows: it keeps rows [r0, r1) of the block's pooled output, and layer
// first+j runs on rows bands[j] of its input (as if they were the whole
// image, same-padded), giving those rows of its output.
type rowBlock struct {
	first, last int
	r0, r1      int
	bands       []rowBand
}

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

// rowOverheadMax bounds the extra work a block split by rows may cost a
// shard (its rows computed twice, weighted by each layer's work, over an
// even share of the block) for ShardOptions' automatic choice.
const rowOverheadMax = 0.12

// rowBlockEnds returns the last conv layer of each leading block of a
// network of arch at input size, split into count shards, that runs by
// rows under opts (ShardOptions.RowBlocks): whole blocks that end in a
// max-pool, from block 1 on, as many as opts asks or, automatically,
// while the overhead stays within rowOverheadMax. It does not know the
// model's OOD layers: newShard then stops before a block with one inside
// it.
func rowBlockEnds(arch Arch, size, count int, opts ShardOptions) []int {
	if count < 2 || opts.RowBlocks < 0 {
		return nil
	}
	var ends []int
	h := size
	for first := 0; first < arch.Depth(); {
		last := first
		for last < arch.Depth()-1 && !arch.Conv(last).PoolAfter {
			last++
		}
		if !arch.Conv(last).PoolAfter {
			break // the base is cut inside this block
		}
		if opts.RowBlocks > 0 {
			if len(ends) == opts.RowBlocks {
				break
			}
		} else if rowOverhead(arch, first, last, h, count, opts) > rowOverheadMax {
			break
		}
		ends = append(ends, last)
		first, h = last+1, h/2
	}
	return ends
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

// planRowBlocks returns the blocks of the shard's layers that end at
// ends (rowBlockEnds) as rowBlocks for shard index of count, stopping
// before a block with an OOD layer other than its last (only a block's
// pooled output is whole on every shard).
func planRowBlocks(convs []shardLayer, ends []int, index, count int, ood *OOD) []rowBlock {
	var plan []rowBlock
	first := 0
	for _, last := range ends {
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
		plan = append(plan, rowBlock{first: first, last: last, r0: r0, r1: r1, bands: rowBands(tiles, heights, rowBand{2 * r0, 2 * r1})})
		first = last + 1
	}
	return plan
}

// runRows runs row block rb of the shard on batch whole input
// activations x and exchanges the pooled rows it keeps; full receives
// the whole pooled activation.
func (s *Shard) runRows(batch int, x []float32, rb rowBlock, ex Exchange) ([]float32, error) {
	first, last := s.convs[rb.first], s.convs[rb.last]
	c := last.spec.Cout
	cut := Cut{Batch: batch, Height: last.h / 2, Width: last.w / 2, Channels: c, ByRows: true}
	part := s.part[1][:(rb.r1-rb.r0)*cut.Unit()]
	if rb.r1 > rb.r0 {
		inRow := first.w * first.spec.Cin
		for b := range batch {
			img := x[b*first.h*inRow : (b+1)*first.h*inRow]
			cur := img[rb.bands[0].lo*inRow : rb.bands[0].hi*inRow]
			for j := range rb.bands {
				l := s.convs[rb.first+j]
				band := rb.bands[j]
				row := l.w * l.spec.Cout
				out := s.band[j%2][:(band.hi-band.lo)*row]
				l.conv.Forward(1, band.hi-band.lo, l.w, cur, out, true)
				next := rowBand{2 * rb.r0, 2 * rb.r1}
				if j+1 < len(rb.bands) {
					next = rb.bands[j+1]
				}
				cur = out[(next.lo-band.lo)*row : (next.hi-band.lo)*row]
			}
			_, at, n := cut.ImageRows(b, rb.r0, rb.r1)
			kernels.MaxPool2x2(1, 2*(rb.r1-rb.r0), last.w, c, cur, part[at:at+n])
		}
	}
	full := s.full[:cut.Len()]
	if err := ex(rb.last, cut, part, full); err != nil {
		return nil, err
	}
	return full, nil
}
