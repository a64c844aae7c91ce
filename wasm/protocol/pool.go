package protocol

// ---- Pool of inference workers (issue 14) ----
//
// The page may run several inference workers that split every forward pass
// by output channels (model.Shard): worker k of n holds shard k, worker 0
// (the leader) also the head, and takes every request as a lone worker
// would. The page tells each worker its place with KindPool before the
// model is loaded; the leader starts each pass on the others with
// KindShardRun over a MessagePort, and the workers exchange each layer's
// parts through a SharedArrayBuffer (ExchangeShared) or as KindShardPart
// messages (ExchangeMessage).

// Pool message kinds.
const (
	// KindPool, page → worker: PoolRequest. The message's FieldPorts holds
	// a MessagePort to every other worker of the pool (by index; null at
	// the worker's own), FieldControl (shared mode) the pool's control
	// SharedArrayBuffer. Applies to the next KindLoad and KindBenchLoad.
	KindPool = "pool"
	// KindAbort, page → worker, no body: this pool is over (a worker died
	// or failed); a pass in progress ends with an error at once. The
	// worker acts on it before any queued message.
	KindAbort = "abort"
	// KindPark, page → follower, ParkRequest (shared mode): a pass is
	// about to start (the page has just sent the leader a request that
	// runs one); wait for it on the control buffer, as after a pass, so
	// that it starts on Atomics.notify and not when KindShardRun arrives.
	// No reply.
	KindPark = "park"
	// KindBenchLoad, page → worker: BenchLoad; reply KindBenchLoaded: BenchLoaded.
	KindBenchLoad   = "bench-load"
	KindBenchLoaded = "bench-loaded"
	// KindMemory, page → worker, no body: reply KindBenchLoaded with the
	// worker's wasm memory now (a pool benchmark asks every worker after
	// the timed runs, so a row's memory includes the passes' activations
	// and scratch, not only the weights).
	KindMemory = "memory"
	// KindShardRun, leader → worker over a port: FieldBody is ShardRun,
	// FieldBlob the input (Float32Array; absent in shared mode, where it
	// is in the data buffer, FieldData).
	KindShardRun = "shard-run"
	// KindShardPart, worker → worker over a port (message mode): FieldBody
	// is ShardPart, FieldBlob the part (Float32Array).
	KindShardPart = "shard-part"
	// KindShardFailed, worker → page: ErrorReply; this worker could not
	// do its share of a pass and is to be dropped from the pool.
	KindShardFailed = "shard-failed"
)

// The control SharedArrayBuffer's Int32 words (shared mode): the barrier's
// (abort, arrived, generation), then the pass the leader started last and
// its ShardRun, so that a follower waiting there (parked, between passes)
// starts the pass at once instead of when KindShardRun arrives.
const (
	ControlAbort      = 0 // nonzero: the pool is over (the page or a failing worker sets it)
	ControlArrived    = 1 // workers at the barrier
	ControlGeneration = 2 // barriers passed
	ControlPass       = 3 // the last pass the leader started; its ShardRun follows
	ControlBatch      = 4
	ControlSize       = 5
	ControlWidthDiv   = 6
	ControlMaxFull    = 7
	ControlExchanges  = 8
	ControlBench      = 9  // 1 for a benchmark pass
	ControlDataEpoch  = 10 // ShardRun.DataEpoch
	// ControlBytes is the control buffer's size.
	ControlBytes = 4 * 11
)

// ControlWords are the control-buffer words a leader writes for run
// before it stores run.Pass at ControlPass: (word, value) pairs.
func (r ShardRun) ControlWords() [][2]int {
	bench := 0
	if r.Bench {
		bench = 1
	}
	return [][2]int{
		{ControlBatch, r.Batch}, {ControlSize, r.Size}, {ControlWidthDiv, r.WidthDiv}, {ControlMaxFull, r.MaxFull},
		{ControlExchanges, r.Exchanges}, {ControlBench, bench}, {ControlDataEpoch, r.DataEpoch},
	}
}

// ShardRunFromControl is the ShardRun of pass that ControlWords wrote;
// word loads one word of the control buffer.
func ShardRunFromControl(pass int, word func(int) int) ShardRun {
	return ShardRun{
		Pass: pass, Batch: word(ControlBatch), Size: word(ControlSize), WidthDiv: word(ControlWidthDiv),
		MaxFull: word(ControlMaxFull), Exchanges: word(ControlExchanges), Bench: word(ControlBench) == 1,
		DataEpoch: word(ControlDataEpoch),
	}
}

// Extra message fields of the pool messages.
const (
	FieldPorts   = "ports"
	FieldControl = "control"
	FieldData    = "data"
)

// Exchange modes: how the workers of a pool hand each other activations.
const (
	// ExchangeShared: through a SharedArrayBuffer, with Atomics for the
	// barrier; needs a cross-origin isolated page.
	ExchangeShared = "shared"
	// ExchangeMessage: parts posted over MessagePorts between the workers;
	// works on any page.
	ExchangeMessage = "message"
	// ExchangeSingle: one worker, nothing to exchange.
	ExchangeSingle = "single"
)

// PoolRequest tells a worker its place in the pool.
type PoolRequest struct {
	Index int    `json:"index"`
	Count int    `json:"count"`
	Mode  string `json:"mode"` // ExchangeShared or ExchangeMessage (ExchangeSingle when Count is 1)
	// Spin: in shared mode, a worker polls the control buffer for a while
	// before it sleeps in Atomics.wait, at each barrier and when parked
	// for a pass the page announced (KindPark). Waking a sleeping worker
	// took about half a millisecond in Chromium on a 2-core machine, once
	// per layer, which at 32x32 was as long as a layer's work. The page
	// asks for it only when every worker can have a core: a worker
	// polling for one that waits for a core only delays it.
	Spin bool `json:"spin,omitempty"`
}

// ParkRequest is KindPark's body.
type ParkRequest struct {
	// SentMillis is performance.timeOrigin + performance.now() on the page
	// when it sent the message: a follower that has started a pass since
	// then (every context of the page reads the same clock this way) has
	// run the announced pass already, and does not park for it. A park
	// message waits in the follower's queue while the follower is parked
	// or running passes, so under a stream of requests they pile up.
	SentMillis float64 `json:"sentMillis"`
}

// BenchLoad asks a worker for its shard of the random benchmark network
// (inference.RandomModel) at one input size.
type BenchLoad struct {
	Size        int  `json:"size"`
	WidthDiv    int  `json:"widthDiv"`
	HalfWeights bool `json:"halfWeights,omitempty"` // float16 Winograd weights (model.ShardOptions)
	SmallTiles  bool `json:"smallTiles,omitempty"`  // F(2x2) in blocks 4 and 5 (model.ShardOptions)
	RowBlocks   int  `json:"rowBlocks,omitempty"`   // leading blocks split by rows: 0 automatic, -1 none (model.ShardOptions)
	ImageBlocks int  `json:"imageBlocks,omitempty"` // leading blocks split by images: 0 automatic, -1 none (model.ShardOptions)
}

// BenchLoaded answers BenchLoad (and KindMemory).
type BenchLoaded struct {
	WasmBytes int64 `json:"wasmBytes"` // the worker's wasm memory, with the shard built
	// ParkedPasses counts the passes this worker joined from the control
	// buffer, parked after the one before, rather than from KindShardRun.
	ParkedPasses int `json:"parkedPasses,omitempty"`
	// PolledBarriers counts the barriers this worker passed while polling
	// (PoolRequest.Spin), without sleeping in Atomics.wait.
	PolledBarriers int `json:"polledBarriers,omitempty"`
}

// ShardRun starts pass Pass on a worker.
type ShardRun struct {
	Pass  int  `json:"pass"`
	Batch int  `json:"batch"`
	Bench bool `json:"bench"` // the benchmark network of Size and WidthDiv (BenchLoad), not the loaded model

	Size     int `json:"size"`               // input side: the input is Batch × Size × Size × 3 values
	WidthDiv int `json:"widthDiv,omitempty"` // bench only
	// MaxFull is the largest whole activation of the pass (values): in
	// shared mode the data buffer holds the input, then two regions of
	// MaxFull values that even and odd exchanges (counted over all
	// passes: Pass × Exchanges + the exchange's number in the pass) use in
	// turn, so consecutive exchanges, across passes too, never share a
	// region.
	MaxFull int `json:"maxFull"`
	// Exchanges is the number of exchanges a pass makes
	// (model.Shard.Exchanges): one per conv layer, but one per block split
	// by rows.
	Exchanges int `json:"exchanges"`
	// DataEpoch numbers the leader's shared data buffers (shared mode): it
	// grows with each new, larger buffer, which only KindShardRun carries,
	// so a parked follower whose buffer is older waits for the message.
	DataEpoch int `json:"dataEpoch,omitempty"`
}

// ShardPart is one worker's part of one layer's output.
type ShardPart struct {
	Pass  int `json:"pass"`
	Layer int `json:"layer"`
	From  int `json:"from"`
}

// ---- end of the pool block ----
