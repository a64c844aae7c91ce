//go:build js && wasm

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall/js"
	"time"
	"unsafe"

	"vggo/model"
	"vggo/wasm/inference"
	"vggo/wasm/protocol"
)

// errAborted ends a pass whose pool the page has given up (KindAbort).
var errAborted = errors.New("the worker pool was stopped (a worker died or failed); the page retries with the workers left")

// pool is this worker's place in a pool of inference workers
// (protocol.KindPool) and its exchange with the others: the inference
// engine's Pool when this worker leads, the exchange of every pass.
type pool struct {
	req     protocol.PoolRequest
	ports   []js.Value // MessagePort to each other worker, by index
	control js.Value   // Int32Array over the page's control SharedArrayBuffer (protocol.Control*)
	data    js.Value   // the leader's shared data buffer (shared mode)
	dataLen int        // its size in float32 values
	// dataEpoch numbers data: the leader counts its buffers, a follower
	// keeps the number of the one it has (protocol.ShardRun.DataEpoch).
	dataEpoch int
	pass      int // the last pass started (leader) or joined
	parked    int // passes joined while parked (follower)
	polled    int // barriers passed while polling (PoolRequest.Spin)
	// lastPassMillis is when this worker last started its share of a pass
	// (pageMillis), 0 before the first.
	lastPassMillis float64

	aborted bool
	abortCh chan struct{}
	parts   chan partMessage
	early   map[[2]int]map[int]js.Value // parts that came before their exchange: (pass, layer) → from → bytes
	staging []float32
	input   []float32 // a follower's pass input (share)
	release []func()
}

// partMessage is one KindShardPart received.
type partMessage struct {
	part  protocol.ShardPart
	bytes js.Value // Uint8Array
}

var workers pool

// join applies a KindPool message: a fresh pool, with new ports, and the
// engine told its shard.
func (p *pool) join(req protocol.PoolRequest, msg js.Value) {
	for _, f := range p.release {
		f()
	}
	for _, port := range p.ports {
		if port.Truthy() {
			port.Call("close")
		}
	}
	*p = pool{req: req, abortCh: make(chan struct{}), parts: make(chan partMessage, 256), early: map[[2]int]map[int]js.Value{}}
	if req.Count > 1 {
		ports := msg.Get(protocol.FieldPorts)
		for i := 0; i < req.Count; i++ {
			port := ports.Index(i)
			p.ports = append(p.ports, port)
			if i == req.Index || !port.Truthy() {
				continue
			}
			onPort := js.FuncOf(func(this js.Value, args []js.Value) any {
				p.onPortMessage(args[0].Get("data"))
				return nil
			})
			port.Set("onmessage", onPort)
			port.Call("start")
			p.release = append(p.release, onPort.Release)
		}
		p.control = msg.Get(protocol.FieldControl)
		if p.control.Truthy() {
			p.control = js.Global().Get("Int32Array").New(p.control)
		}
	}
	var leader inference.Pool
	if req.Index == 0 {
		leader = p
	}
	engine.SetShard(req.Index, max(req.Count, 1), leader)
}

// onPortMessage takes a message from another worker: a pass to join goes
// to the main queue like any request, a part to the running exchange.
func (p *pool) onPortMessage(data js.Value) {
	switch data.Get(protocol.FieldKind).String() {
	case protocol.KindShardRun:
		queue <- data
	case protocol.KindShardPart:
		var part protocol.ShardPart
		if json.Unmarshal([]byte(data.Get(protocol.FieldBody).String()), &part) == nil {
			p.parts <- partMessage{part: part, bytes: data.Get(protocol.FieldBlob)}
		}
	}
}

// abort is KindAbort: every exchange from now on fails at once.
func (p *pool) abort() {
	if !p.aborted && p.abortCh != nil {
		p.aborted = true
		close(p.abortCh)
	}
}

// Start is inference.Pool's: it numbers the pass, hands the input to the
// other workers and starts the pass on them.
func (p *pool) Start(run protocol.ShardRun, x []float32) (model.Exchange, error) {
	if p.aborted {
		return nil, errAborted
	}
	p.pass++
	run.Pass = p.pass
	msg := map[string]any{protocol.FieldKind: protocol.KindShardRun, protocol.FieldID: 0}
	if p.req.Mode == protocol.ExchangeShared {
		if need := len(x) + 2*run.MaxFull; p.dataLen < need {
			p.data = js.Global().Get("SharedArrayBuffer").New(4 * need)
			p.dataLen = need
			p.dataEpoch++
		}
		run.DataEpoch = p.dataEpoch
		js.CopyBytesToJS(p.bytesAt(0, len(x)), floatBytes(x))
		msg[protocol.FieldData] = p.data
		p.publish(run)
	} else {
		msg[protocol.FieldBlob] = toJSBytes(floatBytes(x))
	}
	body, _ := json.Marshal(run)
	msg[protocol.FieldBody] = string(body)
	for i, port := range p.ports {
		if i != p.req.Index {
			port.Call("postMessage", msg)
		}
	}
	return p.exchange(run), nil
}

// followReported runs this worker's share of a pass the leader started,
// then parks for the next (reported). The message of a pass the worker
// joined parked already is only skipped: it comes when the park is over,
// and parking again for it would only hold up the messages after it.
func (p *pool) followReported(msg js.Value) {
	p.reported(func() error {
		ran, err := p.follow(msg)
		if err != nil || !ran {
			return err
		}
		return p.park(false)
	})
}

// parkReported is KindPark: it parks for the pass the page is starting,
// polling first, and runs this worker's share of it (reported), unless
// the message is stale: the worker has started a pass since it was sent.
func (p *pool) parkReported(req protocol.ParkRequest) {
	if announcedPassRun(req.SentMillis, p.lastPassMillis) {
		return
	}
	p.reported(func() error { return p.park(true) })
}

// pageMillis is the clock of protocol.ParkRequest.SentMillis.
func pageMillis() float64 {
	perf := js.Global().Get("performance")
	return perf.Get("timeOrigin").Float() + perf.Call("now").Float()
}

// reported runs work, a follower's share of passes. A failure other than
// an abort is reported to the page, which drops this worker from the pool.
func (p *pool) reported(work func() error) {
	if err := work(); err != nil && !errors.Is(err, errAborted) {
		if p.control.Truthy() { // wake the others waiting for this worker
			atomics := js.Global().Get("Atomics")
			atomics.Call("store", p.control, protocol.ControlAbort, 1)
			atomics.Call("notify", p.control, protocol.ControlGeneration)
		}
		post(protocol.KindShardFailed, 0, protocol.ErrorReply{Message: fmt.Sprintf("worker %d of %d: %v", p.req.Index, p.req.Count, err)})
	}
}

// follow runs this worker's share of a pass the leader started, unless
// it joined that pass parked already (ran false).
func (p *pool) follow(msg js.Value) (ran bool, err error) {
	var run protocol.ShardRun
	if err := json.Unmarshal([]byte(msg.Get(protocol.FieldBody).String()), &run); err != nil {
		return false, err
	}
	if p.aborted {
		return false, errAborted
	}
	if run.Pass <= p.pass {
		return false, nil
	}
	if p.req.Mode != protocol.ExchangeShared {
		return true, p.share(run, func(x []float32) { js.CopyBytesToGo(floatBytes(x), msg.Get(protocol.FieldBlob)) })
	}
	p.data = msg.Get(protocol.FieldData)
	p.dataLen = p.data.Get("byteLength").Int() / 4
	p.dataEpoch = run.DataEpoch
	return true, p.share(run, p.sharedInput)
}

// share runs this worker's share of pass run, on the input that fill
// copies in (into a buffer kept across passes: a pass reads its input
// only while it runs).
func (p *pool) share(run protocol.ShardRun, fill func(x []float32)) error {
	n := run.Batch * run.Size * run.Size * 3
	if cap(p.input) < n {
		p.input = make([]float32, n)
	}
	x := p.input[:n]
	p.lastPassMillis = pageMillis()
	fill(x)
	p.pass = run.Pass
	return engine.Follow(run, x, p.exchange(run))
}

// sharedInput copies a pass's input out of the shared data buffer.
func (p *pool) sharedInput(x []float32) {
	js.CopyBytesToGo(floatBytes(x), p.bytesAt(0, len(x)))
}

// parkFor is how long a follower stays parked after a pass.
const parkFor = 100 * time.Millisecond

// parkSliceMillis bounds one wait while parked, so that an abort the page
// signals on another word is seen within it.
const parkSliceMillis = 10

// How long a worker of a polling pool (protocol.PoolRequest.Spin) polls
// before it sleeps in Atomics.wait: at a barrier, about twice the usual
// gap between two workers' arrivals at 32x32; parked on KindPark, long
// enough for the leader to start the pass the page announced. Not after
// a pass: no pass may follow it, and a worker polling then takes a core
// from whatever the page or another tab runs next. Waking from
// Atomics.wait cost about half a millisecond each time in Chromium on 2
// cores (an earlier try that polled a fixed 3000 times before waiting
// had left the waits as they were).
const (
	barrierSpin = 2 * time.Millisecond
	parkSpin    = 5 * time.Millisecond
)

// publish writes the pass the leader starts into the control buffer and
// wakes the parked followers (shared mode).
func (p *pool) publish(run protocol.ShardRun) {
	if !p.control.Truthy() {
		return
	}
	atomics := js.Global().Get("Atomics")
	for _, w := range run.ControlWords() {
		atomics.Call("store", p.control, w[0], w[1])
	}
	atomics.Call("store", p.control, protocol.ControlPass, run.Pass)
	atomics.Call("notify", p.control, protocol.ControlPass)
}

// park keeps a follower waiting on the control buffer for parkFor after
// a pass or a KindPark (shared mode; announced: polling first), instead
// of in the event loop: a pass the leader starts meanwhile begins at
// once, when Atomics.notify wakes it, rather than when KindShardRun
// arrives (in Chromium 2-5 ms later, while the leader waits at the first
// barrier). Messages to this worker wait meanwhile, at most parkFor after
// its last pass; a pass on a data buffer it has not seen is left to the
// message, which brings it.
func (p *pool) park(announced bool) error {
	if p.req.Mode != protocol.ExchangeShared || p.req.Index == 0 || !p.control.Truthy() || !p.data.Truthy() {
		return nil
	}
	atomics := js.Global().Get("Atomics")
	word := func(i int) int { return atomics.Call("load", p.control, i).Int() }
	deadline := time.Now().Add(parkFor)
	var poll time.Time
	if announced {
		poll = p.pollUntil(parkSpin)
	}
	for time.Now().Before(deadline) {
		if p.aborted || word(protocol.ControlAbort) != 0 {
			p.abort()
			return errAborted
		}
		pass := word(protocol.ControlPass)
		if pass <= p.pass && time.Now().Before(poll) {
			continue
		}
		if pass <= p.pass {
			atomics.Call("wait", p.control, protocol.ControlPass, p.pass, parkSliceMillis)
			continue
		}
		if pass != p.pass+1 || word(protocol.ControlDataEpoch) != p.dataEpoch {
			return nil
		}
		p.parked++
		if err := p.share(protocol.ShardRunFromControl(pass, word), p.sharedInput); err != nil {
			return err
		}
		deadline = time.Now().Add(parkFor)
		poll = time.Time{}
	}
	return nil
}

// pollUntil is when a wait starting now stops polling (now, in a pool
// that does not poll).
func (p *pool) pollUntil(spin time.Duration) time.Time {
	if !p.req.Spin {
		return time.Time{}
	}
	return time.Now().Add(spin)
}

// exchange returns the Exchange of one pass in the pool's mode.
func (p *pool) exchange(run protocol.ShardRun) model.Exchange {
	n, k := p.req.Count, p.req.Index
	inputs := run.Batch * run.Size * run.Size * 3
	seq := 0 // this exchange's number in the pass
	return func(layer int, cut model.Cut, part, full []float32) error {
		if p.aborted {
			return errAborted
		}
		seq++
		lo, hi := cut.Range(n, k)
		unit := cut.Unit()
		if p.req.Mode == protocol.ExchangeShared {
			// Shard j's part is at base + unit*lo_j in the shared
			// buffer. This worker's own part merges from where it is;
			// each other part is copied into wasm memory (merge).
			base := inputs + (run.Pass*run.Exchanges+seq)%2*run.MaxFull
			if hi > lo {
				js.CopyBytesToJS(p.bytesAt(base+unit*lo, len(part)), floatBytes(part))
			}
			if err := p.barrier(); err != nil {
				return err
			}
			for j := 0; j < n; j++ {
				lo, hi := cut.Range(n, j)
				switch {
				case hi == lo:
				case j == k:
					cut.Place(full, lo, hi, part)
				default:
					p.merge(full, cut, lo, hi, func(v0, count int) js.Value {
						return p.bytesAt(base+unit*lo+v0, count)
					})
				}
			}
			return nil
		}
		// Message mode: the other parts arrive as byte arrays in
		// JavaScript's memory.
		got, err := p.swapParts(run.Pass, layer, cut, part)
		if err != nil {
			return err
		}
		cut.Place(full, lo, hi, part)
		for j, u8 := range got {
			lo, hi := cut.Range(n, j)
			p.merge(full, cut, lo, hi, func(v0, count int) js.Value {
				return u8.Call("subarray", 4*v0, 4*(v0+count))
			})
		}
		return nil
	}
}

// mergeStagingValues bounds the buffer another worker's part of a layer
// split by channels passes through on its way into the whole activation
// (256 KB): placing a part a piece at a time keeps a worker from holding
// a second copy of it (at 224x224 with 2 workers, 6.4 MB in shared mode
// and 12.8 MB in message mode), for about 25 more copies from JavaScript
// per exchange there.
const mergeStagingValues = 1 << 16

// merge places another worker's part [lo, hi) of cut, in JavaScript
// memory, into full; values(v0, count) is the part's values [v0,
// v0+count) as bytes. Rows and images go straight to their place, in
// contiguous runs (Cut.Run); channels through the staging buffer, a piece at a time
// (PlaceChannels), since each pixel's channels sit apart in full.
func (p *pool) merge(full []float32, cut model.Cut, lo, hi int, values func(v0, count int) js.Value) {
	if cut.ByRows || cut.ByImages {
		for i := range cut.Runs() {
			at, v0, count := cut.Run(i, lo, hi)
			js.CopyBytesToGo(floatBytes(full[at:at+count]), values(v0, count))
		}
		return
	}
	w := hi - lo
	pixels := len(full) / cut.Channels
	per := max(1, mergeStagingValues/w)
	staging := p.stagingFor(min(pixels, per) * w)
	for p0 := 0; p0 < pixels; p0 += per {
		count := min(per, pixels-p0)
		buf := staging[:count*w]
		js.CopyBytesToGo(floatBytes(buf), values(p0*w, count*w))
		model.PlaceChannels(full, cut.Channels, lo, hi, p0, buf)
	}
}

// stagingFor returns the exchange's staging buffer with n values, grown
// when needed and kept across passes.
func (p *pool) stagingFor(n int) []float32 {
	if cap(p.staging) < n {
		p.staging = make([]float32, n)
	}
	return p.staging[:n]
}

// bytesAt is a Uint8Array over count float32 values of the shared data
// buffer, from value off.
func (p *pool) bytesAt(off, count int) js.Value {
	return js.Global().Get("Uint8Array").New(p.data, 4*off, 4*count)
}

// barrier waits until every worker of the pool has arrived (shared
// mode): the last to arrive bumps the generation and wakes the others.
// It gives up when the page or a worker sets the abort word. In a
// polling pool it polls for barrierSpin before it sleeps, as park does.
func (p *pool) barrier() error {
	atomics := js.Global().Get("Atomics")
	ctl := p.control
	gen := atomics.Call("load", ctl, protocol.ControlGeneration).Int()
	if atomics.Call("add", ctl, protocol.ControlArrived, 1).Int() == p.req.Count-1 {
		atomics.Call("store", ctl, protocol.ControlArrived, 0)
		atomics.Call("add", ctl, protocol.ControlGeneration, 1)
		atomics.Call("notify", ctl, protocol.ControlGeneration)
		return nil
	}
	poll, slept := p.pollUntil(barrierSpin), false
	for atomics.Call("load", ctl, protocol.ControlGeneration).Int() == gen {
		if atomics.Call("load", ctl, protocol.ControlAbort).Int() != 0 {
			p.abort()
			return errAborted
		}
		if time.Now().Before(poll) {
			continue
		}
		atomics.Call("wait", ctl, protocol.ControlGeneration, gen, 200)
		slept = true
	}
	if p.req.Spin && !slept {
		p.polled++
	}
	return nil
}

// swapParts posts this worker's part to every other one and returns
// theirs, by sender, checked for size (message mode).
func (p *pool) swapParts(pass, layer int, cut model.Cut, part []float32) (map[int]js.Value, error) {
	n, k := p.req.Count, p.req.Index
	lo, hi := cut.Range(n, k)
	if hi > lo {
		body, _ := json.Marshal(protocol.ShardPart{Pass: pass, Layer: layer, From: k})
		for j, port := range p.ports {
			if j == k {
				continue
			}
			u8 := toJSBytes(floatBytes(part))
			port.Call("postMessage", map[string]any{protocol.FieldKind: protocol.KindShardPart, protocol.FieldBody: string(body), protocol.FieldBlob: u8},
				[]any{u8.Get("buffer")})
		}
	}
	key := [2]int{pass, layer}
	got := p.early[key]
	delete(p.early, key)
	if got == nil {
		got = map[int]js.Value{}
	}
	want := 0
	for j := 0; j < n; j++ {
		if lo, hi := cut.Range(n, j); j != k && hi > lo {
			want++
		}
	}
	for len(got) < want {
		select {
		case m := <-p.parts:
			mk := [2]int{m.part.Pass, m.part.Layer}
			switch {
			case mk == key:
				got[m.part.From] = m.bytes
			case m.part.Pass > pass || m.part.Pass == pass && m.part.Layer > layer:
				if p.early[mk] == nil {
					p.early[mk] = map[int]js.Value{}
				}
				p.early[mk][m.part.From] = m.bytes
			} // older parts are from an abandoned pass
		case <-p.abortCh:
			return nil, errAborted
		}
	}
	for j, u8 := range got {
		lo, hi := cut.Range(n, j)
		if want := 4 * (hi - lo) * cut.Unit(); u8.Get("length").Int() != want {
			return nil, fmt.Errorf("worker %d sent %d bytes for layer %d, want %d", j, u8.Get("length").Int(), layer, want)
		}
	}
	return got, nil
}

// floatBytes is x's memory as bytes (little-endian on wasm), for copies
// to and from JavaScript without a conversion loop.
func floatBytes(x []float32) []byte {
	if len(x) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x))
}

// wasmBytes is the size of this worker's wasm memory (worker.js reads it
// from the instance), 0 where worker.js does not say.
func wasmBytes() int64 {
	f := js.Global().Get("vggoWasmBytes")
	if f.Type() != js.TypeFunction {
		return 0
	}
	return int64(f.Invoke().Float())
}
