package ui

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/model/imagefile"
	"vggo/model/rank"
	"vggo/wasm/protocol"
)

// The embeddable widget. A host page loads /embed.js (web/static/embed.js),
// which turns every <vggo-classifier> element into an iframe showing
// EmbedPath?model=NAME&top=N&theme=light|dark|auto. The Embed component is
// that page: a compact drop zone, file picker and result view running the
// same worker, model cache and service worker as the full app, in its own
// document, so the host page's CSS and scripts cannot reach it and the Go
// runtime has a window of its own.
//
// The frame and the host page talk with postMessage only, with plain
// objects whose "vggo" field names the message (the Embed* constants):
//
//	frame → host  ready   {}                     before the host is known; carries nothing
//	host → frame  init    {}                     the host's answer; pins its origin
//	frame → host  loaded  {detail: JSON}          model ready: EmbedLoaded
//	frame → host  size    {height}               the page's height in CSS px
//	frame → host  result  {detail: JSON}          EmbedResult
//	frame → host  error   {detail: JSON}          EmbedError
//	host → frame  classify {id, name, blob}      classify a Blob or File
//
// Origins: the frame accepts messages only from window.parent, and only
// from one origin, pinned by the first init message. Where the browser
// tells the parent's origin (location.ancestorOrigins, else the referrer's
// origin) an init from any other origin is ignored, so a page that does not
// frame the widget cannot pin itself. Everything the frame sends after
// that goes to the pinned origin only (postMessage's targetOrigin). Which
// pages may frame the widget at all is the server's CSP frame-ancestors.
const (
	EmbedReady    = "ready"
	EmbedInit     = "init"
	EmbedLoadedEv = "loaded"
	EmbedSize     = "size"
	EmbedResultEv = "result"
	EmbedErrorEv  = "error"
	EmbedClassify = "classify"
	// EmbedField is the field of every message that names its kind.
	EmbedField = "vggo"
)

// EmbedDefaultTop is how many classes the widget shows when top is not set;
// EmbedMaxTop caps the attribute.
const (
	EmbedDefaultTop = 3
	EmbedMaxTop     = 20
)

// EmbedParams are the widget's settings, from the page's query string.
type EmbedParams struct {
	Model string // model name as in /models; "" = the first model
	Top   int    // classes shown, 1..EmbedMaxTop
	Theme string // "light", "dark" or "auto" (the visitor's preference)
}

// ParseEmbedParams reads model, top and theme from a query string; values
// out of range fall back to the defaults rather than failing, since a host
// page author cannot see errors inside the frame.
func ParseEmbedParams(q url.Values) EmbedParams {
	p := EmbedParams{Model: strings.TrimSpace(q.Get("model")), Top: EmbedDefaultTop, Theme: "auto"}
	if n, err := strconv.Atoi(q.Get("top")); err == nil && n >= 1 {
		p.Top = min(n, EmbedMaxTop)
	}
	switch t := q.Get("theme"); t {
	case "light", "dark":
		p.Theme = t
	}
	return p
}

// ExpectedHostOrigin is the origin the frame's parent must have, as far as
// the browser tells: the first of location.ancestorOrigins (Chromium,
// Safari), else the origin of document.referrer (the host page, unless its
// Referrer-Policy hides it), else "" (unknown: the first init is trusted).
func ExpectedHostOrigin(ancestorOrigin, referrer string) string {
	if ancestorOrigin != "" && ancestorOrigin != "null" {
		return ancestorOrigin
	}
	if u, err := url.Parse(referrer); err == nil && u.Scheme != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	return ""
}

// AcceptHostMessage decides whether a message from origin (its source being
// the frame's parent: fromParent) is taken, given the pinned origin so far
// and the expected one. It returns the (possibly newly) pinned origin.
// Only an init may pin; later messages must come from the pinned origin.
func AcceptHostMessage(kind, origin string, fromParent bool, pinned, expected string) (newPinned string, ok bool) {
	if !fromParent || origin == "" || origin == "null" {
		return pinned, false
	}
	if pinned == "" {
		if kind != EmbedInit || (expected != "" && origin != expected) {
			return "", false
		}
		return origin, true
	}
	return pinned, origin == pinned
}

// EmbedResult is the detail of the host page's vggo-result event.
type EmbedResult struct {
	ID      int               `json:"id"` // classify() request id; 0 for a file the visitor chose
	Name    string            `json:"name"`
	Model   string            `json:"model"`
	Classes []rank.Prediction `json:"classes"` // every class, most probable first
	Probs   []float32         `json:"probs"`   // every class, in model order
	Timing  EmbedTiming       `json:"timing"`
}

// EmbedTiming is how long a classification took, in milliseconds.
type EmbedTiming struct {
	DecodeMillis  float64 `json:"decodeMillis"`
	ForwardMillis float64 `json:"forwardMillis"` // preprocessing + forward pass
	TotalMillis   float64 `json:"totalMillis"`   // from receiving the image to the result
}

// EmbedError is the detail of the host page's vggo-error event.
type EmbedError struct {
	ID      int    `json:"id"`
	Name    string `json:"name,omitempty"`
	Model   string `json:"model,omitempty"`
	Message string `json:"message"`
}

// EmbedLoaded is the detail of the host page's vggo-ready event.
type EmbedLoaded struct {
	Model  string   `json:"model"`
	Labels []string `json:"labels"` // class names, in model order
}

// embedJob is one image on its way through the widget.
type embedJob struct {
	hostID  int // the host's classify() id, 0 for the visitor's own file
	name    string
	blob    app.Value
	started time.Time
}

// Embed is the widget's page (EmbedPath).
type Embed struct {
	app.Compo

	params   EmbedParams
	worker   *workerClient
	model    protocol.ModelEntry
	loaded   protocol.Loaded
	state    string // modelNone, modelLoading, modelDownloading, modelReady, modelFailed
	status   string
	progress protocol.Progress
	loadID   int

	waiting []*embedJob       // images that arrived before the model was ready
	running map[int]*embedJob // worker request id → job
	last    *entry            // the image shown
	lastRes []rank.Prediction // its ranked classes
	dragOn  bool

	ctx      app.Context // the component's context, for window listeners
	pinned   string      // the host page's origin, once pinned
	expected string      // what the browser says it should be ("" unknown)
	release  []func()
}

// OnMount reads the settings, starts the worker, listens to the host page
// and to the page's size, and loads the model.
func (e *Embed) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	e.ctx = ctx
	e.params = ParseEmbedParams(ctx.Page().URL().Query())
	e.running = map[int]*embedJob{}
	e.state = modelNone
	e.status = "Loading…"
	doc := app.Window().Get("document")
	ancestor := ""
	if ao := app.Window().Get("location").Get("ancestorOrigins"); ao.Truthy() && ao.Length() > 0 {
		ancestor = ao.Index(0).String()
	}
	e.expected = ExpectedHostOrigin(ancestor, doc.Get("referrer").String())
	e.release = append(e.release, app.Window().AddEventListener("message", e.onHostMessage))
	e.watchSize(ctx)
	e.worker = startWorker(ctx, e.onReply)
	e.fetchIndex(ctx)
	// Say hello to the host page; the reply (init) pins its origin. The
	// hello carries nothing, so when the expected origin is unknown it may
	// go to any origin.
	target := e.expected
	if target == "" {
		target = "*"
	}
	e.postToHost(EmbedReady, nil, target)
}

// OnDismount stops the worker and the listeners.
func (e *Embed) OnDismount() {
	for _, f := range e.release {
		f()
	}
	e.worker.stop()
}

// hasHost reports whether the page is framed (it also works on its own).
func hasHost() bool {
	return !app.Window().Get("parent").Equal(app.Window().JSValue())
}

// postToHost sends a message to the parent page; detail (may be nil) goes
// as JSON text. targetOrigin is the pinned origin except for the hello.
func (e *Embed) postToHost(kind string, detail any, targetOrigin string) {
	if !hasHost() || targetOrigin == "" {
		return
	}
	msg := map[string]any{EmbedField: kind}
	if detail != nil {
		b, _ := json.Marshal(detail)
		msg["detail"] = string(b)
	}
	app.Window().Get("parent").Call("postMessage", msg, targetOrigin)
}

// send posts to the pinned host; nothing goes out before the init.
func (e *Embed) send(kind string, detail any) {
	e.postToHost(kind, detail, e.pinned)
}

// onHostMessage takes the host page's init and classify messages; any
// other message, or one from another window or origin, is ignored.
func (e *Embed) onHostMessage(_ app.Context, ev app.Event) {
	e.ctx.Dispatch(func(ctx app.Context) { e.hostMessage(ctx, ev) })
}

func (e *Embed) hostMessage(ctx app.Context, ev app.Event) {
	data := ev.Get("data")
	if data.Type() != app.TypeObject || data.Get(EmbedField).Type() != app.TypeString {
		return
	}
	kind := data.Get(EmbedField).String()
	fromParent := hasHost() && ev.Get("source").Equal(app.Window().Get("parent"))
	pinned, ok := AcceptHostMessage(kind, ev.Get("origin").String(), fromParent, e.pinned, e.expected)
	if !ok {
		app.Log("vggo embed: ignored a", kind, "message from", ev.Get("origin").String())
		return
	}
	first := e.pinned == ""
	e.pinned = pinned
	switch kind {
	case EmbedInit:
		if first {
			e.sendSize()
			switch e.state {
			case modelReady:
				e.send(EmbedLoadedEv, EmbedLoaded{Model: e.loaded.Name, Labels: e.loaded.Classes})
			case modelFailed:
				e.send(EmbedErrorEv, EmbedError{Model: e.params.Model, Message: e.status})
			}
		}
	case EmbedClassify:
		blob := data.Get("blob")
		id := 0
		if v := data.Get("id"); v.Type() == app.TypeNumber {
			id = v.Int()
		}
		name := "image"
		if v := data.Get("name"); v.Type() == app.TypeString && v.String() != "" {
			name = v.String()
		}
		if !blob.Truthy() || !blob.InstanceOf(app.Window().Get("Blob")) {
			e.send(EmbedErrorEv, EmbedError{ID: id, Name: name, Model: e.model.Name, Message: name + ": classify() needs a Blob, a File or an image URL"})
			return
		}
		e.submit(ctx, &embedJob{hostID: id, name: name, blob: blob})
	}
}

// watchSize reports the page's height to the host whenever it changes, so
// the iframe fits its content.
func (e *Embed) watchSize(ctx app.Context) {
	ro := app.Window().Get("ResizeObserver")
	if !ro.Truthy() {
		return
	}
	f := app.FuncOf(func(this app.Value, args []app.Value) any {
		e.sendSize()
		return nil
	})
	obs := ro.New(f)
	target := app.Window().Get("document").Call("querySelector", ".embed")
	if !target.Truthy() {
		target = app.Window().Get("document").Get("body")
	}
	obs.Call("observe", target)
	e.release = append(e.release, func() { obs.Call("disconnect"); f.Release() })
}

func (e *Embed) sendSize() {
	if e.pinned == "" || !hasHost() {
		return
	}
	body := app.Window().Get("document").Get("body")
	h := body.Get("scrollHeight").Int()
	if root := app.Window().Get("document").Call("querySelector", ".embed"); root.Truthy() {
		h = int(root.Call("getBoundingClientRect").Get("height").Float()+0.999) + 2
	}
	app.Window().Get("parent").Call("postMessage", map[string]any{EmbedField: EmbedSize, "height": h}, e.pinned)
}

// fetchIndex loads /models (offline: the copy the app saved last time) and
// the requested model.
func (e *Embed) fetchIndex(ctx app.Context) {
	fetchModelIndex(ctx, e.useIndex, func(ctx app.Context, why string) {
		e.fail("cannot get the model list (" + why + ")")
	})
}

func (e *Embed) useIndex(ctx app.Context, data []byte, fresh bool) {
	models, _, err := protocol.ParseIndex(data)
	if err != nil {
		e.fail(err.Error())
		return
	}
	if fresh {
		ctx.LocalStorage().Set(storedIndexKey, string(data))
	}
	var found bool
	for _, m := range models {
		if e.params.Model == "" || m.Name == e.params.Model {
			e.model, found = m, true
			break
		}
	}
	if !found {
		if e.params.Model == "" {
			e.fail("the server lists no usable model")
		} else {
			e.fail(fmt.Sprintf("no model named %q on this server", e.params.Model))
		}
		return
	}
	e.state = modelLoading
	e.status = "Loading " + e.model.Name + "…"
	e.progress = protocol.Progress{Name: e.model.Name, Total: e.model.Bytes}
	e.loadID = e.worker.send(protocol.KindLoad, protocol.LoadRequest{
		Name: e.model.Name, URL: e.model.Href(), SHA256: e.model.SHA256, Bytes: e.model.Bytes,
	}, nil)
}

// fail marks the model unusable, tells the host (a vggo-error with id 0;
// sent on init if the host is not known yet) and fails every waiting image.
func (e *Embed) fail(msg string) {
	e.state = modelFailed
	e.status = msg
	e.send(EmbedErrorEv, EmbedError{Model: e.params.Model, Message: msg})
	for _, j := range e.waiting {
		e.send(EmbedErrorEv, EmbedError{ID: j.hostID, Name: j.name, Model: e.params.Model, Message: msg})
	}
	e.waiting = nil
}

// submit checks an image and sends it to the worker, or keeps it until the
// model is ready.
func (e *Embed) submit(ctx app.Context, j *embedJob) {
	j.started = time.Now()
	shown := &entry{Name: j.name}
	e.last, e.lastRes = shown, nil
	if err := imagefile.Check(j.name, int64(j.blob.Get("size").Float()), j.blob.Get("type").String()); err != nil {
		e.reject(j, shown, err.Error())
		return
	}
	if e.state == modelFailed {
		e.reject(j, shown, e.status)
		return
	}
	shown.ImageURL = app.Window().Get("URL").Call("createObjectURL", j.blob).String()
	if e.state != modelReady {
		e.waiting = append(e.waiting, j)
		return
	}
	e.start(j)
}

func (e *Embed) reject(j *embedJob, shown *entry, msg string) {
	shown.Err = msg
	e.send(EmbedErrorEv, EmbedError{ID: j.hostID, Name: j.name, Model: e.model.Name, Message: msg})
}

func (e *Embed) start(j *embedJob) {
	id := e.worker.send(protocol.KindClassify, protocol.ClassifyRequest{Name: j.name, Size: int64(j.blob.Get("size").Float())}, j.blob)
	e.running[id] = j
	e.last.ID = id
}

// onReply handles the worker's messages.
func (e *Embed) onReply(ctx app.Context, r workerReply) {
	switch r.Kind {
	case protocol.KindProgress:
		if r.ID == e.loadID {
			r.decode(&e.progress)
			e.state = modelDownloading
			e.status = fmt.Sprintf("Downloading %s… %.0f %%", e.model.Name, e.progress.Percent())
		}
	case protocol.KindLoaded:
		if r.ID != e.loadID {
			return
		}
		r.decode(&e.loaded)
		e.state = modelReady
		e.status = fmt.Sprintf("%s ready: drop an image or choose one.", e.loaded.Name)
		e.send(EmbedLoadedEv, EmbedLoaded{Model: e.loaded.Name, Labels: e.loaded.Classes})
		for _, j := range e.waiting {
			e.start(j)
		}
		e.waiting = nil
	case protocol.KindResult:
		j := e.running[r.ID]
		delete(e.running, r.ID)
		var res protocol.Result
		if err := r.decode(&res); err != nil || j == nil {
			return
		}
		ranked := rank.TopK(res.Probs, e.loaded.Classes, len(res.Probs))
		if e.last != nil && e.last.ID == r.ID {
			e.last.Result = &res
			e.lastRes = ranked
		}
		e.send(EmbedResultEv, EmbedResult{
			ID: j.hostID, Name: j.name, Model: res.Model, Classes: ranked, Probs: res.Probs,
			Timing: EmbedTiming{DecodeMillis: res.DecodeMillis, ForwardMillis: res.ForwardMillis,
				TotalMillis: float64(time.Since(j.started).Microseconds()) / 1000},
		})
	case protocol.KindError:
		var er protocol.ErrorReply
		r.decode(&er)
		if j := e.running[r.ID]; j != nil {
			delete(e.running, r.ID)
			if e.last != nil && e.last.ID == r.ID {
				e.last.Err = er.Message
			}
			e.send(EmbedErrorEv, EmbedError{ID: j.hostID, Name: j.name, Model: e.model.Name, Message: er.Message})
			return
		}
		if r.ID == e.loadID || r.ID == 0 {
			e.fail(er.Message)
		}
	}
}

func (e *Embed) onFiles(ctx app.Context, ev app.Event) {
	input := ev.Get("target")
	files := input.Get("files")
	for i := 0; i < files.Length(); i++ {
		f := files.Index(i)
		e.submit(ctx, &embedJob{name: f.Get("name").String(), blob: f})
	}
	input.Set("value", "")
}

func (e *Embed) onDragOver(ctx app.Context, ev app.Event) {
	ev.PreventDefault()
	e.dragOn = true
}

func (e *Embed) onDragLeave(ctx app.Context, ev app.Event) { e.dragOn = false }

func (e *Embed) onDrop(ctx app.Context, ev app.Event) {
	ev.PreventDefault()
	e.dragOn = false
	files := ev.Get("dataTransfer").Get("files")
	for i := 0; i < files.Length(); i++ {
		f := files.Index(i)
		e.submit(ctx, &embedJob{name: f.Get("name").String(), blob: f})
	}
}

// Render draws the compact widget: status, drop zone with file picker, and
// the last image with its top classes.
func (e *Embed) Render() app.UI {
	zone := "dropzone embed-drop"
	if e.dragOn {
		zone += " over"
	}
	return app.Div().Class("embed theme-"+e.params.Theme).DataSet("state", e.state).Body(
		app.Div().ID("embed-drop").Class(zone).
			OnDragOver(e.onDragOver).OnDragLeave(e.onDragLeave).OnDrop(e.onDrop).
			Body(
				app.Input().ID("file-input").Type("file").Accept("image/*").
					Class("visually-hidden").OnChange(e.onFiles),
				app.Label().For("file-input").Class("button").Text("Choose an image…"),
				app.P().ID("model-status").Class("status note").DataSet("state", e.state).
					Aria("live", "polite").Role("status").Text(e.status),
			),
		e.renderLast(),
	)
}

func (e *Embed) renderLast() app.UI {
	if e.last == nil {
		return app.Text("")
	}
	l := e.last
	art := app.Article().ID("embed-result").Class("result embed-result "+l.state()).DataSet("state", l.state()).DataSet("name", l.Name)
	var body []app.UI
	if l.ImageURL != "" && l.state() != "error" {
		body = append(body, app.Img().Class("embed-thumb").Src(l.ImageURL).Alt(l.Name))
	}
	switch l.state() {
	case "pending":
		body = append(body, app.P().Class("note").Body(app.Span().Class("spinner small"), app.Text(" Classifying "+l.Name+"…")))
	case "error":
		body = append(body, app.P().Class("result-error error").Role("alert").Text(l.Err))
	case "done":
		shown := e.lastRes
		if len(shown) > e.params.Top {
			shown = shown[:e.params.Top]
		}
		if len(shown) > 0 {
			art = art.DataSet("class", shown[0].Class)
		}
		body = append(body, app.Ol().Class("top5").Aria("label", "Top classes").Body(
			app.Range(shown).Slice(func(i int) app.UI {
				p := shown[i]
				return app.Li().Body(
					app.Span().Class("cls").Text(p.Class),
					app.Meter().Class("bar").Min(0).Max(1).Value(fmt.Sprintf("%.4f", p.Prob)).Aria("hidden", true),
					app.Span().Class("pct").Text(fmt.Sprintf("%.1f %%", 100*float64(p.Prob))),
				)
			}),
		))
	}
	return art.Body(body...)
}
