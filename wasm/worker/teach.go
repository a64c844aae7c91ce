//go:build js && wasm

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"strings"
	"sync/atomic"
	"syscall/js"
	"time"

	"vggo/model"
	"vggo/wasm/inference"
	"vggo/wasm/protocol"
)

// teachStopped is set by a KindTeachStop message, which the onmessage
// callback handles at once (not queued behind the running training); the
// training checks it after each epoch.
var teachStopped atomic.Bool

// interceptTeach handles, in the onmessage callback itself, the messages
// that must not wait for the queue: stop. It reports whether msg was one.
func interceptTeach(msg js.Value) bool {
	if msg.Get(protocol.FieldKind).String() != protocol.KindTeachStop {
		return false
	}
	teachStopped.Store(true)
	return true
}

// handleTeach runs the teach page's requests; handled is false for other
// kinds.
func handleTeach(kind string, id int, body []byte, msg js.Value) (handled bool, err error) {
	switch kind {
	case protocol.KindTeachFeatures:
		var req protocol.TeachFeaturesRequest
		if err = json.Unmarshal(body, &req); err == nil {
			err = teachFeatures(id, req, msg.Get(protocol.FieldBlob))
		}
	case protocol.KindTeachTrain:
		var req protocol.TeachTrainRequest
		if err = json.Unmarshal(body, &req); err == nil {
			err = teachTrain(id, req)
		}
	case protocol.KindTeachImport:
		var req protocol.TeachImportRequest
		if err = json.Unmarshal(body, &req); err == nil {
			err = teachImport(id, req, msg.Get(protocol.FieldBlob))
		}
	default:
		return false, nil
	}
	return true, err
}

// teachFeatures decodes one image (the browser's decoder, else Go's) and
// replies with its base features.
func teachFeatures(id int, req protocol.TeachFeaturesRequest, blob js.Value) error {
	if err := checkImageBlob(blob, req.Name); err != nil {
		return err
	}
	if !engine.Ready() {
		return fmt.Errorf("%s: the base model is not loaded yet", req.Name)
	}
	start := time.Now()
	img, _, _, err := browserDecode(blob, req.Name, engine.InputSize())
	if err != nil {
		data, err := blobBytes(blob, req.Name)
		if err != nil {
			return err
		}
		goImg, err := model.DecodeImage(bytes.NewReader(data), req.Name)
		if err != nil {
			return err
		}
		return postFeatures(id, req, goImg, start)
	}
	return postFeatures(id, req, img, start)
}

func postFeatures(id int, req protocol.TeachFeaturesRequest, img image.Image, start time.Time) error {
	f, err := engine.Features(img, req.Name, req.TuneConv)
	if err != nil {
		return err
	}
	f.Millis = millisSince(start) // decoding included
	post(protocol.KindTeachFeatures, id, f)
	return nil
}

// teachTrain trains the final head, posting each epoch; then the worker
// classifies with the taught model (KindTeachTrained), evaluates the
// settings (KindTeachEvaluated), and builds the model file, saves it in
// the model cache (so a load request finds it, offline too) and posts it
// (KindTeachSaved). A stop ends the running phase: the best epoch so far
// is the model, and the evaluation is skipped.
func teachTrain(id int, req protocol.TeachTrainRequest) error {
	teachStopped.Store(false)
	lastYield := time.Now()
	progress := func(e protocol.TeachEpoch) bool {
		post(protocol.KindTeachEpoch, id, e)
		if time.Since(lastYield) > 50*time.Millisecond {
			time.Sleep(time.Millisecond) // lets the onmessage callback run: a stop arrives here
			lastYield = time.Now()
		}
		return !teachStopped.Load()
	}
	res, err := engine.Teach(req, progress)
	if err != nil {
		return err
	}
	post(protocol.KindTeachTrained, id, res)
	start := time.Now()
	evaluated := protocol.TeachEvaluated{Skipped: res.Stopped}
	if !res.Stopped {
		ev, err := engine.TeachEvaluate(req, progress)
		switch {
		case err != nil && teachStopped.Load():
			evaluated.Skipped = true
		case err != nil:
			return err
		default:
			evaluated.Evaluation = ev
		}
	}
	evaluated.Millis = millisSince(start)
	post(protocol.KindTeachEvaluated, id, evaluated)
	start = time.Now()
	file, entry, err := engine.BuildModel(req.Quantize)
	if err != nil {
		return err
	}
	saved := protocol.TeachSaved{Entry: entry, BuildMillis: millisSince(start)}
	if err := saveLocalModel(entry, file); err != nil {
		saved.SaveError = err.Error()
	}
	postBlob(protocol.KindTeachSaved, id, saved, toJSBytes(file))
	return nil
}

// teachImport checks a model file the user picked and saves it like a
// trained one.
func teachImport(id int, req protocol.TeachImportRequest, blob js.Value) error {
	if blob.IsUndefined() || blob.IsNull() {
		return fmt.Errorf("%s: no file data received", req.Name)
	}
	buf, err := await(blob.Call("arrayBuffer"))
	if err != nil {
		return fmt.Errorf("%s: reading the file failed: %v", req.Name, err)
	}
	data := fromJSBytes(js.Global().Get("Uint8Array").New(buf))
	name := strings.TrimSuffix(strings.TrimSuffix(req.Name, ".safetensors"), ".vggo")
	entry, err := inference.LocalEntry(data, name)
	if err != nil {
		return fmt.Errorf("%s is not a vggo model file: %w", req.Name, err)
	}
	if err := saveLocalModel(entry, data); err != nil {
		return err
	}
	post(protocol.KindTeachImported, id, protocol.TeachImported{Entry: entry})
	return nil
}

// saveLocalModel puts a model file into the model cache under the key a
// load request for entry looks up.
func saveLocalModel(entry protocol.ModelEntry, data []byte) error {
	cache, err := await(self.Get("caches").Call("open", ModelCacheName))
	if err != nil {
		return fmt.Errorf("cannot save %s in the browser: the cache is unavailable (%v)", entry.Name, err)
	}
	headers := map[string]any{"Content-Type": "application/octet-stream"}
	resp := js.Global().Get("Response").New(toJSBytes(data), map[string]any{"headers": headers})
	if _, err := await(cache.Call("put", cacheKey(entry.URL, entry.SHA256), resp)); err != nil {
		if strings.Contains(err.Error(), "Quota") {
			return fmt.Errorf("cannot save %s (%s) in the browser: its storage is full. Export the model as a file, or delete saved models or site data to make room", entry.Name, protocol.HumanBytes(entry.Bytes))
		}
		return fmt.Errorf("cannot save %s in the browser: %v", entry.Name, err)
	}
	return nil
}

// postBlob sends one message with a body and a blob (a Uint8Array, or any
// structured-cloneable value) to the page.
func postBlob(kind string, id int, body any, blob js.Value) {
	msg := map[string]any{protocol.FieldKind: kind, protocol.FieldID: id, protocol.FieldBlob: blob}
	b, err := json.Marshal(body)
	if err != nil {
		b, _ = json.Marshal(protocol.ErrorReply{Message: "encoding reply: " + err.Error()})
		msg[protocol.FieldKind] = protocol.KindError
	}
	msg[protocol.FieldBody] = string(b)
	self.Call("postMessage", msg)
}
