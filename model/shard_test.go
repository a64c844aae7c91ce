package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestShardChannels: for every split the ranges tile [0, c) in order, start
// on ShardAlign boundaries, differ by at most one block, and shards beyond
// the blocks get none.
func TestShardChannels(t *testing.T) {
	for _, tc := range []struct{ c, n int }{
		{64, 1}, {64, 2}, {64, 3}, {64, 4}, {512, 4}, {512, 3},
		{3, 2}, {4, 8}, {13, 3}, {17, 2}, {8, 5}, {0, 3}, {100, 7},
	} {
		next, sizes := 0, []int{}
		for k := 0; k < tc.n; k++ {
			lo, hi := ShardChannels(tc.c, tc.n, k)
			if lo != next || hi < lo || hi > tc.c {
				t.Fatalf("c=%d n=%d shard %d: [%d, %d), want it to start at %d and stay in [0, %d]", tc.c, tc.n, k, lo, hi, next, tc.c)
			}
			if lo%ShardAlign != 0 && lo != tc.c {
				t.Errorf("c=%d n=%d shard %d: starts at %d, not a multiple of %d", tc.c, tc.n, k, lo, ShardAlign)
			}
			sizes = append(sizes, (hi-lo+ShardAlign-1)/ShardAlign)
			next = hi
		}
		if next != tc.c {
			t.Errorf("c=%d n=%d: ranges end at %d", tc.c, tc.n, next)
		}
		if slices.Max(sizes)-slices.Min(sizes) > 1 {
			t.Errorf("c=%d n=%d: blocks per shard %v differ by more than one", tc.c, tc.n, sizes)
		}
	}
}

// TestMergeChannels: cutting an activation into the shards' parts
// (SliceChannels) and merging them gives it back exactly, on sizes that do
// not divide: odd channel counts, more shards than channels, 1x1 and 2x2
// maps. The output is poisoned first, so a value the merge skips shows.
func TestMergeChannels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ pixels, c, n int }{
		{1, 3, 2}, {4, 13, 3}, {4, 4, 8}, {1, 512, 3}, {4, 17, 2}, {49, 64, 4}, {9, 100, 7}, {1, 1, 1},
	} {
		full := uniformFloats(rng, tc.pixels*tc.c, 10)
		parts := make([][]float32, tc.n)
		for k := range parts {
			lo, hi := ShardChannels(tc.c, tc.n, k)
			parts[k] = SliceChannels(full, tc.pixels, tc.c, lo, hi)
		}
		got := make([]float32, len(full))
		for i := range got {
			got[i] = float32(math.NaN())
		}
		Cut{Batch: 1, Height: tc.pixels, Width: 1, Channels: tc.c}.Merge(got, tc.n, func(k int) []float32 { return parts[k] })
		if !slices.Equal(got, full) {
			t.Errorf("pixels=%d c=%d n=%d: merge differs from the original", tc.pixels, tc.c, tc.n)
		}
		// The same merge a few pixels at a time (PlaceChannels), as the
		// browser's exchange does through a small buffer.
		for per := 1; per <= 3; per++ {
			for i := range got {
				got[i] = float32(math.NaN())
			}
			for k := range parts {
				lo, hi := ShardChannels(tc.c, tc.n, k)
				w := hi - lo
				if w == 0 {
					continue
				}
				for p0 := 0; p0 < tc.pixels; p0 += per {
					cnt := min(per, tc.pixels-p0)
					PlaceChannels(got, tc.c, lo, hi, p0, slices.Clone(parts[k][p0*w:(p0+cnt)*w]))
				}
			}
			if !slices.Equal(got, full) {
				t.Errorf("pixels=%d c=%d n=%d, %d pixels at a time: merge differs from the original", tc.pixels, tc.c, tc.n, per)
			}
		}
	}
}

// TestPlaceChannelsRefuses: a run that would write outside full, or rows
// that are not whole pixels, panic with the sizes instead of corrupting
// another shard's channels.
func TestPlaceChannelsRefuses(t *testing.T) {
	full := make([]float32, 4*8)
	for _, tc := range []struct {
		name           string
		lo, hi, p0, nv int
	}{
		{"past the last pixel", 0, 4, 3, 8},
		{"channels past c", 6, 10, 0, 4},
		{"not whole pixels", 0, 4, 0, 6},
		{"empty range", 4, 4, 0, 0},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "PlaceChannels") {
					t.Errorf("%s: recovered %v, want a PlaceChannels panic", tc.name, r)
				}
			}()
			PlaceChannels(full, 8, tc.lo, tc.hi, tc.p0, make([]float32, tc.nv))
		}()
	}
}

// localExchange joins n shards running in goroutines: each posts its part,
// waits for all, merges, and waits again before the slots are reused.
type localExchange struct {
	n      int
	mu     sync.Mutex
	cond   *sync.Cond
	parts  [][]float32
	arrive int
	gen    int
	fail   error // returned by every exchange once set
	calls  []int // exchanges per shard
}

func newLocalExchange(n int) *localExchange {
	e := &localExchange{n: n, parts: make([][]float32, n), calls: make([]int, n)}
	e.cond = sync.NewCond(&e.mu)
	return e
}

func (e *localExchange) barrier() {
	e.mu.Lock()
	defer e.mu.Unlock()
	gen := e.gen
	e.arrive++
	if e.arrive == e.n {
		e.arrive, e.gen = 0, e.gen+1
		e.cond.Broadcast()
		return
	}
	for gen == e.gen {
		e.cond.Wait()
	}
}

func (e *localExchange) forShard(k int) Exchange {
	return func(layer int, cut Cut, part, full []float32) error {
		if e.fail != nil {
			return e.fail
		}
		e.calls[k]++
		e.parts[k] = part
		e.barrier()
		cut.Merge(full, e.n, func(j int) []float32 { return e.parts[j] })
		e.barrier()
		return nil
	}
}

// runShards runs the n shards of m on x concurrently and returns shard 0's
// probabilities and scores.
func runShards(t *testing.T, m *Model, n, batch int, x []float32) ([]float32, []float64) {
	t.Helper()
	shards := make([]*Shard, n)
	for k := range shards {
		s, err := NewShard(m, k, n)
		if k == n-1 && n > 1 { // TakeShard on a copy gives the same shard, and empties the copy
			c := *m
			if s, err = TakeShard(&c, k, n); err == nil && c.Base.Layers[0].Kernel != nil {
				t.Fatal("TakeShard left the model's conv weights")
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		shards[k] = s
	}
	return runBuiltShards(t, shards, batch, x)
}

// runBuiltShards runs shards, built alike, concurrently on x and returns
// shard 0's probabilities and scores.
func runBuiltShards(t *testing.T, shards []*Shard, batch int, x []float32) ([]float32, []float64) {
	t.Helper()
	n := len(shards)
	ex := newLocalExchange(n)
	var probs []float32
	var scores []float64
	errs := make([]error, n)
	var wg sync.WaitGroup
	pb, px := shards[0].PassInput(batch, x) // as the browser's leader sends it
	for k, s := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if k == 0 {
				probs, scores, errs[k] = s.ForwardOOD(batch, px, ex.forShard(k))
			} else {
				_, errs[k] = s.Run(pb, px, ex.forShard(k), nil)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for k, s := range shards {
		if ex.calls[k] != s.Exchanges(pb) {
			t.Errorf("shard %d of %d (whole blocks split by %v) exchanged %d times, Exchanges says %d", k, n, s.Splits(pb), ex.calls[k], s.Exchanges(pb))
		}
	}
	return probs, scores
}

// TestShardForwardEqualsNet: n shards, each computing its output channels
// of every layer and exchanging after each, give Net.ForwardOOD's
// probabilities and OOD scores bit for bit, at splits that do not divide
// the channels, with more shards than a layer has channels, with conv maps
// down to 2x2 and 1x1 (32x32 input), every head kind, bases cut after K
// conv layers (-base-layers), a flip-averaging model, and a batch of 2.
func TestShardForwardEqualsNet(t *testing.T) {
	withOOD, _, _ := oodModel(t)
	flipped, _, _ := oodModel(t)
	flipped.Info.FlipAverage = true
	rng := rand.New(rand.NewPCG(7, 8))
	models := map[string]*Model{
		"div16 size32 gap+ood":      withOOD,
		"div16 size32 gap+ood flip": flipped,
		"div16 size32 seed":         randomNetModel(rng, 16, 32, HeadSeed, 5),
		"div4 size64 linear":        randomNetModel(rng, 4, 64, HeadLinear, 4),
		"div8 size96 gap":           randomNetModel(rng, 8, 96, HeadGAP, 3),
	}
	full := randomConvBase(rng, Arch{WidthDiv: 16})
	for _, k := range []int{1, 7, 12} { // a base cut by -base-layers K
		models[fmt.Sprintf("div16 size64 cut after %d gap", k)] = cutModel(rng, full, k, 64, HeadGAP, 3)
	}
	models["div16 size32 cut after 9 seed"] = cutModel(rng, full, 9, 32, HeadSeed, 2)
	forEachNetCase(t, rng, models, func(name string, m *Model, batch int, x, wantProbs []float32, wantScores []float64) {
		for _, n := range []int{1, 2, 3, 4, 5} {
			probs, scores := runShards(t, m, n, batch, x)
			checkEqualsNet(t, fmt.Sprintf("%s batch %d, %d shards", name, batch, n), probs, scores, wantProbs, wantScores)
		}
	})
}

// forEachNetCase calls check on every model with a random input of
// batches of 1 and 2 and Net.ForwardOOD's results on it.
func forEachNetCase(t *testing.T, rng *rand.Rand, models map[string]*Model, check func(name string, m *Model, batch int, x, wantProbs []float32, wantScores []float64)) {
	t.Helper()
	for name, m := range models {
		net, err := NewNet(m)
		if err != nil {
			t.Fatal(err)
		}
		size := m.Info.InputSize
		for _, batch := range []int{1, 2} {
			x := uniformFloats(rng, batch*size*size*3, 100)
			wantProbs, wantScores := net.ForwardOOD(batch, x)
			check(name, m, batch, x, wantProbs, wantScores)
		}
	}
}

// checkEqualsNet compares a split pass's results with Net's, bit for bit.
func checkEqualsNet(t *testing.T, what string, probs []float32, scores []float64, wantProbs []float32, wantScores []float64) {
	t.Helper()
	if !slices.Equal(probs, wantProbs) {
		t.Errorf("%s: probabilities %v, Net gives %v", what, probs, wantProbs)
	}
	if !slices.Equal(scores, wantScores) {
		t.Errorf("%s: OOD scores %v, Net gives %v", what, scores, wantScores)
	}
}

// TestShardHoldsItsChannels: the n shards together hold one copy of the
// conv base (their channel ranges tile each layer) but for the blocks
// split by rows, which each holds whole; only shard 0 has the head, and
// bad shard numbers are refused.
func TestShardHoldsItsChannels(t *testing.T) {
	m := randomNetModel(rand.New(rand.NewPCG(1, 1)), 16, 32, HeadGAP, 3)
	const n = 3
	for _, rowBlocks := range []int{-1, 2} { // blocks 1-2 (layers 0-3) by rows: every shard holds them whole
		for layer := 0; layer < ConvLayers; layer++ {
			total := 0
			for k := 0; k < n; k++ {
				c := *m
				s, err := TakeShardWith(&c, k, n, ShardOptions{RowBlocks: rowBlocks, ImageBlocks: -1})
				if err != nil {
					t.Fatal(err)
				}
				lo, hi := s.Channels(layer)
				total += hi - lo
				if (s.head != nil) != (k == 0) {
					t.Errorf("shard %d: has head %v", k, s.head != nil)
				}
			}
			want := m.Base.Arch.Conv(layer).Cout
			if rowBlocks == 2 && layer < 4 {
				want *= n
			}
			if total != want {
				t.Errorf("row blocks %d, layer %d: shards hold %d channels, want %d", rowBlocks, layer, total, want)
			}
		}
	}
	for _, bad := range [][2]int{{-1, 2}, {2, 2}, {0, 0}} {
		if _, err := NewShard(m, bad[0], bad[1]); err == nil {
			t.Errorf("NewShard(%d of %d) gave no error", bad[0], bad[1])
		}
	}
}

// TestShardExchangeError: a failed exchange (a peer gone) ends the pass
// with that error instead of a result, whether the layer's block is split
// by channels (an exchange after every layer) or by rows or images (one
// at the block's end).
func TestShardExchangeError(t *testing.T) {
	m := randomNetModel(rand.New(rand.NewPCG(2, 2)), 16, 32, HeadGAP, 3)
	for _, tc := range []struct {
		opts  ShardOptions
		calls int
	}{{ShardOptions{RowBlocks: -1}, 4}, {ShardOptions{RowBlocks: 2}, 2}, {ShardOptions{ImageBlocks: 2}, 2}} {
		c := *m
		s, err := TakeShardWith(&c, 0, 2, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		gone := errors.New("worker 1 is gone")
		x := make([]float32, 32*32*3)
		calls := 0
		_, _, err = s.ForwardOOD(1, x, func(layer int, _ Cut, part, full []float32) error {
			calls++
			if layer == 3 {
				return gone
			}
			return nil
		})
		if !errors.Is(err, gone) || calls != tc.calls {
			t.Errorf("%+v: err %v after %d exchanges, want %v after %d", tc.opts, err, calls, gone, tc.calls)
		}
	}
}
