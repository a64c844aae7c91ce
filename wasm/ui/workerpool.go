package ui

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/protocol"
)

// MaxWorkers caps the default pool size: beyond 4 workers the exchange
// after every layer costs more than the extra cores give at batch 1.
const MaxWorkers = 4

// Where the pool size comes from: the page's ?threads=N (the widget's
// threads attribute arrives that way), else the app's setting, else the
// device's core count capped at MaxWorkers. ?exchange=message forces the
// message exchange on an isolated page and ?spin=1 or 0 the workers'
// polling on or off, ?rows=N splits the first N blocks by rows and
// ?rows=0 none, ?images=N and ?images=0 likewise by images (poolFlags;
// tests, benchmarks).
const (
	storedThreadsKey = "vggo.threads"
	threadsQuery     = "threads"
	exchangeQuery    = "exchange"
	spinQuery        = "spin"
	rowsQuery        = "rows"
	imagesQuery      = "images"
)

// poolFlags are a page's overrides of the pool's automatic choices, from
// its query.
type poolFlags struct {
	exchange string // protocol.ExchangeMessage forces messages; "" chooses
	spin     string // "1" or "0" turns polling (protocol.PoolRequest.Spin) on or off; "" chooses
	rows     int    // model.ShardOptions.RowBlocks: 1-5 blocks split by rows, -1 none, 0 chooses
	images   int    // model.ShardOptions.ImageBlocks: 1-5 blocks split by images, -1 none, 0 chooses
}

// poolFlagsFrom reads the flags from a page's query; other values mean
// the automatic choice.
func poolFlagsFrom(q url.Values) poolFlags {
	var f poolFlags
	if q.Get(exchangeQuery) == protocol.ExchangeMessage {
		f.exchange = protocol.ExchangeMessage
	}
	if v := q.Get(spinQuery); v == "1" || v == "0" {
		f.spin = v
	}
	f.rows, f.images = blocksFlag(q.Get(rowsQuery)), blocksFlag(q.Get(imagesQuery))
	return f
}

// blocksFlag reads ?rows= or ?images=: N >= 1 blocks (at most VGG16's
// 5), 0 none (-1), anything else the automatic choice (0).
func blocksFlag(v string) int {
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || n < 0:
		return 0
	case n == 0:
		return -1
	}
	return min(n, 5)
}

// Whether the workers pack the model's weights to save memory
// (model.SaveMemory): the page's ?memory=save or normal (the widget's
// memory attribute), else the app's setting, else automatic: saving
// where the browser reports at most lowMemoryGB of device memory and the
// model's input is at least saveMemoryFromSize.
const (
	storedMemoryKey = "vggo.memory"
	memoryQuery     = "memory"
	memoryNormal    = "normal"
	memorySave      = "save"
	// lowMemoryGB: navigator.deviceMemory rounds down to a power of two,
	// so 2 means a device with less than 4 GB, where a tab holding over
	// 300 MB of wasm memory (full VGG16 at 224x224 in float32) risks
	// being killed.
	lowMemoryGB = 2
	// saveMemoryFromSize: from 64x64 up, blocks 4 and 5 run Winograd
	// F(4x4) or F(2x2), and their transformed weights (4x and 1.8x as many
	// values as the float32 kernels) dominate a worker's memory; packing
	// halves them or better. At 32x32 block 5 runs direct convolution,
	// whose float32 kernels packing leaves as they are, and the float32
	// weights read before packing set each worker's peak: the default
	// model in two workers took 168 MB either way, and packing would cost
	// 1.5-1.7x the time for nothing.
	saveMemoryFromSize = 64
)

// parseMemory reads a memory value: memoryNormal or memorySave, anything
// else "" (automatic).
func parseMemory(v string) string {
	if v == memoryNormal || v == memorySave {
		return v
	}
	return ""
}

// deviceMemoryGB is navigator.deviceMemory, 0 where the browser does not
// say (Firefox, Safari, pages that are not secure contexts) and outside a
// browser.
func deviceMemoryGB() float64 {
	if app.IsServer {
		return 0
	}
	v := app.Window().Get("navigator").Get("deviceMemory")
	if v.Type() != app.TypeNumber {
		return 0
	}
	return v.Float()
}

// lowMemoryDevice reports whether the browser says the device has at
// most lowMemoryGB of memory.
func lowMemoryDevice() bool {
	gb := deviceMemoryGB()
	return gb > 0 && gb <= lowMemoryGB
}

// autoSavesMemory is the automatic memory choice for a model of the given
// input size.
func autoSavesMemory(inputSize int) bool {
	return lowMemoryDevice() && inputSize >= saveMemoryFromSize
}

// DefaultWorkers is navigator.hardwareConcurrency capped at MaxWorkers.
func DefaultWorkers() int { return clampWorkers(cores()) }

// cores is navigator.hardwareConcurrency, 1 where the browser does not say.
func cores() int {
	n := app.Window().Get("navigator").Get("hardwareConcurrency")
	if n.Type() != app.TypeNumber {
		return 1
	}
	return max(1, n.Int())
}

// spins is whether n workers exchanging in mode poll before they sleep
// (protocol.PoolRequest.Spin): with the shared exchange, when each can
// have a core of its own (at most as many workers as the browser says
// the device has cores), unless flag ("1" or "0") says otherwise. On 2
// cores, 4 polling workers took 4-5x as long as 1 worker at 32x32.
func spins(n int, mode, flag string) bool {
	if mode != protocol.ExchangeShared {
		return false
	}
	switch flag {
	case "1":
		return true
	case "0":
		return false
	}
	return n <= cores()
}

// clampWorkers keeps a pool size in 1..2×MaxWorkers (more than the
// default allowed for measurements, never unbounded).
func clampWorkers(n int) int { return max(1, min(n, 2*MaxWorkers)) }

// parseWorkers reads a threads value: a number, or "" / "auto" for the
// default (0).
func parseWorkers(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0
	}
	return clampWorkers(n)
}

// exchangeMode is how n workers on this page exchange activations: the
// shared buffer where the page is cross-origin isolated (unless flags ask
// for messages), messages otherwise, nothing for one worker.
func exchangeMode(n int, flags poolFlags) string {
	if n <= 1 {
		return protocol.ExchangeSingle
	}
	w := app.Window()
	if flags.exchange != protocol.ExchangeMessage && w.Get("crossOriginIsolated").Truthy() && w.Get("SharedArrayBuffer").Truthy() {
		return protocol.ExchangeShared
	}
	return protocol.ExchangeMessage
}

// poolRequest is one page request the pool keeps until its final reply,
// so that it can send it again when a worker dies.
type poolRequest struct {
	id      int // the page's id (what the caller got from send)
	attempt int // the id the current attempt was sent with
	kind    string
	body    any
	blob    app.Value
	bench   *poolBench // a benchmark run, driven size by size
}

// poolBench is a benchmark run on a pool: every worker builds its shard
// of one size (KindBenchLoad), then the leader times it.
type poolBench struct {
	req     protocol.BenchRequest
	next    int   // index of the size being run
	waiting int   // bench-loaded replies still due for it
	memory  int64 // the workers' wasm memory, summed over their replies
	parked  int   // the followers' parked passes so far, summed likewise
	polled  int   // the workers' polled barriers so far, summed likewise

	// After the leader's row, every worker reports its memory (KindMemory)
	// before the row goes to the page and the next size starts.
	row  *workerReply // the leader's row, held until then
	done bool         // the leader's KindBenchDone came meanwhile
}

// poolMember is one worker of the pool.
type poolMember struct {
	client  *workerClient
	started bool  // it said KindReady
	loadID  int   // its current load request
	loaded  bool  // it has the pool's model (for the current pool)
	memory  int64 // its wasm memory once loaded
}

// workerPool runs the forward pass on several inference workers
// (model.Shard): worker 0 leads, taking every request as a lone worker
// would and starting each pass on the others. For its users it is one
// worker: send returns an id, and replies come to onReply with that id. A
// worker that dies (an error with id 0, a failed share of a pass, a failed
// start) is dropped: the pool aborts the pass in progress, regroups the
// workers left (a fresh one when none is left), loads the model on them
// again and resends every unanswered request, so none is lost.
type workerPool struct {
	ctx     app.Context
	build   string
	flags   poolFlags
	onReply func(app.Context, workerReply)

	members []*poolMember
	mode    string
	spin    bool      // the workers poll (protocol.PoolRequest.Spin)
	control app.Value // the shared mode's control buffer, one per regrouping
	nextID  int

	load     *poolRequest // the model load, sent again after a regrouping
	loadedOK bool         // the page has had its Loaded reply for load
	leaderOK *workerReply // the leader's Loaded, held until all are loaded
	ready    bool         // no load pending: requests go straight out

	open    map[int]*poolRequest // attempt id → request
	waiting []*poolRequest       // held until the pool is ready

	// memory is the workers' wasm memory together once the model is loaded.
	memory int64
	// saveMemory: the loaded model's weights are packed to save memory.
	saveMemory bool
	// splits: how a pass of one picture splits the leading blocks
	// (protocol.Loaded.Splits).
	splits []string
	// note says, for people, what happened to the pool ("" when nothing did).
	note string
	// killNext, set by the test hook, kills a worker right after the next
	// classify request is sent: a death with that request in flight.
	killNext *int
}

// startPool starts n workers of the build given.
func startPool(ctx app.Context, build string, n int, flags poolFlags, onReply func(app.Context, workerReply)) *workerPool {
	p := &workerPool{ctx: ctx, build: build, flags: flags, onReply: onReply, open: map[int]*poolRequest{}, ready: true}
	for i := 0; i < max(n, 1); i++ {
		p.members = append(p.members, p.startMember())
	}
	p.regroup()
	p.exposeTestHook()
	return p
}

// startMember starts one worker whose replies come to the pool.
func (p *workerPool) startMember() *poolMember {
	m := &poolMember{}
	m.client = startWorkerBuild(p.ctx, p.build, func(ctx app.Context, r workerReply) { p.onMember(ctx, m, r) })
	return m
}

// size is the number of workers.
func (p *workerPool) size() int { return len(p.members) }

// regroup tells every worker its place in a fresh pool (new ports and
// control buffer) and makes the pool load its model again.
func (p *workerPool) regroup() {
	n := len(p.members)
	p.mode = exchangeMode(n, p.flags)
	p.spin = spins(n, p.mode, p.flags.spin)
	p.control = nil
	var ports []app.Value // ports[i]: a JS array of worker i's ports, by peer
	if n > 1 {
		if p.mode == protocol.ExchangeShared {
			p.control = app.Window().Get("SharedArrayBuffer").New(protocol.ControlBytes)
		}
		// go-app's Call converts an app.Value inside a Go slice wrongly,
		// so the arrays are built in JavaScript.
		ports = make([]app.Value, n)
		for i := range ports {
			ports[i] = app.Window().Get("Array").New(n)
		}
		set := func(arr app.Value, i int, v any) { app.Window().Get("Reflect").Call("set", arr, i, v) }
		for i := 0; i < n; i++ {
			set(ports[i], i, nil)
			for j := i + 1; j < n; j++ {
				ch := app.Window().Get("MessageChannel").New()
				set(ports[i], j, ch.Get("port1"))
				set(ports[j], i, ch.Get("port2"))
			}
		}
	}
	for i, m := range p.members {
		m.loaded = false
		if n == 1 && p.control == nil && ports == nil {
			// A lone worker: tell it so (it may have been in a pool before).
			m.client.sendWith(0, protocol.KindPool, protocol.PoolRequest{Index: 0, Count: 1, Mode: p.mode}, nil, nil)
			continue
		}
		extra := map[string]any{protocol.FieldPorts: ports[i]}
		transfer := ports[i].Call("filter", app.Window().Get("Boolean"))
		if p.control != nil {
			extra[protocol.FieldControl] = p.control
		}
		m.client.sendWith(0, protocol.KindPool, protocol.PoolRequest{Index: i, Count: n, Mode: p.mode, Spin: p.spin}, extra, transfer)
	}
	if p.load != nil {
		p.startLoad()
	}
}

// send posts a request to the pool and returns its id.
func (p *workerPool) send(kind string, body any, blob app.Value) int {
	p.nextID++
	r := &poolRequest{id: p.nextID, kind: kind, body: body, blob: blob}
	switch kind {
	case protocol.KindLoad:
		req := body.(protocol.LoadRequest)
		req.RowBlocks, req.ImageBlocks = p.flags.rows, p.flags.images
		r.body = req
		p.load, p.loadedOK = r, false
		p.startLoad()
		return r.id
	case protocol.KindBench:
		if len(p.members) > 1 {
			req := body.(protocol.BenchRequest)
			r.bench = &poolBench{req: req}
		}
	}
	if !p.ready {
		p.waiting = append(p.waiting, r)
		return r.id
	}
	p.dispatch(r)
	return r.id
}

// dispatch sends a request to the leader under a fresh attempt id.
func (p *workerPool) dispatch(r *poolRequest) {
	p.nextID++
	r.attempt = p.nextID
	p.open[r.attempt] = r
	if r.bench != nil {
		p.benchNextSize(r)
		return
	}
	if r.kind == protocol.KindClassify {
		p.parkFollowers()
	}
	p.members[0].client.sendWith(r.attempt, r.kind, r.body, nil, nil, r.blob)
	if k := p.killNext; k != nil && r.kind == protocol.KindClassify {
		p.killNext = nil
		p.kill(*k)
	}
}

// kill terminates worker i as a crash would and drops it (test hook).
func (p *workerPool) kill(i int) {
	if i >= 0 && i < len(p.members) {
		p.members[i].client.worker.Call("terminate")
		p.drop(p.ctx, i, fmt.Sprintf("worker %d was terminated", i))
	}
}

// startLoad loads the model on the leader first: the others then find it
// verified in the Cache API instead of each downloading it.
func (p *workerPool) startLoad() {
	p.ready, p.leaderOK = false, nil
	p.nextID++
	p.load.attempt = p.nextID
	p.members[0].loadID = p.load.attempt
	p.members[0].client.sendWith(p.load.attempt, protocol.KindLoad, p.load.body, nil, nil)
}

// onMember handles a reply of one worker.
func (p *workerPool) onMember(ctx app.Context, m *poolMember, r workerReply) {
	idx := p.indexOf(m)
	if idx < 0 {
		return // a worker already dropped
	}
	switch {
	case r.Kind == protocol.KindShardFailed || r.Kind == protocol.KindError && r.ID == 0:
		if len(p.members) == 1 && !m.started {
			p.onReply(ctx, r) // the only worker cannot start: the page fails as with one worker
			return
		}
		var er protocol.ErrorReply
		r.decode(&er)
		p.drop(ctx, idx, er.Message)
		return
	case r.Kind == protocol.KindReady:
		m.started = true
		return
	case p.load != nil && r.ID == m.loadID && m.loadID != 0:
		p.onLoadReply(ctx, idx, m, r)
		return
	}
	if idx != 0 {
		p.onFollowerReply(ctx, m, r)
		return
	}
	req := p.open[r.ID]
	if req == nil {
		return // a reply to an attempt given up in a regrouping
	}
	if req.bench != nil && r.Kind == protocol.KindBenchLoaded {
		p.benchLoaded(req, r)
		return
	}
	if req.bench != nil && r.Kind == protocol.KindBenchDone {
		if req.bench.row != nil {
			req.bench.done = true // after the memory replies
			return
		}
		req.bench.next++
		p.benchNextSize(req)
		return
	}
	if req.bench != nil && r.Kind == protocol.KindBenchRow {
		b := req.bench
		b.row, b.waiting, b.memory, b.parked, b.polled = &r, len(p.members), 0, 0, 0
		for _, m := range p.members {
			m.client.sendWith(req.attempt, protocol.KindMemory, nil, nil, nil)
		}
		return
	}
	if r.Kind == protocol.KindBenchRow {
		var row protocol.BenchRow
		if r.decode(&row) == nil {
			row.Workers, row.Exchange, row.Spin = len(p.members), p.mode, p.spin
			r.Body, _ = json.Marshal(row)
		}
	}
	switch r.Kind {
	case protocol.KindResult, protocol.KindError, protocol.KindCacheStatus, protocol.KindBenchDone:
		delete(p.open, r.ID)
	}
	r.ID = req.id
	p.onReply(ctx, r)
}

// onLoadReply follows the model load: progress and errors of the
// leader's load go to the page; once the leader has the model, the
// others load theirs; the page hears Loaded when all have.
func (p *workerPool) onLoadReply(ctx app.Context, idx int, m *poolMember, r workerReply) {
	switch r.Kind {
	case protocol.KindProgress:
		if idx == 0 && !p.loadedOK {
			r.ID = p.load.id
			p.onReply(ctx, r)
		}
	case protocol.KindError:
		if idx != 0 {
			var er protocol.ErrorReply
			r.decode(&er)
			p.drop(ctx, idx, "loading its share of the model: "+er.Message)
			return
		}
		p.ready = true
		if !p.loadedOK {
			r.ID = p.load.id
			p.onReply(ctx, r)
		}
		p.load = nil
		p.flush()
	case protocol.KindLoaded:
		var loaded protocol.Loaded
		r.decode(&loaded)
		m.loaded, m.memory = true, loaded.WasmBytes
		if idx == 0 {
			r := r
			p.leaderOK = &r
			for _, f := range p.members[1:] {
				p.nextID++
				f.loadID = p.nextID
				f.client.sendWith(f.loadID, protocol.KindLoad, p.load.body, nil, nil)
			}
		}
		p.checkLoaded(ctx)
	}
}

// checkLoaded finishes a load once every worker has the model.
func (p *workerPool) checkLoaded(ctx app.Context) {
	var memory int64
	for _, m := range p.members {
		if !m.loaded || p.leaderOK == nil {
			return
		}
	}
	var loaded protocol.Loaded
	if err := p.leaderOK.decode(&loaded); err != nil {
		return
	}
	for _, m := range p.members {
		memory += m.memory
	}
	p.ready = true
	p.memory, p.saveMemory, p.splits = memory, loaded.SaveMemory, loaded.Splits
	if !p.loadedOK {
		p.loadedOK = true
		loaded.WasmBytes = memory
		r := *p.leaderOK
		r.ID = p.load.id
		r.Body, _ = json.Marshal(loaded)
		p.onReply(ctx, r)
	}
	p.flush()
}

// onFollowerReply takes what a worker other than the leader answers: the
// shards of a benchmark size.
func (p *workerPool) onFollowerReply(ctx app.Context, m *poolMember, r workerReply) {
	req := p.open[r.ID]
	if req == nil || req.bench == nil {
		return
	}
	switch r.Kind {
	case protocol.KindBenchLoaded:
		p.benchLoaded(req, r)
	case protocol.KindError:
		var er protocol.ErrorReply
		r.decode(&er)
		delete(p.open, r.ID)
		r.ID = req.id
		p.onReply(ctx, r)
	}
}

// benchNextSize starts the next size of a pool benchmark (every worker
// builds its shard), or ends the run after the last.
func (p *workerPool) benchNextSize(req *poolRequest) {
	b := req.bench
	if b.next >= len(b.req.Sizes) {
		delete(p.open, req.attempt)
		p.onReply(p.ctx, workerReply{Kind: protocol.KindBenchDone, ID: req.id})
		return
	}
	delete(p.open, req.attempt)
	p.nextID++
	req.attempt = p.nextID
	p.open[req.attempt] = req
	b.waiting, b.memory = len(p.members), 0
	for _, m := range p.members {
		m.client.sendWith(req.attempt, protocol.KindBenchLoad, protocol.BenchLoad{Size: b.req.Sizes[b.next], WidthDiv: b.req.WidthDiv, HalfWeights: b.req.HalfWeights, SmallTiles: b.req.SmallTiles, RowBlocks: b.req.RowBlocks, ImageBlocks: b.req.ImageBlocks}, nil, nil)
	}
}

// add sums one worker's BenchLoaded reply into the size's totals.
func (b *poolBench) add(r workerReply) {
	var bl protocol.BenchLoaded
	if r.decode(&bl) == nil {
		b.memory += bl.WasmBytes
		b.parked += bl.ParkedPasses
		b.polled += bl.PolledBarriers
	}
}

// benchMemory sums the workers' memory after a size's timed runs; with
// the last reply the held row goes to the page (memory, workers, mode)
// and, if the leader has finished the size, the next one starts.
func (p *workerPool) benchMemory(req *poolRequest, r workerReply) {
	b := req.bench
	b.add(r)
	if b.waiting--; b.waiting > 0 {
		return
	}
	reply := *b.row
	b.row = nil
	var row protocol.BenchRow
	if reply.decode(&row) == nil {
		row.WasmBytes, row.ParkedPasses, row.PolledBarriers = b.memory, b.parked, b.polled
		row.Workers, row.Exchange, row.Spin = len(p.members), p.mode, p.spin
		reply.Body, _ = json.Marshal(row)
	}
	reply.ID = req.id
	p.onReply(p.ctx, reply)
	if b.done {
		b.done = false
		b.next++
		p.benchNextSize(req)
	}
}

// benchLoaded counts the shards built; with the last, the leader times
// the size. While a row is held it is a memory reply (benchMemory).
func (p *workerPool) benchLoaded(req *poolRequest, r workerReply) {
	b := req.bench
	if b.row != nil {
		p.benchMemory(req, r)
		return
	}
	b.add(r)
	if b.waiting--; b.waiting > 0 {
		return
	}
	one := b.req
	one.Sizes = []int{b.req.Sizes[b.next]}
	p.parkFollowers()
	p.members[0].client.sendWith(req.attempt, protocol.KindBench, one, nil, nil)
}

// parkFollowers tells the followers (shared mode) that the request the
// leader gets next runs a pass (protocol.KindPark): each then waits for
// it on the control buffer, so that a pass after a pause starts on every
// worker at once, as one right after another pass does.
func (p *workerPool) parkFollowers() {
	if p.mode != protocol.ExchangeShared {
		return
	}
	perf := app.Window().Get("performance")
	park := protocol.ParkRequest{SentMillis: perf.Get("timeOrigin").Float() + perf.Call("now").Float()}
	for _, m := range p.members[1:] {
		m.client.sendWith(0, protocol.KindPark, park, nil, nil)
	}
}

// flush sends the requests held while the pool was loading.
func (p *workerPool) flush() {
	held := p.waiting
	p.waiting = nil
	for _, r := range held {
		p.dispatch(r)
	}
}

func (p *workerPool) indexOf(m *poolMember) int {
	for i, x := range p.members {
		if x == m {
			return i
		}
	}
	return -1
}

// drop removes worker idx (dead, or failed at its share): the pass in
// progress is aborted, the others regroup (a fresh worker replaces the
// last one), and unanswered requests go out again once the model is
// loaded on the new pool.
func (p *workerPool) drop(ctx app.Context, idx int, why string) {
	if p.control != nil {
		atomics := app.Window().Get("Atomics")
		ctl := app.Window().Get("Int32Array").New(p.control)
		atomics.Call("store", ctl, protocol.ControlAbort, 1)
		atomics.Call("notify", ctl, protocol.ControlGeneration) // workers at a barrier
		atomics.Call("notify", ctl, protocol.ControlPass)       // and parked ones
	}
	for i, m := range p.members {
		if i != idx {
			m.client.sendWith(0, protocol.KindAbort, nil, nil, nil)
		}
	}
	p.members[idx].client.stop()
	p.members = append(p.members[:idx], p.members[idx+1:]...)
	replaced := ""
	if len(p.members) == 0 {
		p.members = append(p.members, p.startMember())
		replaced = "; a fresh worker replaces it"
	}
	// Every unanswered request is sent again on the new pool.
	var again []*poolRequest
	seen := map[*poolRequest]bool{}
	for _, r := range p.open {
		if !seen[r] {
			seen[r] = true
			if r.bench != nil {
				r.bench.next = max(r.bench.next, 0)
			}
			again = append(again, r)
		}
	}
	clear(p.open)
	p.note = fmt.Sprintf("An inference worker stopped (%s)%s; classifying with %d worker(s) now, %d unanswered request(s) sent again.",
		why, replaced, len(p.members), len(again))
	p.waiting = append(again, p.waiting...)
	p.ready = p.load == nil
	p.regroup()
	if p.ready {
		p.flush()
	}
	p.onReply(ctx, workerReply{Kind: kindPoolChanged})
}

// kindPoolChanged is a reply the pool itself makes (id 0, no body) so the
// page redraws its pool line.
const kindPoolChanged = "pool-changed"

// modeWords says which mode runs, for people.
func (p *workerPool) modeWords() string {
	if p == nil {
		return ""
	}
	n := len(p.members)
	switch p.mode {
	case protocol.ExchangeShared:
		return fmt.Sprintf("%d inference workers, sharing activations through a SharedArrayBuffer", n)
	case protocol.ExchangeMessage:
		return fmt.Sprintf("%d inference workers, passing activations as messages (this page is not cross-origin isolated)", n)
	}
	return "1 inference worker"
}

// stop terminates every worker.
func (p *workerPool) stop() {
	if p == nil {
		return
	}
	for _, m := range p.members {
		m.client.stop()
	}
	p.members = nil
}

// exposeTestHook lets the end-to-end tests see and kill workers:
// window.vggoPool.size(), .mode(), .kill(i) (terminate worker i as a crash
// would, and let the pool find out as it would from an error), and
// .killOnNextRequest(i) (the same, right after the next classify request
// goes out, so that it is in flight).
func (p *workerPool) exposeTestHook() {
	hook := app.Window().Get("Object").New()
	hook.Set("size", app.FuncOf(func(app.Value, []app.Value) any { return len(p.members) }))
	hook.Set("mode", app.FuncOf(func(app.Value, []app.Value) any { return p.mode }))
	hook.Set("kill", app.FuncOf(func(this app.Value, args []app.Value) any {
		i := args[0].Int()
		p.ctx.Dispatch(func(ctx app.Context) { p.kill(i) })
		return nil
	}))
	hook.Set("killOnNextRequest", app.FuncOf(func(this app.Value, args []app.Value) any {
		i := args[0].Int()
		p.ctx.Dispatch(func(ctx app.Context) { p.killNext = &i })
		return nil
	}))
	app.Window().Set("vggoPool", hook)
}

// poolLine says how many workers run and how they exchange, and what
// happened to the pool, as data attributes too (id, data-workers,
// data-mode) for the tests.
func poolLine(id string, p *workerPool) app.UI {
	if p == nil {
		return app.Text("")
	}
	var notes []string
	if p.memory > 0 {
		notes = append(notes, protocol.HumanBytes(p.memory)+" of wasm memory together")
	}
	if p.memory > 0 && p.saveMemory {
		notes = append(notes, "weights packed to save memory")
	}
	if w := protocol.SplitWords(p.splits); w != "" {
		notes = append(notes, w)
	}
	text := p.modeWords() + "."
	if len(notes) > 0 {
		text = fmt.Sprintf("%s (%s).", p.modeWords(), strings.Join(notes, ", "))
	}
	if p.note != "" {
		text += " " + p.note
	}
	return app.P().ID(id).Class("note").DataSet("workers", p.size()).DataSet("mode", p.mode).
		DataSet("wasm-bytes", p.memory).DataSet("save-memory", p.saveMemory).DataSet("splits", strings.Join(p.splits, ",")).Text(text)
}
