package inference

import (
	"fmt"
	"math/rand"
	"time"

	"vggo/model"
	"vggo/wasm/protocol"
)

// Pool is how the leader of a pool of workers (shard 0) reaches the others.
type Pool interface {
	// Start begins a split forward pass (run; the pool numbers it) of
	// input x on every other worker and returns the exchange this worker
	// runs it with.
	Start(run protocol.ShardRun, x []float32) (model.Exchange, error)
}

// SetShard makes the engine worker index of count, reaching the others
// through pool (used by worker 0 only). It applies to the next Load and
// BenchLoad; count 1 is a lone worker with the whole network.
func (e *Engine) SetShard(index, count int, pool Pool) {
	e.index, e.count, e.pool = index, count, pool
	e.net, e.shard, e.bench = nil, nil, nil
}

// split reports whether the engine is one of several workers.
func (e *Engine) split() bool { return e.count > 1 }

// forwardOOD runs one preprocessed image through the network: a Net, or
// a shard (alone, or as the leader of the pool).
func (e *Engine) forwardOOD(x []float32) ([]float32, []float64, *model.OOD, error) {
	if e.shard == nil {
		probs, scores := e.net.ForwardOOD(1, x)
		return probs, scores, e.net.OOD(), nil
	}
	probs, scores, err := e.shardPass(e.shard, x, protocol.ShardRun{Batch: 1})
	return probs, scores, e.shard.OOD(), err
}

// shardPass runs run.Batch images through shard s (shard 0): with the
// other workers of the pool, or alone when s is the only shard (a lone
// engine saving memory, or timing BenchLoad's network), where its part is
// the whole activation.
func (e *Engine) shardPass(s *model.Shard, x []float32, run protocol.ShardRun) ([]float32, []float64, error) {
	batch := run.Batch
	run.Batch, x = s.PassInput(batch, x) // the pool runs the mirror images too when the model averages them
	ex := model.Exchange(loneExchange)
	if e.split() {
		if e.index != 0 || e.pool == nil {
			return nil, nil, fmt.Errorf("worker %d of %d was asked to lead a pass", e.index, e.count)
		}
		run.Size, run.MaxFull, run.Exchanges = s.InputSize(), s.MaxActivation(run.Batch), s.Exchanges(run.Batch)
		var err error
		if ex, err = e.pool.Start(run, x); err != nil {
			return nil, nil, err
		}
	}
	return s.ForwardOOD(batch, x, ex)
}

// Follow runs this worker's share of a pass the leader started (run),
// on input x, exchanging through ex.
func (e *Engine) Follow(run protocol.ShardRun, x []float32, ex model.Exchange) error {
	s := e.shard
	if run.Bench {
		s = e.bench[[2]int{run.Size, run.WidthDiv}]
	}
	if s == nil {
		return fmt.Errorf("worker %d of %d has no network loaded for the pass", e.index, e.count)
	}
	_, err := s.Run(run.Batch, x, ex, nil)
	return err
}

// BenchLoad builds this worker's shard of the random benchmark network
// (RandomModel, seed 1) at one size, for the pool's Bench.
func (e *Engine) BenchLoad(req protocol.BenchLoad) error {
	if req.WidthDiv <= 0 {
		req.WidthDiv = 1
	}
	if req.Size < 32 || req.Size > 512 {
		return fmt.Errorf("bench: input size %d outside 32..512", req.Size)
	}
	s, err := model.TakeShardWith(RandomModel(req.Size, req.WidthDiv, 1), e.index, max(e.count, 1), model.ShardOptions{HalfWeights: req.HalfWeights, SmallTiles: req.SmallTiles, RowBlocks: req.RowBlocks, ImageBlocks: req.ImageBlocks})
	if err != nil {
		return fmt.Errorf("bench: size %d: %w", req.Size, err)
	}
	if e.bench == nil {
		e.bench = map[[2]int]*model.Shard{}
	}
	e.bench[[2]int{req.Size, req.WidthDiv}] = s
	return nil
}

// Bench is the package's Bench for a lone worker; the leader of a pool
// times the split pass instead, on the shards BenchLoad built (every
// worker of the pool must have loaded each size first). A lone worker
// that has BenchLoad-ed times that network the same way, so a page can
// build it once and time it many times.
func (e *Engine) Bench(req protocol.BenchRequest, report func(protocol.BenchRow)) error {
	if !e.split() && e.bench == nil {
		return Bench(req, report)
	}
	if req.WidthDiv <= 0 {
		req.WidthDiv = 1
	}
	if req.Runs <= 0 {
		req.Runs = 1
	}
	req.Batch = max(req.Batch, 1)
	for _, size := range req.Sizes {
		s := e.bench[[2]int{size, req.WidthDiv}]
		if s == nil {
			return fmt.Errorf("bench: size %d, width 1/%d: not loaded on this pool (bench-load first)", size, req.WidthDiv)
		}
		x := benchInput(size, req.Batch)
		run := protocol.ShardRun{Batch: req.Batch, Bench: true, Size: size, WidthDiv: req.WidthDiv}
		row, err := timeRuns(size, req, func() error { _, _, err := e.shardPass(s, x, run); return err })
		if err != nil {
			return err
		}
		row.Splits = s.Splits(req.Batch)
		report(row)
	}
	return nil
}

// loneExchange is the exchange of a network in one shard: its part is
// the whole activation.
func loneExchange(layer int, cut model.Cut, part, full []float32) error {
	copy(full, part)
	return nil
}

// benchInput is the benchmark's random input (seed 2): batch images of
// size×size.
func benchInput(size, batch int) []float32 {
	rng := rand.New(rand.NewSource(2))
	x := make([]float32, batch*size*size*3)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 50)
	}
	return x
}

// timeRuns runs forward req.Warmup times untimed, then req.Runs times
// timed, and returns the row.
func timeRuns(size int, req protocol.BenchRequest, forward func() error) (protocol.BenchRow, error) {
	for i := 0; i < req.Warmup; i++ {
		if err := forward(); err != nil {
			return protocol.BenchRow{}, err
		}
	}
	row := protocol.BenchRow{Size: size, Batch: req.Batch, WidthDiv: req.WidthDiv, Runs: req.Runs}
	for i := 0; i < req.Runs; i++ {
		start := time.Now()
		if err := forward(); err != nil {
			return protocol.BenchRow{}, err
		}
		row.Millis = append(row.Millis, millisSince(start))
	}
	row.MedianMillis = protocol.Median(row.Millis)
	row.MinMillis = row.Millis[0]
	for _, v := range row.Millis {
		row.MinMillis = min(row.MinMillis, v)
	}
	return row, nil
}
