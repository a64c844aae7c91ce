//go:build js && wasm

// Command worker is the inference worker: a small Go wasm program (no
// go-app) that web/static/worker.js starts inside a Web Worker. It holds the
// model and runs every forward pass off the page's main thread, so the UI
// stays responsive while it computes. Messages follow package
// vggo/wasm/protocol; they are handled one at a time, in arrival order.
//
// Models are kept in the Cache API (cache ModelCacheName, keyed by the
// model URL plus its SHA-256), written only after the downloaded bytes match
// the index's SHA-256 and parse as a model, so a corrupt or partial download
// is never cached as good; a cached copy is verified again before use.
package main

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"syscall/js"
	"time"

	"vggo/model/imagefile"
	"vggo/wasm/inference"
	"vggo/wasm/protocol"
)

// ModelCacheName is the Cache API cache that holds verified model files. Its
// name does not start with "app-", so go-app's service worker, which deletes
// its own old "app-<version>" caches on update, leaves it alone.
const ModelCacheName = "vggo-models-v1"

var (
	self   = js.Global()
	engine inference.Engine
	// queue holds the requests to handle, in arrival order: the page's,
	// and the passes other workers of a pool start (shard.go).
	queue = make(chan js.Value, 64)
)

// workerGCPercent is the worker's GOGC. Wasm memory never shrinks, so
// the Go default (100: the heap may grow to twice the live data before a
// collection) makes a worker's memory settle near twice its weights once
// a few passes have left their garbage (full VGG16 at 224, 2 workers:
// 354 MB after the timed runs against 263 MB right after loading).
// The live data is almost all pointer-free float slices, which a
// collection does not scan, so collecting at 10 % growth costs little.
const workerGCPercent = 10

func main() {
	debug.SetGCPercent(workerGCPercent)
	onMessage := js.FuncOf(func(this js.Value, args []js.Value) any {
		data := args[0].Get("data")
		if data.Get(protocol.FieldKind).String() == protocol.KindAbort {
			workers.abort() // at once: a pass in progress may be waiting for a dead worker
			return nil
		}
		if interceptTeach(data) {
			return nil
		}
		queue <- data
		return nil
	})
	self.Set("onmessage", onMessage)
	post(protocol.KindReady, 0, nil)
	for msg := range queue {
		handle(msg)
	}
}

// handle runs one request; any failure, panics included, becomes an error
// reply for the request's id, and the worker keeps serving.
func handle(msg js.Value) {
	kind := msg.Get(protocol.FieldKind).String()
	id := msg.Get(protocol.FieldID).Int()
	defer func() {
		if r := recover(); r != nil {
			post(protocol.KindError, id, protocol.ErrorReply{Message: fmt.Sprintf("internal error in the worker: %v", r)})
			println(string(debug.Stack()))
		}
	}()
	body := []byte(msg.Get(protocol.FieldBody).String())
	var err error
	switch kind {
	case protocol.KindLoad:
		var req protocol.LoadRequest
		if err = json.Unmarshal(body, &req); err == nil {
			err = load(id, req)
		}
	case protocol.KindClassify:
		var req protocol.ClassifyRequest
		if err = json.Unmarshal(body, &req); err == nil {
			err = classify(id, req, msg.Get(protocol.FieldBlob))
		}
	case protocol.KindPool:
		var req protocol.PoolRequest
		if err = json.Unmarshal(body, &req); err == nil {
			workers.join(req, msg)
		}
	case protocol.KindShardRun:
		workers.followReported(msg)
	case protocol.KindPark:
		var req protocol.ParkRequest
		if err = json.Unmarshal(body, &req); err == nil {
			workers.parkReported(req)
		}
	case protocol.KindBenchLoad:
		var req protocol.BenchLoad
		if err = json.Unmarshal(body, &req); err == nil {
			if err = engine.BenchLoad(req); err == nil {
				post(protocol.KindBenchLoaded, id, protocol.BenchLoaded{WasmBytes: wasmBytes()})
			}
		}
	case protocol.KindMemory:
		post(protocol.KindBenchLoaded, id, protocol.BenchLoaded{WasmBytes: wasmBytes(), ParkedPasses: workers.parked, PolledBarriers: workers.polled})
	case protocol.KindBench:
		var req protocol.BenchRequest
		if err = json.Unmarshal(body, &req); err == nil {
			err = engine.Bench(req, func(row protocol.BenchRow) {
				row.WasmBytes = wasmBytes()
				post(protocol.KindBenchRow, id, row)
			})
			if err == nil {
				post(protocol.KindBenchDone, id, nil)
			}
		}
	case protocol.KindCacheStatus:
		var req protocol.CacheStatusRequest
		if err = json.Unmarshal(body, &req); err == nil {
			err = cacheStatus(id, req)
		}
	default:
		var handled bool
		if handled, err = handleTeach(kind, id, body, msg); !handled {
			err = fmt.Errorf("unknown message kind %q", kind)
		}
	}
	if err != nil {
		post(protocol.KindError, id, protocol.ErrorReply{Message: err.Error()})
	}
}

// cacheKey is the Cache API key of a model version.
func cacheKey(url, sha string) string { return url + "?sha256=" + sha }

// load makes the requested model ready: a verified cached copy when there is
// one, else a download with progress reports, verified before it is used or
// cached.
func load(id int, req protocol.LoadRequest) error {
	if !protocol.IsSHA256Hex(req.SHA256) {
		return fmt.Errorf("%s: the index gives no valid SHA-256, refusing to use it", req.Name)
	}
	cache, cacheErr := await(self.Get("caches").Call("open", ModelCacheName))
	key := cacheKey(req.URL, req.SHA256)
	if cacheErr == nil {
		if data, ok := cached(cache, key); ok {
			if inference.CheckSHA256(data, req.SHA256, req.Name) == nil {
				loaded, err := engine.Load(data, req.Name, inference.LoadOptions(req))
				if err == nil {
					loaded.FromCache = true
					loaded.WasmBytes = wasmBytes()
					post(protocol.KindLoaded, id, loaded)
					return nil
				}
			}
			// A cached copy that fails verification is dropped and fetched again.
			await(cache.Call("delete", key))
		}
	}
	data, err := download(id, req)
	if err != nil {
		return err
	}
	if err := inference.CheckSHA256(data, req.SHA256, req.Name); err != nil {
		return err
	}
	loaded, err := engine.Load(data, req.Name, inference.LoadOptions(req))
	if err != nil {
		return err
	}
	if cacheErr == nil {
		headers := map[string]any{"Content-Type": "application/octet-stream"}
		resp := js.Global().Get("Response").New(toJSBytes(data), map[string]any{"headers": headers})
		if _, err := await(cache.Call("put", key, resp)); err != nil {
			println("vggo worker: caching", req.Name, "failed:", err.Error())
		}
	}
	loaded.WasmBytes = wasmBytes()
	post(protocol.KindLoaded, id, loaded)
	return nil
}

// cached returns the bytes stored under key, if any.
func cached(cache js.Value, key string) ([]byte, bool) {
	resp, err := await(cache.Call("match", key))
	if err != nil || resp.IsUndefined() || resp.IsNull() {
		return nil, false
	}
	buf, err := await(resp.Call("arrayBuffer"))
	if err != nil {
		return nil, false
	}
	return fromJSBytes(js.Global().Get("Uint8Array").New(buf)), true
}

// download streams the model file, posting progress at most every 100 ms
// and at the end.
func download(id int, req protocol.LoadRequest) ([]byte, error) {
	resp, err := await(self.Call("fetch", req.URL))
	if err != nil {
		return nil, fmt.Errorf("%s: download failed: %v (offline, and no cached copy)", req.Name, err)
	}
	if !resp.Get("ok").Bool() {
		return nil, fmt.Errorf("%s: download failed: HTTP %d %s", req.Name, resp.Get("status").Int(), resp.Get("statusText").String())
	}
	total := req.Bytes
	if total <= 0 {
		if n := resp.Get("headers").Call("get", "Content-Length"); n.Type() == js.TypeString {
			fmt.Sscan(n.String(), &total)
		}
	}
	reader := resp.Get("body").Call("getReader")
	data := make([]byte, 0, max(total, 0))
	last := time.Time{}
	for {
		chunk, err := await(reader.Call("read"))
		if err != nil {
			return nil, fmt.Errorf("%s: download interrupted after %d bytes: %v", req.Name, len(data), err)
		}
		if chunk.Get("done").Bool() {
			break
		}
		data = append(data, fromJSBytes(chunk.Get("value"))...)
		if time.Since(last) > 100*time.Millisecond {
			post(protocol.KindProgress, id, protocol.Progress{Name: req.Name, Loaded: int64(len(data)), Total: total})
			last = time.Now()
		}
	}
	post(protocol.KindProgress, id, protocol.Progress{Name: req.Name, Loaded: int64(len(data)), Total: total})
	if req.Bytes > 0 && int64(len(data)) != req.Bytes {
		return nil, fmt.Errorf("%s: download incomplete: got %d bytes, the index says %d", req.Name, len(data), req.Bytes)
	}
	return data, nil
}

// classify decodes the image blob with the browser's decoder, or with Go's
// where that one is missing or fails, and classifies it. Go's decoder also
// words the errors: a file the browser refuses is decoded again by Go,
// which says what is wrong with it.
func classify(id int, req protocol.ClassifyRequest, blob js.Value) error {
	if err := checkImageBlob(blob, req.Name); err != nil {
		return err
	}
	res, err := classifyDecodedByBrowser(blob, req.Name)
	if err != nil {
		if err != errNoBrowserDecoder {
			println("vggo worker:", req.Name+": the browser's decoder failed, using Go's:", err.Error())
		}
		data, err := blobBytes(blob, req.Name)
		if err != nil {
			return err
		}
		if res, err = engine.Classify(data, req.Name); err != nil {
			return err
		}
	}
	post(protocol.KindResult, id, res)
	return nil
}

// checkImageBlob refuses a missing file, and one too big or of a type no
// image has, before any decoder reads it.
func checkImageBlob(blob js.Value, name string) error {
	if blob.IsUndefined() || blob.IsNull() {
		return fmt.Errorf("%s: no file data received", name)
	}
	return imagefile.Check(name, int64(blob.Get("size").Float()), blob.Get("type").String())
}

// blobBytes reads a whole file into Go, for Go's decoder.
func blobBytes(blob js.Value, name string) ([]byte, error) {
	buf, err := await(blob.Call("arrayBuffer"))
	if err != nil {
		return nil, fmt.Errorf("%s: reading the file failed: %v", name, err)
	}
	return fromJSBytes(js.Global().Get("Uint8Array").New(buf)), nil
}

// cacheStatus reports which of the given model hashes have a cached copy.
func cacheStatus(id int, req protocol.CacheStatusRequest) error {
	var st protocol.CacheStatus
	cache, err := await(self.Get("caches").Call("open", ModelCacheName))
	if err == nil {
		keys, err := await(cache.Call("keys"))
		if err == nil {
			for i := 0; i < keys.Length(); i++ {
				url := keys.Index(i).Get("url").String()
				for _, sha := range req.SHA256 {
					if len(url) >= 64 && url[len(url)-64:] == sha {
						st.Cached = append(st.Cached, sha)
					}
				}
			}
		}
	}
	post(protocol.KindCacheStatus, id, st)
	return nil
}

// post sends one message to the page.
func post(kind string, id int, body any) {
	msg := map[string]any{protocol.FieldKind: kind, protocol.FieldID: id}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			b, _ = json.Marshal(protocol.ErrorReply{Message: "encoding reply: " + err.Error()})
			msg[protocol.FieldKind] = protocol.KindError
		}
		msg[protocol.FieldBody] = string(b)
	}
	self.Call("postMessage", msg)
}

// await blocks the calling goroutine until the promise settles. It must not
// be called from a js.FuncOf callback itself (main's loop calls handle).
func await(promise js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	onOK := js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- settled{v: firstArg(args)}
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		v := firstArg(args)
		ch <- settled{err: fmt.Errorf("%s", v.Call("toString").String())}
		return nil
	})
	defer onOK.Release()
	defer onErr.Release()
	promise.Call("then", onOK, onErr)
	s := <-ch
	return s.v, s.err
}

func firstArg(args []js.Value) js.Value {
	if len(args) == 0 {
		return js.Undefined()
	}
	return args[0]
}

func fromJSBytes(u8 js.Value) []byte {
	b := make([]byte, u8.Get("length").Int())
	js.CopyBytesToGo(b, u8)
	return b
}

func toJSBytes(b []byte) js.Value {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	return u8
}
