package ui

import (
	"strconv"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/model/imagefile"
	"vggo/wasm/protocol"
)

// Storage keys (localStorage).
const (
	storedIndexKey = "vggo.models-index" // the last /models index, for offline starts
	storedModelKey = "vggo.model"        // SHA-256 of the model the user picked
)

// Model states shown by #model-status's data-state.
const (
	modelNone        = "none"        // no index yet
	modelDownloading = "downloading" // bytes arriving
	modelLoading     = "loading"     // asked the worker, no progress (cache or parsing)
	modelReady       = "ready"
	modelFailed      = "error"
)

// modelSession is a page's model: the inference worker that holds it, the
// index entry the page asked for, and how far loading it has got. The
// classify page and the widget frame both use it, so they fetch the index,
// load a model, follow its progress and fail the same way.
type modelSession struct {
	// ready and failed, where set, are called as the model becomes ready or
	// unusable: the widget tells its host page.
	ready  func()
	failed func(msg string)

	worker  *workerPool
	onReply func(app.Context, workerReply)
	// wholeBase, where set before start, asks for the whole base as
	// float32 in one worker whatever the settings say: the teach page's
	// features, head and exported file need it.
	wholeBase bool
	// workersSetting is the app's pool size setting, 0 for automatic.
	workersSetting int
	// memorySetting is the app's memory setting (memoryNormal,
	// memorySave), "" for automatic.
	memorySetting string
	// memoryChoice is the page's memory choice as the pool starts: the
	// ?memory query, else memorySetting ("" for automatic).
	memoryChoice string
	entry        protocol.ModelEntry // the model asked for last
	state        string              // one of the model* states
	failure      string              // why, once state is modelFailed
	progress     protocol.Progress
	loaded       protocol.Loaded
	loadID       int // the last load request; replies to earlier ones are stale
}

// start starts the inference workers (sessionWorkers says how many);
// onReply gets every reply, and hands those about the model to update. A
// page rendered on the server never starts its session, so the zero
// session is one with no model.
func (s *modelSession) start(ctx app.Context, onReply func(app.Context, workerReply)) {
	q := ctx.Page().URL().Query()
	s.onReply = onReply
	s.workersSetting = storedWorkers(ctx)
	s.memorySetting = storedMemory(ctx)
	s.memoryChoice = sessionMemory(ctx, s.memorySetting)
	s.worker = startPool(ctx, workerBuild(""), s.poolSize(ctx), poolFlagsFrom(q), onReply)
	s.state = modelNone
}

// setWorkers saves the app's pool size setting (0: the default) and
// restarts the pool with it, loading the model again if there is one.
func (s *modelSession) setWorkers(ctx app.Context, n int) {
	ctx.LocalStorage().Set(storedThreadsKey, strconv.Itoa(n))
	s.workersSetting = parseWorkers(strconv.Itoa(n))
	s.restart(ctx)
}

// setMemory saves the app's memory setting (memoryNormal, memorySave, or
// "" for automatic) and restarts the pool with it, loading the model
// again if there is one: fresh workers, since wasm memory never shrinks.
func (s *modelSession) setMemory(ctx app.Context, v string) {
	ctx.LocalStorage().Set(storedMemoryKey, v)
	s.memorySetting = parseMemory(v)
	s.restart(ctx)
}

// restart replaces the pool with one sized by the settings now, loading
// the model again if there is one.
func (s *modelSession) restart(ctx app.Context) {
	s.memoryChoice = sessionMemory(ctx, s.memorySetting)
	old := s.worker
	old.stop()
	s.worker = startPool(ctx, old.build, s.poolSize(ctx), old.flags, s.onReply)
	s.worker.nextID = old.nextID // ids stay unique across pools
	if s.entry.SHA256 != "" && s.state != modelNone {
		s.load(s.entry)
	}
}

// poolSize is the number of workers this session runs.
func (s *modelSession) poolSize(ctx app.Context) int {
	if s.wholeBase {
		return 1
	}
	return sessionWorkers(ctx)
}

// sessionWorkers is the pool size of a page: ?threads=N (the widget's
// threads attribute), else the app's setting, else DefaultWorkers.
func sessionWorkers(ctx app.Context) int {
	if n := parseWorkers(ctx.Page().URL().Query().Get(threadsQuery)); n > 0 {
		return n
	}
	if n := storedWorkers(ctx); n > 0 {
		return n
	}
	return DefaultWorkers()
}

// storedWorkers is the app's saved pool size, 0 for automatic.
func storedWorkers(ctx app.Context) int {
	var stored string
	ctx.LocalStorage().Get(storedThreadsKey, &stored)
	return parseWorkers(stored)
}

// storedMemory is the app's saved memory setting, "" for automatic.
func storedMemory(ctx app.Context) string {
	var stored string
	ctx.LocalStorage().Get(storedMemoryKey, &stored)
	return parseMemory(stored)
}

// sessionMemory is a page's memory choice: ?memory=save or normal (the
// widget's memory attribute), else the app's setting ("" for automatic).
func sessionMemory(ctx app.Context, setting string) string {
	if v := parseMemory(ctx.Page().URL().Query().Get(memoryQuery)); v != "" {
		return v
	}
	return setting
}

// savesMemory is whether the workers pack m's weights to save memory: as
// the page chose, else automatically (autoSavesMemory); never for the
// teach page, which needs the float32 base.
func (s *modelSession) savesMemory(m protocol.ModelEntry) bool {
	switch {
	case s.wholeBase:
		return false
	case s.memoryChoice != "":
		return s.memoryChoice == memorySave
	}
	return autoSavesMemory(m.InputSize)
}

// stop terminates the worker, if started.
func (s *modelSession) stop() { s.worker.stop() }

// load asks the worker to make m ready: from its cache or downloaded.
func (s *modelSession) load(m protocol.ModelEntry) {
	s.entry = m
	s.state = modelLoading
	s.failure = ""
	s.loaded = protocol.Loaded{}
	s.progress = protocol.Progress{Name: m.Name, Total: m.Bytes}
	s.loadID = s.worker.send(protocol.KindLoad, protocol.LoadRequest{
		Name: m.Name, URL: m.Href(), SHA256: m.SHA256, Bytes: m.Bytes,
		SaveMemory: s.savesMemory(m),
	}, nil)
}

// fail marks the model unusable.
func (s *modelSession) fail(msg string) {
	s.state = modelFailed
	s.failure = msg
	if s.failed != nil {
		s.failed(msg)
	}
}

// update applies a worker reply about the model (progress, loaded, or an
// error of the load or of the worker itself) and reports whether it was
// one; the page handles the rest, the replies about its images.
func (s *modelSession) update(r workerReply) bool {
	switch r.Kind {
	case protocol.KindProgress:
		if r.ID == s.loadID {
			r.decode(&s.progress)
			s.state = modelDownloading
			return true
		}
	case protocol.KindLoaded:
		if r.ID == s.loadID {
			r.decode(&s.loaded)
			s.state = modelReady
			if s.ready != nil {
				s.ready()
			}
			return true
		}
	case protocol.KindError:
		if r.ID == 0 || r.ID == s.loadID && s.state != modelReady {
			var er protocol.ErrorReply
			r.decode(&er)
			s.fail(er.Message)
			return true
		}
	}
	return false
}

// status words, for a page's status line, the states that every page words
// alike: waiting for the index (in the page's words: waiting), loading from
// the cache, and failed. The pages word downloading and ready themselves.
func (s *modelSession) status(waiting string) string {
	switch s.state {
	case modelNone:
		return waiting
	case modelLoading:
		return "Loading " + s.entry.Name + "…"
	}
	return s.failure
}

// busy reports whether the model is on its way.
func (s *modelSession) busy() bool {
	return s.state == modelLoading || s.state == modelDownloading
}

// source says where the ready model came from: "network" or "cache" ("" before).
func (s *modelSession) source() string {
	switch {
	case s.state != modelReady:
		return ""
	case s.loaded.FromCache:
		return "cache"
	}
	return "network"
}

// checkImage refuses a File or Blob that is no image file vggo reads, before
// any copy of its bytes.
func checkImage(blob app.Value, name string) error {
	return imagefile.Check(name, int64(blob.Get("size").Float()), blob.Get("type").String())
}

// classify sends an image (a File or Blob that passed checkImage) to the
// worker and returns the request's id.
func (s *modelSession) classify(blob app.Value, name string) int {
	req := protocol.ClassifyRequest{Name: name, Size: int64(blob.Get("size").Float())}
	return s.worker.send(protocol.KindClassify, req, blob)
}

// fetchIndex loads /models and hands its usable and broken entries to use
// (fresh=true), saving it for offline starts. When the fetch fails
// (offline, server error) it hands over the copy saved on the last
// successful fetch instead (fresh=false), or fails the session when there
// is none. An index that does not parse fails the session too.
func (s *modelSession) fetchIndex(ctx app.Context, use func(ctx app.Context, models, broken []protocol.ModelEntry, fresh bool)) {
	parse := func(ctx app.Context, data string, fresh bool) {
		models, broken, err := protocol.ParseIndex([]byte(data))
		if err != nil {
			s.fail(err.Error())
			return
		}
		if fresh {
			ctx.LocalStorage().Set(storedIndexKey, data)
		}
		use(ctx, append(models, savedLocalModels(ctx)...), broken, fresh) // the teach page's models too
	}
	fallback := func(ctx app.Context, why string) {
		var saved string
		ctx.LocalStorage().Get(storedIndexKey, &saved)
		if saved == "" {
			s.fail("Cannot get the model list (" + why + ") and none is saved from an earlier visit.")
			return
		}
		parse(ctx, saved, false)
	}
	fetchBody(ctx, app.Window().Call("fetch", ModelsIndex, map[string]any{"cache": "no-store"}), "text",
		func(ctx app.Context, text app.Value) { parse(ctx, text.String(), true) }, fallback)
}
