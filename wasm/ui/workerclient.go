package ui

import (
	"encoding/json"
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/protocol"
)

// WorkerScript is the URL of the inference worker's bootstrap script.
const WorkerScript = "/web/static/worker.js"

// Worker builds, passed to worker.js as the Worker's name: BuildRelaxed
// loads WorkerRelaxedWASM (f32x4.relaxed_madd kernels), BuildSIMD128 the
// plain WorkerWASM.
const (
	BuildSIMD128 = "simd128"
	BuildRelaxed = "relaxed"
)

// relaxedSIMDProbe is the smallest module that uses relaxed SIMD: one
// function returning f32x4.relaxed_madd of three zero v128 constants.
// WebAssembly.validate accepts it exactly where the engine has relaxed SIMD
// (Chromium by default; node only with --experimental-wasm-relaxed-simd).
var relaxedSIMDProbe = func() []byte {
	zero := append([]byte{0xfd, 0x0c}, make([]byte, 16)...) // v128.const 0
	body := append([]byte{0x00}, zero...)                   // no locals
	body = append(append(append(body, zero...), zero...), 0xfd, 0x85, 0x02, 0x0b)
	m := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
		0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: func() v128
		0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
		0x0a, byte(len(body) + 2), 0x01, byte(len(body))} // code: one body
	return append(m, body...)
}()

// workerBuild picks the build to load: want if it names one, else the
// relaxed build where the browser validates relaxedSIMDProbe.
func workerBuild(want string) string {
	if want == BuildSIMD128 || want == BuildRelaxed {
		return want
	}
	probe := app.Window().Get("Uint8Array").New(len(relaxedSIMDProbe))
	app.CopyBytesToJS(probe, relaxedSIMDProbe)
	if app.Window().Get("WebAssembly").Call("validate", probe).Bool() {
		return BuildRelaxed
	}
	return BuildSIMD128
}

// workerReply is one decoded message from the worker.
type workerReply struct {
	Kind string
	ID   int
	Body []byte
	Blob app.Value // the message's blob field (a teach-trained model file), undefined in most replies
}

// decode unmarshals the reply's body into v.
func (r workerReply) decode(v any) error { return json.Unmarshal(r.Body, v) }

// workerClient talks to the inference worker. Messages sent before the worker
// reports KindReady are queued and sent then. Replies are handed to onReply
// on the component's goroutine (through ctx.Dispatch), so handlers can touch
// component state directly.
type workerClient struct {
	build   string // BuildSIMD128 or BuildRelaxed
	worker  app.Value
	ready   bool
	queued  []queuedMessage
	nextID  int
	release []func()
}

// queuedMessage is a message waiting for the worker's KindReady, with the
// objects (MessagePorts) to transfer with it.
type queuedMessage struct {
	msg      map[string]any
	transfer app.Value // a JS array, or nil
}

// startWorker creates the Web Worker with the fastest build the browser
// runs. onReply gets every reply; a worker that fails to load its script is
// reported as a KindError with id 0.
func startWorker(ctx app.Context, onReply func(app.Context, workerReply)) *workerClient {
	return startWorkerBuild(ctx, workerBuild(""), onReply)
}

// startWorkerBuild is startWorker with the build given (BuildSIMD128 or
// BuildRelaxed).
func startWorkerBuild(ctx app.Context, build string, onReply func(app.Context, workerReply)) *workerClient {
	c := &workerClient{build: build}
	c.worker = app.Window().Get("Worker").New(WorkerScript, map[string]any{"name": build})
	onMessage := app.FuncOf(func(this app.Value, args []app.Value) any {
		data := args[0].Get("data")
		r := workerReply{
			Kind: data.Get(protocol.FieldKind).String(),
			ID:   data.Get(protocol.FieldID).Int(),
			Blob: data.Get(protocol.FieldBlob),
		}
		if b := data.Get(protocol.FieldBody); b.Type() == app.TypeString {
			r.Body = []byte(b.String())
		}
		ctx.Dispatch(func(ctx app.Context) {
			if r.Kind == protocol.KindReady {
				c.ready = true
				for _, m := range c.queued {
					c.post(m.msg, m.transfer)
				}
				c.queued = nil
			}
			onReply(ctx, r)
		})
		return nil
	})
	onError := app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := "the inference worker could not be started"
		if len(args) > 0 && args[0].Get("message").Type() == app.TypeString {
			msg += ": " + args[0].Get("message").String()
		}
		body, _ := json.Marshal(protocol.ErrorReply{Message: msg})
		ctx.Dispatch(func(ctx app.Context) { onReply(ctx, workerReply{Kind: protocol.KindError, Body: body}) })
		return nil
	})
	c.worker.Set("onmessage", onMessage)
	c.worker.Set("onerror", onError)
	c.release = append(c.release, onMessage.Release, onError.Release)
	return c
}

// send posts a request and returns its id. blob (may be nil) is sent as is:
// structured cloning hands the worker the file without copying it here.
func (c *workerClient) send(kind string, body any, blob app.Value) int {
	c.nextID++
	c.sendWith(c.nextID, kind, body, nil, nil, blob)
	return c.nextID
}

// sendWith posts a request under the id given, with extra fields and
// objects to transfer (a JS array of a pool's MessagePorts, or nil);
// blob as for send.
func (c *workerClient) sendWith(id int, kind string, body any, extra map[string]any, transfer app.Value, blob ...app.Value) {
	msg := map[string]any{protocol.FieldKind: kind, protocol.FieldID: id}
	if body != nil {
		b, _ := json.Marshal(body)
		msg[protocol.FieldBody] = string(b)
	}
	for k, v := range extra {
		msg[k] = v
	}
	if len(blob) > 0 && blob[0] != nil {
		msg[protocol.FieldBlob] = blob[0]
	}
	if !c.ready {
		c.queued = append(c.queued, queuedMessage{msg, transfer})
	} else {
		c.post(msg, transfer)
	}
}

// post hands a message to the worker.
func (c *workerClient) post(msg map[string]any, transfer app.Value) {
	if transfer != nil {
		c.worker.Call("postMessage", msg, transfer)
		return
	}
	c.worker.Call("postMessage", msg)
}

// stop terminates the worker and frees the callbacks.
func (c *workerClient) stop() {
	if c == nil {
		return
	}
	c.worker.Call("terminate")
	for _, f := range c.release {
		f()
	}
}

// fetchBody waits for a fetch() (the promise of a Response) and calls ok
// with its body, read by the Response method read ("text", "blob"), or fail
// with why not ("HTTP 404", a network error).
func fetchBody(ctx app.Context, fetch app.Value, read string, ok func(app.Context, app.Value), fail func(app.Context, string)) {
	awaitPromise(ctx, fetch, func(ctx app.Context, resp app.Value) {
		if !resp.Get("ok").Bool() {
			fail(ctx, fmt.Sprintf("HTTP %d", resp.Get("status").Int()))
			return
		}
		awaitPromise(ctx, resp.Call(read), ok, fail)
	}, fail)
}

// awaitPromise calls ok with the promise's value or fail with its error text.
// Both run on the component's goroutine.
func awaitPromise(ctx app.Context, p app.Value, ok func(app.Context, app.Value), fail func(app.Context, string)) {
	var onOK, onErr app.Func
	onOK = app.FuncOf(func(this app.Value, args []app.Value) any {
		v := args[0]
		ctx.Dispatch(func(ctx app.Context) { ok(ctx, v) })
		onOK.Release()
		onErr.Release()
		return nil
	})
	onErr = app.FuncOf(func(this app.Value, args []app.Value) any {
		msg := "failed"
		if len(args) > 0 {
			msg = args[0].Call("toString").String()
		}
		ctx.Dispatch(func(ctx app.Context) { fail(ctx, msg) })
		onOK.Release()
		onErr.Release()
		return nil
	})
	p.Call("then", onOK, onErr)
}
