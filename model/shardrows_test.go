package model

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestShardRows: the shards' row ranges tile [0, h) in order, differ in
// length by at most one, and are empty where shards outnumber rows.
func TestShardRows(t *testing.T) {
	for _, tc := range []struct{ h, n int }{{1, 1}, {7, 2}, {112, 2}, {56, 3}, {2, 5}, {1, 4}, {0, 3}, {14, 4}} {
		next, short, long := 0, tc.h, 0
		for k := range tc.n {
			lo, hi := ShardRows(tc.h, tc.n, k)
			if lo != next || hi < lo {
				t.Fatalf("h=%d n=%d: shard %d has [%d, %d) after %d", tc.h, tc.n, k, lo, hi, next)
			}
			next = hi
			short, long = min(short, hi-lo), max(long, hi-lo)
		}
		if next != tc.h || long-short > 1 {
			t.Errorf("h=%d n=%d: ranges end at %d, lengths %d..%d", tc.h, tc.n, next, short, long)
		}
	}
}

// TestCutMerge: cutting an activation into the shards' parts by rows, by
// images or by channels and merging them (Cut.Merge) gives it back
// exactly, with batches, odd sizes and more shards than rows, images or
// channels. The output is poisoned first, so a value the merge skips
// shows.
func TestCutMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []Cut{
		{Batch: 1, Height: 7, Width: 5, Channels: 3, ByRows: true},
		{Batch: 3, Height: 4, Width: 2, Channels: 16, ByRows: true},
		{Batch: 2, Height: 1, Width: 1, Channels: 8, ByRows: true},
		{Batch: 3, Height: 2, Width: 3, Channels: 5, ByImages: true},
		{Batch: 1, Height: 4, Width: 4, Channels: 2, ByImages: true},
		{Batch: 2, Height: 3, Width: 3, Channels: 17},
		{Batch: 1, Height: 2, Width: 2, Channels: 4},
	} {
		for _, n := range []int{1, 2, 3, 5} {
			full := uniformFloats(rng, c.Len(), 10)
			parts := make([][]float32, n)
			for k := range parts {
				lo, hi := c.Range(n, k)
				image := c.Height * c.Width * c.Channels
				switch {
				case c.ByRows: // the rows of every image, image after image
					row := c.Width * c.Channels
					for b := range c.Batch {
						parts[k] = append(parts[k], full[(b*c.Height+lo)*row:(b*c.Height+hi)*row]...)
					}
				case c.ByImages:
					parts[k] = append(parts[k], full[lo*image:hi*image]...)
				default:
					parts[k] = SliceChannels(full, c.Batch*c.Height*c.Width, c.Channels, lo, hi)
				}
				if len(parts[k]) != (hi-lo)*c.Unit() {
					t.Fatalf("%+v n=%d: shard %d's part has %d values, Unit says %d", c, n, k, len(parts[k]), (hi-lo)*c.Unit())
				}
			}
			got := make([]float32, len(full))
			for i := range got {
				got[i] = float32(math.NaN())
			}
			c.Merge(got, n, func(k int) []float32 { return parts[k] })
			if !slices.Equal(got, full) {
				t.Errorf("%+v n=%d: merge differs from the original", c, n)
			}
		}
	}
}

// TestRowBands: every band starts on a tile boundary of the whole image
// (or at row 0), covers the rows the next layer reads plus the halo its
// tiles need, and stays within the image.
func TestRowBands(t *testing.T) {
	for _, tc := range []struct {
		tiles, heights []int
		need           rowBand
		want           []rowBand
	}{
		// 224x224 block 1, shard 1 of 2: block1_conv2 (F(4x4)) needs
		// rows 107..223 of block1_conv1's (direct) output.
		{[]int{0, 4}, []int{224, 224}, rowBand{112, 224}, []rowBand{{107, 224}, {108, 224}}},
		{[]int{0, 4}, []int{224, 224}, rowBand{0, 112}, []rowBand{{0, 114}, {0, 113}}},
		// block 2, shard 0 of 2: the last tile is whole, one halo row.
		{[]int{4, 4}, []int{112, 112}, rowBand{0, 56}, []rowBand{{0, 61}, {0, 57}}},
		{[]int{4, 4}, []int{112, 112}, rowBand{56, 112}, []rowBand{{48, 112}, {52, 112}}},
		// F(2x2) and a need that is not tile-aligned.
		{[]int{2}, []int{16}, rowBand{5, 9}, []rowBand{{2, 11}}},
	} {
		got := rowBands(tc.tiles, tc.heights, tc.need)
		if !slices.Equal(got, tc.want) {
			t.Errorf("rowBands(%v, %v, %v) = %v, want %v", tc.tiles, tc.heights, tc.need, got, tc.want)
		}
	}
}

// TestWholeBlockCandidates: the automatic choice holds 224x224's first
// two blocks whole for 2 shards (worth splitting by rows) and, at 32x32
// (where the halo would double block 2's work), the same two for their
// small weights (to split by images); RowBlocks and ImageBlocks force or
// forbid them.
func TestWholeBlockCandidates(t *testing.T) {
	full := Arch{WidthDiv: 1}
	for _, tc := range []struct {
		size, count int
		opts        ShardOptions
		want        int
	}{
		{224, 2, ShardOptions{}, 2},
		{224, 1, ShardOptions{}, 0},
		{224, 2, ShardOptions{RowBlocks: -1, ImageBlocks: -1}, 0},
		{224, 2, ShardOptions{ImageBlocks: -1}, 2},
		{224, 4, ShardOptions{ImageBlocks: -1}, 1},
		{224, 4, ShardOptions{}, 2},
		{32, 2, ShardOptions{ImageBlocks: -1}, 0},
		{32, 2, ShardOptions{}, 2},
		{32, 2, ShardOptions{RowBlocks: -1}, 2},
		{32, 4, ShardOptions{}, 2},
		{32, 2, ShardOptions{RowBlocks: 3}, 3},
		{32, 2, ShardOptions{RowBlocks: 9}, 5},
		{32, 2, ShardOptions{ImageBlocks: 4, RowBlocks: 1}, 4},
	} {
		if got, _ := wholeBlockEnds(full, tc.size, tc.count, tc.opts); len(got) != tc.want {
			t.Errorf("size %d, %d shards, %+v: %d whole blocks, want %d", tc.size, tc.count, tc.opts, len(got), tc.want)
		}
	}
	// A base cut inside block 3 has two whole blocks.
	if got, _ := wholeBlockEnds(Arch{WidthDiv: 1, Layers: 6}, 64, 2, ShardOptions{RowBlocks: 5}); !slices.Equal(got, []int{1, 3}) {
		t.Errorf("base cut after 6 layers: whole blocks end at layers %v, want [1 3]", got)
	}
}

// TestBlockModes: a pass splits the whole blocks by images when its
// batch divides among the shards within rowOverheadMax, else by rows
// where their halo is cheap, else by channels; forced modes hold for
// every batch.
func TestBlockModes(t *testing.T) {
	arch := Arch{WidthDiv: 1} // the plan only: full VGG16's weights would take a while to pack
	for _, tc := range []struct {
		size, count, batch int
		opts               ShardOptions
		want               []string
	}{
		{224, 2, 1, ShardOptions{}, []string{"rows", "rows"}},
		{224, 2, 2, ShardOptions{}, []string{"images", "images"}},
		{224, 2, 3, ShardOptions{}, []string{"rows", "rows"}}, // 2 images against 1.5: 33 % more
		{224, 2, 17, ShardOptions{}, []string{"images", "images"}},
		{224, 2, 2, ShardOptions{ImageBlocks: -1}, []string{"rows", "rows"}},
		{224, 4, 1, ShardOptions{}, []string{"rows", "channels"}},
		{224, 4, 8, ShardOptions{}, []string{"images", "images"}},
		{32, 2, 1, ShardOptions{}, []string{"channels", "channels"}},
		{32, 2, 2, ShardOptions{}, []string{"images", "images"}},
		{32, 2, 32, ShardOptions{RowBlocks: 2}, []string{"rows", "rows"}},
		{32, 2, 1, ShardOptions{ImageBlocks: 1}, []string{"images"}},
		{32, 3, 2, ShardOptions{}, []string{"channels", "channels"}},
	} {
		s := planShard(arch, tc.size, 1, tc.count, nil, tc.opts)
		if got := s.Splits(tc.batch); !slices.Equal(got, tc.want) {
			t.Errorf("size %d, %d shards, batch %d, %+v: blocks split by %v, want %v", tc.size, tc.count, tc.batch, tc.opts, got, tc.want)
		}
	}
}

// runShardsWith is runShards with the shards built by opts.
func runShardsWith(t *testing.T, m *Model, n, batch int, x []float32, opts ShardOptions) ([]float32, []float64, []*Shard) {
	t.Helper()
	shards := make([]*Shard, n)
	for k := range shards {
		c := *m
		s, err := TakeShardWith(&c, k, n, opts)
		if err != nil {
			t.Fatal(err)
		}
		shards[k] = s
	}
	probs, scores := runBuiltShards(t, shards, batch, x)
	return probs, scores, shards
}

// TestShardWholeBlocksEqualNet: shards that split their first blocks by
// rows or by images give Net.ForwardOOD's probabilities and OOD scores
// bit for bit: every number of such blocks, splits into 2-5 shards (rows
// or images that do not divide, more shards than rows or images), F(4x4),
// F(2x2) and direct layers in the blocks, batches of 1 and 2 (by images,
// also 3 and 4), a flip-averaging model, a cut base; and the
// MaxActivation a shared buffer is sized by still holds every exchange.
func TestShardWholeBlocksEqualNet(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	withOOD, _, _ := oodModel(t)
	withOOD.Info.FlipAverage = true
	full := randomConvBase(rng, Arch{WidthDiv: 8})
	models := map[string]*Model{
		"div4 size64 gap":             randomNetModel(rng, 4, 64, HeadGAP, 3),
		"div8 size96 linear":          randomNetModel(rng, 8, 96, HeadLinear, 4),
		"div16 size224 gap":           randomNetModel(rng, 16, 224, HeadGAP, 5),
		"div16 size32 gap+ood flip":   withOOD,
		"div8 size64 cut after 7 gap": cutModel(rng, full, 7, 64, HeadGAP, 3),
	}
	forEachNetCase(t, rng, models, func(name string, m *Model, batch int, x, wantProbs []float32, wantScores []float64) {
		for _, blocks := range []int{1, 2, 3, 5} {
			for _, n := range []int{2, 3, 5} {
				for _, opts := range []ShardOptions{{RowBlocks: blocks}, {ImageBlocks: blocks}} {
					probs, scores, shards := runShardsWith(t, m, n, batch, x, opts)
					if shards[0].WholeBlocks() == 0 {
						t.Errorf("%s, %+v, %d shards: no block held whole", name, opts, n)
					}
					checkEqualsNet(t, fmt.Sprintf("%s batch %d, %+v, %d shards", name, batch, opts, n), probs, scores, wantProbs, wantScores)
				}
			}
		}
	})
	// By images, batches the shards divide evenly, and unevenly.
	m := models["div4 size64 gap"]
	net, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{3, 4} {
		x := uniformFloats(rng, batch*64*64*3, 100)
		wantProbs, wantScores := net.ForwardOOD(batch, x)
		for _, n := range []int{2, 3} {
			for _, opts := range []ShardOptions{{}, {ImageBlocks: 3}} {
				probs, scores, shards := runShardsWith(t, m, n, batch, x, opts)
				checkEqualsNet(t, fmt.Sprintf("div4 size64 gap batch %d, %+v, %d shards (%v)", batch, opts, n, shards[0].Splits(batch)), probs, scores, wantProbs, wantScores)
			}
		}
	}
}

// TestRowBlocksStopAtOOD: a block with an OOD layer before its last conv
// layer, whose whole activation a block split by rows or images never
// has, and every block after it are split by channels, and the result is
// still Net's.
func TestRowBlocksStopAtOOD(t *testing.T) {
	m, _, _ := oodModel(t)
	if got := m.OOD.Layers[1].Layer; got != 6 {
		t.Fatalf("the fixture's second OOD layer is %d, want 6 (block 3's last)", got)
	}
	m.OOD.Layers[1].Layer = 5 // block3_conv2: as many channels as block3_conv3
	net, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	x := uniformFloats(rand.New(rand.NewPCG(1, 1)), 32*32*3, 100)
	wantProbs, wantScores := net.ForwardOOD(1, x)
	probs, scores, shards := runShardsWith(t, m, 2, 1, x, ShardOptions{RowBlocks: 5})
	if got := shards[0].WholeBlocks(); got != 2 {
		t.Errorf("%d row blocks, want 2 (the OOD layer is inside block 3)", got)
	}
	checkEqualsNet(t, "blocks 1-2 by rows", probs, scores, wantProbs, wantScores)
}

// TestReadShardRowBlocks: shards read from a model file keep every channel
// of their row blocks' layers (and only their own elsewhere), and compute
// what TakeShardWith's do; with row blocks the shards' MaxActivation
// shrinks to the largest activation they still exchange.
func TestReadShardRowBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	m := randomNetModel(rng, 8, 64, HeadGAP, 3)
	var buf bytes.Buffer
	if err := WriteModel(&buf, m, "float32"); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	x := uniformFloats(rng, 64*64*3, 100)
	for _, rows := range []int{-1, 2} {
		opts := ShardOptions{RowBlocks: rows, ImageBlocks: -1}
		want, _, taken := runShardsWith(t, m, 2, 1, x, opts)
		shards := make([]*Shard, 2)
		for k := range shards {
			s, _, err := ReadShard(bytes.NewReader(data), int64(len(data)), "m.safetensors", k, 2, opts)
			if err != nil {
				t.Fatal(err)
			}
			shards[k] = s
			for i := range s.Depth() {
				lo, hi := s.Channels(i)
				if tlo, thi := taken[k].Channels(i); lo != tlo || hi != thi {
					t.Errorf("row blocks %d, shard %d, layer %d: ReadShard holds channels [%d, %d), TakeShardWith [%d, %d)", rows, k, i, lo, hi, tlo, thi)
				}
			}
		}
		got, _ := runBuiltShards(t, shards, 1, x)
		if !slices.Equal(got, want) {
			t.Errorf("row blocks %d: ReadShard's shards give %v, TakeShardWith's %v", rows, got, want)
		}
		if rows == 2 {
			if lo, hi := shards[1].Channels(3); lo != 0 || hi != m.Base.Arch.Conv(3).Cout {
				t.Errorf("a row block's layer holds channels [%d, %d), want all %d", lo, hi, m.Base.Arch.Conv(3).Cout)
			}
			if got, want := shards[0].MaxActivation(1), 16*16*m.Base.Arch.Conv(4).Cout; got != want {
				t.Errorf("MaxActivation with blocks 1-2 by rows: %d, want block 3's first layer's %d", got, want)
			}
		}
	}
}
