package inference

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"vggo/model"
	"vggo/wasm/protocol"
)

// goroutinePool is a Pool of engines in this process: Start runs every
// other engine's share in a goroutine, and the exchange is a barrier over
// shared slices, as the workers' SharedArrayBuffer exchange.
type goroutinePool struct {
	engines []*Engine
	mu      sync.Mutex
	cond    *sync.Cond
	parts   [][]float32
	arrived int
	gen     int
	errs    chan error
}

func newGoroutinePool(n int) *goroutinePool {
	p := &goroutinePool{parts: make([][]float32, n), errs: make(chan error, n)}
	p.cond = sync.NewCond(&p.mu)
	for k := 0; k < n; k++ {
		e := &Engine{}
		var pool Pool
		if k == 0 {
			pool = p
		}
		e.SetShard(k, n, pool)
		p.engines = append(p.engines, e)
	}
	return p
}

func (p *goroutinePool) barrier() {
	p.mu.Lock()
	defer p.mu.Unlock()
	gen := p.gen
	if p.arrived++; p.arrived == len(p.engines) {
		p.arrived, p.gen = 0, p.gen+1
		p.cond.Broadcast()
		return
	}
	for gen == p.gen {
		p.cond.Wait()
	}
}

func (p *goroutinePool) exchange(k int) model.Exchange {
	n := len(p.engines)
	return func(layer int, cut model.Cut, part, full []float32) error {
		p.parts[k] = part
		p.barrier()
		cut.Merge(full, n, func(j int) []float32 { return p.parts[j] })
		p.barrier()
		return nil
	}
}

func (p *goroutinePool) Start(run protocol.ShardRun, x []float32) (model.Exchange, error) {
	for k := 1; k < len(p.engines); k++ {
		go func() { p.errs <- p.engines[k].Follow(run, append([]float32(nil), x...), p.exchange(k)) }()
	}
	return p.exchange(0), nil
}

// wait collects the followers' errors of one pass.
func (p *goroutinePool) wait() error {
	var errs []error
	for k := 1; k < len(p.engines); k++ {
		errs = append(errs, <-p.errs)
	}
	return errors.Join(errs...)
}

// TestEngineSplitEqualsLone: engines splitting the pass (2 and 3 shards)
// classify an image file exactly as one engine alone does (probabilities,
// OOD verdict), and the pool's benchmark times the split pass.
func TestEngineSplitEqualsLone(t *testing.T) {
	_, data := writeFixture(t, "int8")
	var lone Engine
	if _, err := lone.Load(data, "m", model.ShardOptions{}); err != nil {
		t.Fatal(err)
	}
	want, err := lone.Classify(testImage(t), "img.png")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3} {
		p := newGoroutinePool(n)
		for _, e := range p.engines {
			if _, err := e.Load(data, "m", model.ShardOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := p.engines[0].Classify(testImage(t), "img.png")
		if err != nil {
			t.Fatal(err)
		}
		if err := p.wait(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Probs, want.Probs) || (got.OOD == nil) != (want.OOD == nil) {
			t.Errorf("%d shards: probabilities %v, one engine %v", n, got.Probs, want.Probs)
		}
		for _, e := range p.engines {
			if err := e.BenchLoad(protocol.BenchLoad{Size: 32, WidthDiv: 16}); err != nil {
				t.Fatal(err)
			}
		}
		var rows []protocol.BenchRow
		go func() {
			for range 3 { // one warm-up and two timed passes
				if err := p.wait(); err != nil {
					t.Error(err)
				}
			}
		}()
		err = p.engines[0].Bench(protocol.BenchRequest{Sizes: []int{32}, WidthDiv: 16, Warmup: 1, Runs: 2},
			func(r protocol.BenchRow) { rows = append(rows, r) })
		if err != nil || len(rows) != 1 || len(rows[0].Millis) != 2 || rows[0].Batch != 1 {
			t.Errorf("%d shards: bench rows %+v, err %v", n, rows, err)
		}
		// A size no worker built is refused, naming it.
		if err := p.engines[0].Bench(protocol.BenchRequest{Sizes: []int{64}, WidthDiv: 16}, func(protocol.BenchRow) {}); err == nil {
			t.Errorf("%d shards: bench of an unloaded size gave no error", n)
		}
	}
}

// TestEngineLoneBenchLoad: a lone engine times the network BenchLoad built
// (one shard, nothing to exchange), and its probabilities are Net's.
func TestEngineLoneBenchLoad(t *testing.T) {
	var e Engine
	if err := e.BenchLoad(protocol.BenchLoad{Size: 32, WidthDiv: 16}); err != nil {
		t.Fatal(err)
	}
	var rows []protocol.BenchRow
	if err := e.Bench(protocol.BenchRequest{Sizes: []int{32}, WidthDiv: 16, Runs: 2, Batch: 3}, func(r protocol.BenchRow) { rows = append(rows, r) }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Batch != 3 || len(rows[0].Millis) != 2 {
		t.Errorf("rows %+v", rows)
	}
	net, err := model.NewNet(RandomModel(32, 16, 1))
	if err != nil {
		t.Fatal(err)
	}
	x := benchInput(32, 3)
	got, _, err := e.bench[[2]int{32, 16}].ForwardOOD(3, x, loneExchange)
	if err != nil || !slices.Equal(got, net.Forward(3, x)) {
		t.Errorf("one shard gives %v (err %v), Net %v", got, err, net.Forward(3, x))
	}
}

// TestEngineSaveMemory: the default model loaded to save memory
// (LoadOptions with SaveMemory: float16 weights, F(2x2) in blocks 4 and 5),
// alone and in 2 shards, classifies every sample as the float32 Net does
// within 5e-3 in probability with the same top class, moves at least one
// probability (the packing is in use), gives the same bits alone and in
// shards, says so in Loaded, and refuses to teach with the reason.
func TestEngineSaveMemory(t *testing.T) {
	data, err := os.ReadFile("../../web/models/fashion-mnist-vgg16.vggo.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	samples, err := filepath.Glob("../../web/static/samples/*.png")
	if err != nil || len(samples) < 10 {
		t.Fatalf("samples: %v, %v", samples, err)
	}
	save := LoadOptions(protocol.LoadRequest{SaveMemory: true})
	if save != model.SaveMemory() || LoadOptions(protocol.LoadRequest{}) != (model.ShardOptions{}) {
		t.Fatalf("LoadOptions: %+v", save)
	}
	var float, lone Engine
	if loaded, err := float.Load(data, "default", model.ShardOptions{}); err != nil || loaded.SaveMemory {
		t.Fatalf("float32 load: %+v, %v", loaded, err)
	}
	if loaded, err := lone.Load(data, "default", save); err != nil || !loaded.SaveMemory || !loaded.FlipAverage {
		t.Fatalf("saving load: %+v, %v", loaded, err)
	}
	p := newGoroutinePool(2)
	for _, e := range p.engines {
		if _, err := e.Load(data, "default", save); err != nil {
			t.Fatal(err)
		}
	}
	const tol = 5e-3
	worst := 0.0
	for _, path := range samples {
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		want, err := float.Classify(file, name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := lone.Classify(file, name)
		if err != nil {
			t.Fatal(err)
		}
		split, err := p.engines[0].Classify(file, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.wait(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(split.Probs, got.Probs) {
			t.Errorf("%s: 2 shards saving memory %v, one engine %v", name, split.Probs, got.Probs)
		}
		for i := range want.Probs {
			worst = math.Max(worst, math.Abs(float64(got.Probs[i]-want.Probs[i])))
		}
		if got.Top[0].Class != want.Top[0].Class {
			t.Errorf("%s: top class %s saving memory, %s in float32", name, got.Top[0].Class, want.Top[0].Class)
		}
		if got.OOD == nil || got.OOD.Flagged != want.OOD.Flagged {
			t.Errorf("%s: OOD %+v saving memory, %+v in float32", name, got.OOD, want.OOD)
		}
	}
	t.Logf("max |saving memory - float32| over %d samples: %.2g", len(samples), worst)
	if worst > tol || worst == 0 {
		t.Errorf("saving memory moves probabilities by up to %.3g: want more than 0 (the packing in use) and at most %g", worst, tol)
	}
	sample, err := os.ReadFile(samples[0])
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lone.Features(img, "a.png", false); err == nil || !strings.Contains(err.Error(), "packed to save memory") {
		t.Errorf("teaching on a saving engine: %v", err)
	}
}
