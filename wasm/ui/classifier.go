package ui

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/model/imagefile"
	"vggo/wasm/protocol"
)

// Storage keys (localStorage).
const (
	storedIndexKey = "vggo.models-index" // the last /models index, for offline starts
	storedModelKey = "vggo.model"        // SHA-256 of the model the user picked
)

// GallerySize is how many recent results the page keeps.
const GallerySize = 12

// Model states shown by #model-status's data-state.
const (
	modelNone        = "none"        // no index yet
	modelDownloading = "downloading" // bytes arriving
	modelLoading     = "loading"     // asked the worker, no progress (cache or parsing)
	modelReady       = "ready"
	modelFailed      = "error"
)

// entry is one image in the gallery: pending, classified or failed.
type entry struct {
	ID       int // worker request id
	Name     string
	ImageURL string // blob: URL of the file, revoked when the entry leaves the gallery
	Result   *protocol.Result
	Err      string
}

func (e *entry) state() string {
	switch {
	case e.Err != "":
		return "error"
	case e.Result != nil:
		return "done"
	}
	return "pending"
}

// Classifier is the classify page: model picker and download, image intake
// (file picker, drag and drop, paste, camera) and results.
type Classifier struct {
	app.Compo

	worker *workerClient

	models      []protocol.ModelEntry
	broken      []protocol.ModelEntry
	indexNote   string // e.g. "offline: using the saved model list"
	selected    string // SHA-256 of the chosen model
	modelState  string
	modelMsg    string
	modelSource string // "network" or "cache": where the ready model came from
	loadID      int
	progress    protocol.Progress
	loaded      protocol.Loaded

	gallery []*entry // newest first
	notice  string   // intake errors that belong to no image

	dragOver     bool
	cameraOn     bool
	cameraStream app.Value
	removePaste  func()
}

// OnMount starts the worker, fetches the model index and listens for pastes.
func (c *Classifier) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	c.modelState = modelNone
	c.modelMsg = "Fetching the model list…"
	c.worker = startWorker(ctx, c.onReply)
	c.fetchIndex(ctx)
	c.removePaste = app.Window().AddEventListener("paste", c.onPaste)
}

// OnDismount stops the worker and the camera.
func (c *Classifier) OnDismount() {
	if c.removePaste != nil {
		c.removePaste()
	}
	c.stopCamera()
	c.worker.stop()
}

// fetchIndex loads /models; offline it falls back to the copy saved on the
// last successful fetch.
func (c *Classifier) fetchIndex(ctx app.Context) {
	use := func(ctx app.Context, data []byte, fresh bool) {
		if !fresh {
			c.indexNote = "Offline: using the model list saved on your last visit."
		}
		c.useIndex(ctx, data, fresh)
	}
	fetchModelIndex(ctx, use, func(ctx app.Context, why string) {
		c.modelState = modelFailed
		c.modelMsg = "Cannot get the model list (" + why + ") and none is saved from an earlier visit."
	})
}

// fetchModelIndex fetches /models and hands its bytes to use (fresh=true).
// When the fetch fails (offline, server error) it hands over the copy saved
// on the last successful fetch instead (fresh=false), or calls fail when
// there is none. The main app and the embed frame share it.
func fetchModelIndex(ctx app.Context, use func(ctx app.Context, data []byte, fresh bool), fail func(ctx app.Context, why string)) {
	fallback := func(ctx app.Context, why string) {
		var saved string
		ctx.LocalStorage().Get(storedIndexKey, &saved)
		if saved == "" {
			fail(ctx, why)
			return
		}
		use(ctx, []byte(saved), false)
	}
	opts := map[string]any{"cache": "no-store"}
	awaitPromise(ctx, app.Window().Call("fetch", ModelsIndex, opts), func(ctx app.Context, resp app.Value) {
		if !resp.Get("ok").Bool() {
			fallback(ctx, fmt.Sprintf("HTTP %d", resp.Get("status").Int()))
			return
		}
		awaitPromise(ctx, resp.Call("text"), func(ctx app.Context, text app.Value) {
			use(ctx, []byte(text.String()), true)
		}, fallback)
	}, fallback)
}

// useIndex parses an index, remembers it when fresh, and loads the model the
// user picked last time (else the first one).
func (c *Classifier) useIndex(ctx app.Context, data []byte, fresh bool) {
	models, broken, err := protocol.ParseIndex(data)
	if err != nil {
		c.modelState = modelFailed
		c.modelMsg = err.Error()
		return
	}
	if fresh {
		ctx.LocalStorage().Set(storedIndexKey, string(data))
	}
	c.models, c.broken = models, broken
	if len(models) == 0 {
		c.modelState = modelFailed
		c.modelMsg = "The server lists no usable model."
		return
	}
	var want string
	ctx.LocalStorage().Get(storedModelKey, &want)
	pick := models[0].SHA256
	for _, m := range models {
		if m.SHA256 == want {
			pick = want
		}
	}
	c.loadModel(ctx, pick)
}

func (c *Classifier) model(sha string) (protocol.ModelEntry, bool) {
	for _, m := range c.models {
		if m.SHA256 == sha {
			return m, true
		}
	}
	return protocol.ModelEntry{}, false
}

// loadModel asks the worker to make the model ready.
func (c *Classifier) loadModel(ctx app.Context, sha string) {
	m, ok := c.model(sha)
	if !ok {
		return
	}
	c.selected = sha
	c.loaded = protocol.Loaded{}
	c.modelSource = ""
	ctx.LocalStorage().Set(storedModelKey, sha)
	c.modelState = modelLoading
	c.modelMsg = "Loading " + m.Name + "…"
	c.progress = protocol.Progress{Name: m.Name, Total: m.Bytes}
	c.loadID = c.worker.send(protocol.KindLoad, protocol.LoadRequest{
		Name: m.Name, URL: m.Href(), SHA256: m.SHA256, Bytes: m.Bytes,
	}, nil)
}

// onReply updates the page from a worker message.
func (c *Classifier) onReply(ctx app.Context, r workerReply) {
	switch r.Kind {
	case protocol.KindReady:
	case protocol.KindProgress:
		if r.ID != c.loadID {
			return
		}
		r.decode(&c.progress)
		c.modelState = modelDownloading
		c.modelMsg = "Downloading " + c.progress.Name + "…"
	case protocol.KindLoaded:
		if r.ID != c.loadID {
			return
		}
		r.decode(&c.loaded)
		c.modelState = modelReady
		from := "downloaded and verified"
		c.modelSource = "network"
		if c.loaded.FromCache {
			from = "from the offline cache, verified"
			c.modelSource = "cache"
		}
		c.modelMsg = fmt.Sprintf("%s ready (%s, %s; %d classes, %d×%d input, prepared in %.0f ms).",
			c.loaded.Name, protocol.HumanBytes(c.loaded.Bytes), from, len(c.loaded.Classes),
			c.loaded.InputSize, c.loaded.InputSize, c.loaded.LoadMillis)
	case protocol.KindResult:
		if e := c.entry(r.ID); e != nil {
			var res protocol.Result
			if err := r.decode(&res); err != nil {
				e.Err = "bad reply from the worker: " + err.Error()
			} else {
				e.Result = &res
			}
		}
	case protocol.KindError:
		var er protocol.ErrorReply
		r.decode(&er)
		switch {
		case r.ID == c.loadID && c.modelState != modelReady:
			c.modelState = modelFailed
			c.modelMsg = er.Message
		case c.entry(r.ID) != nil:
			c.entry(r.ID).Err = er.Message
		case r.ID == 0:
			c.modelState = modelFailed
			c.modelMsg = er.Message
		default:
			c.notice = er.Message
		}
	}
}

func (c *Classifier) entry(id int) *entry {
	for _, e := range c.gallery {
		if e.ID == id && id != 0 {
			return e
		}
	}
	return nil
}

// classifyFiles sends every file of a FileList (or array) to the worker.
func (c *Classifier) classifyFiles(files app.Value) {
	n := files.Length()
	if n == 0 {
		return
	}
	c.notice = ""
	for i := 0; i < n; i++ {
		c.classifyBlob(files.Index(i), "")
	}
}

// classifyBlob adds a gallery entry for one File or Blob and sends it to the
// worker. Oversized files are refused here, before any copy.
func (c *Classifier) classifyBlob(blob app.Value, name string) {
	if name == "" {
		name = blob.Get("name").String()
	}
	e := &entry{Name: name}
	size := int64(blob.Get("size").Float())
	if err := imagefile.Check(name, size, blob.Get("type").String()); err != nil {
		e.Err = err.Error()
	} else {
		e.ImageURL = app.Window().Get("URL").Call("createObjectURL", blob).String()
		e.ID = c.worker.send(protocol.KindClassify, protocol.ClassifyRequest{Name: name, Size: size}, blob)
	}
	c.gallery = append([]*entry{e}, c.gallery...)
	for len(c.gallery) > GallerySize {
		old := c.gallery[len(c.gallery)-1]
		if old.ImageURL != "" {
			app.Window().Get("URL").Call("revokeObjectURL", old.ImageURL)
		}
		c.gallery = c.gallery[:len(c.gallery)-1]
	}
}

func (c *Classifier) onFiles(ctx app.Context, e app.Event) {
	input := e.Get("target")
	c.classifyFiles(input.Get("files"))
	input.Set("value", "") // the same file can be picked again
}

func (c *Classifier) onDragOver(ctx app.Context, e app.Event) {
	e.PreventDefault()
	c.dragOver = true
}

func (c *Classifier) onDragLeave(ctx app.Context, e app.Event) {
	c.dragOver = false
}

func (c *Classifier) onDrop(ctx app.Context, e app.Event) {
	e.PreventDefault()
	c.dragOver = false
	c.classifyFiles(e.Get("dataTransfer").Get("files"))
}

func (c *Classifier) onPaste(ctx app.Context, e app.Event) {
	files := e.Get("clipboardData").Get("files")
	if files.Length() == 0 {
		return
	}
	e.PreventDefault()
	c.classifyFiles(files)
}

// startCamera opens the camera with getUserMedia; where that is missing or
// refused, the "Take a photo" file input (capture attribute) remains.
func (c *Classifier) startCamera(ctx app.Context, e app.Event) {
	devices := app.Window().Get("navigator").Get("mediaDevices")
	if !devices.Truthy() || !devices.Get("getUserMedia").Truthy() {
		c.notice = "This browser gives no camera access here; use “Take a photo” instead."
		return
	}
	constraints := map[string]any{"video": map[string]any{"facingMode": "environment"}, "audio": false}
	awaitPromise(ctx, devices.Call("getUserMedia", constraints), func(ctx app.Context, stream app.Value) {
		c.cameraStream = stream
		c.cameraOn = true
		ctx.Defer(func(ctx app.Context) {
			if v := app.Window().GetElementByID("camera-video"); v.Truthy() {
				v.Set("srcObject", stream)
			}
		})
	}, func(ctx app.Context, msg string) {
		c.notice = "Camera unavailable (" + msg + "); use “Take a photo” instead."
	})
}

// capture grabs the current video frame as a PNG (lossless, so the worker
// sees exactly these pixels) and classifies it.
func (c *Classifier) capture(ctx app.Context, e app.Event) {
	video := app.Window().GetElementByID("camera-video")
	w, h := video.Get("videoWidth").Int(), video.Get("videoHeight").Int()
	if w == 0 || h == 0 {
		c.notice = "The camera has no picture yet."
		return
	}
	canvas := app.Window().Get("document").Call("createElement", "canvas")
	canvas.Set("width", w)
	canvas.Set("height", h)
	canvas.Call("getContext", "2d").Call("drawImage", video, 0, 0, w, h)
	var done app.Func
	done = app.FuncOf(func(this app.Value, args []app.Value) any {
		blob := args[0]
		ctx.Dispatch(func(ctx app.Context) {
			if !blob.Truthy() {
				c.notice = "Capturing the camera picture failed."
				return
			}
			c.classifyBlob(blob, "camera-"+time.Now().Format("150405")+".png")
		})
		done.Release()
		return nil
	})
	canvas.Call("toBlob", done, "image/png")
}

func (c *Classifier) closeCamera(ctx app.Context, e app.Event) { c.stopCamera() }

func (c *Classifier) stopCamera() {
	if c.cameraStream != nil && c.cameraStream.Truthy() {
		tracks := c.cameraStream.Call("getTracks")
		for i := 0; i < tracks.Length(); i++ {
			tracks.Index(i).Call("stop")
		}
	}
	c.cameraStream = nil
	c.cameraOn = false
}

func (c *Classifier) onPickModel(ctx app.Context, e app.Event) {
	c.loadModel(ctx, ctx.JSSrc().Get("value").String())
}

// selectedName is the name of the picked model (loading, ready or failed).
func (c *Classifier) selectedName() string {
	m, _ := c.model(c.selected)
	return m.Name
}

func (c *Classifier) busy() bool {
	for _, e := range c.gallery {
		if e.state() == "pending" {
			return true
		}
	}
	return c.modelState == modelLoading || c.modelState == modelDownloading
}

// Render draws the page.
func (c *Classifier) Render() app.UI {
	return app.Div().Class("page").Body(
		pageHeader(ClassifyPath),
		app.Main().ID("main").Body(
			c.renderModel(),
			c.renderIntake(),
			c.renderSamples(),
			c.renderResults(),
		),
	)
}

func pageHeader(current string) app.UI {
	link := func(href, text string) app.UI {
		a := app.A().Href(href).Text(text)
		if href == current {
			a = a.Aria("current", "page")
		}
		return app.Li().Body(a)
	}
	return app.Header().Class("top").Body(
		app.A().Class("skip").Href("#main").Text("Skip to content"),
		app.Div().Class("brand").Body(
			app.Img().Src(IconSVG).Alt("").Width(32).Height(32),
			app.Span().Text("vggo"),
		),
		app.Nav().Aria("label", "Pages").Body(app.Ul().Body(
			link(ClassifyPath, "Classify"),
			link(BenchPath, "Benchmark"),
		)),
	)
}

func (c *Classifier) renderModel() app.UI {
	pct := c.progress.Percent()
	return app.Section().Class("panel").Aria("labelledby", "model-heading").Body(
		app.H2().ID("model-heading").Text("Model"),
		app.Div().Class("row").Body(
			app.Label().For("model-select").Text("Model"),
			app.Select().ID("model-select").
				Disabled(len(c.models) == 0).
				OnChange(c.onPickModel).
				Body(
					app.Range(c.models).Slice(func(i int) app.UI {
						m := c.models[i]
						label := fmt.Sprintf("%s — %d classes, %d px, %s", m.Name, len(m.Classes), m.InputSize, protocol.HumanBytes(m.Bytes))
						return app.Option().Value(m.SHA256).Selected(m.SHA256 == c.selected).Text(label)
					}),
				),
		),
		app.P().ID("model-status").Class("status").DataSet("state", c.modelState).DataSet("source", c.modelSource).DataSet("model", c.selectedName()).
			Aria("live", "polite").Role("status").Text(c.modelMsg),
		app.If(c.modelState == modelDownloading,
			app.Div().Class("progress-row").Body(
				app.Progress().ID("model-progress").Max(100).Value(fmt.Sprintf("%.1f", pct)).
					Aria("label", "Model download"),
				app.Span().ID("model-progress-text").Text(fmt.Sprintf("%s of %s (%.0f %%)",
					protocol.HumanBytes(c.progress.Loaded), protocol.HumanBytes(c.progress.Total), pct)),
			),
		),
		app.If(c.indexNote != "", app.P().Class("note").Text(c.indexNote)),
		app.Range(c.broken).Slice(func(i int) app.UI {
			b := c.broken[i]
			return app.P().Class("note").Text(fmt.Sprintf("Not available: %s (%s)", firstNonEmpty(b.Name, b.File), b.Error))
		}),
	)
}

func (c *Classifier) renderIntake() app.UI {
	zone := "dropzone"
	if c.dragOver {
		zone += " over"
	}
	return app.Section().Class("panel").Aria("labelledby", "intake-heading").Body(
		app.H2().ID("intake-heading").Text("Images"),
		app.Div().ID("dropzone").Class(zone).
			OnDragOver(c.onDragOver).OnDragLeave(c.onDragLeave).OnDrop(c.onDrop).
			Body(
				app.P().Text("Drop images here, paste one (Ctrl+V), or:"),
				app.Div().Class("buttons").Body(
					// Each file input is visually hidden but stays in the tab
					// order; the label right after it shows its focus (app.css).
					app.Input().ID("file-input").Type("file").Accept("image/*").Multiple(true).
						Class("visually-hidden").OnChange(c.onFiles),
					app.Label().For("file-input").Class("button").Text("Choose images…"),
					app.Button().ID("camera-button").Type("button").Class("button").
						Disabled(c.cameraOn).Text("Use camera").OnClick(c.startCamera),
					app.Input().ID("camera-input").Type("file").Accept("image/*").
						Attr("capture", "environment").Class("visually-hidden").OnChange(c.onFiles),
					app.Label().For("camera-input").Class("button secondary").Text("Take a photo"),
				),
			),
		app.If(c.cameraOn,
			app.Div().Class("camera").Body(
				app.Video().ID("camera-video").AutoPlay(true).Attr("playsinline", true).Muted(true).
					Aria("label", "Camera preview"),
				app.Div().Class("buttons").Body(
					app.Button().ID("capture-button").Type("button").Class("button").Text("Capture").OnClick(c.capture),
					app.Button().Type("button").Class("button secondary").Text("Close camera").OnClick(c.closeCamera),
				),
			),
		),
		app.If(c.notice != "", app.P().ID("notice").Class("error").Role("alert").Text(c.notice)),
	)
}

func (c *Classifier) renderResults() app.UI {
	return app.Section().Class("panel").Aria("labelledby", "results-heading").Body(
		app.Div().Class("row").Body(
			app.H2().ID("results-heading").Text("Results"),
			app.If(c.busy(), app.Span().ID("busy").Class("spinner").Role("progressbar").Aria("label", "Working")),
		),
		app.If(len(c.gallery) == 0, app.P().Class("note").Text("No images yet.")),
		app.Ol().ID("results").Class("gallery").Aria("live", "polite").Body(
			app.Range(c.gallery).Slice(func(i int) app.UI { return renderEntry(c.gallery[i]) }),
		),
	)
}

func renderEntry(e *entry) app.UI {
	art := app.Article().Class("result "+e.state()).DataSet("state", e.state()).DataSet("name", e.Name)
	var body []app.UI
	if e.ImageURL != "" && e.state() != "error" { // a file that failed to decode shows no broken-image icon
		body = append(body, app.Img().Class("thumb").Src(e.ImageURL).Alt(e.Name))
	}
	body = append(body, app.H3().Text(e.Name))
	switch e.state() {
	case "pending":
		body = append(body, app.P().Class("note").Body(app.Span().Class("spinner small"), app.Text(" Classifying…")))
	case "error":
		body = append(body, app.P().Class("result-error error").Role("alert").Text(e.Err))
	case "done":
		r := e.Result
		probs, _ := json.Marshal(r.Probs)
		art = art.DataSet("probs", string(probs))
		if len(r.Top) > 0 {
			art = art.DataSet("class", r.Top[0].Class)
		}
		body = append(body,
			app.Ol().Class("top5").Aria("label", "Top classes").Body(
				app.Range(r.Top).Slice(func(i int) app.UI {
					p := r.Top[i]
					pct := 100 * float64(p.Prob)
					return app.Li().Body(
						app.Span().Class("cls").Text(p.Class),
						// <meter> rather than a styled bar: no inline style, which the
						// server's Content-Security-Policy (style-src 'self') forbids.
						app.Meter().Class("bar").Min(0).Max(1).Value(fmt.Sprintf("%.4f", p.Prob)).
							Aria("hidden", true),
						app.Span().Class("pct").Text(fmt.Sprintf("%.1f %%", pct)),
					)
				}),
			),
			app.P().Class("timing").Text(fmt.Sprintf("%s · inference %.1f ms · decode %.1f ms · %d×%d px",
				r.Model, r.ForwardMillis, r.DecodeMillis, r.Width, r.Height)),
		)
	}
	return app.Li().Body(art.Body(body...))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
