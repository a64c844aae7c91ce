package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/model/rank"
	"vggo/wasm/protocol"
)

// embedJob is one image on its way through the widget.
type embedJob struct {
	hostID  int // the host's classify() id, 0 for the visitor's own file
	name    string
	blob    app.Value
	started time.Time
	shown   *entry // the entry the frame shows for it
}

// Embed is the widget's page (EmbedPath). The host page side of it (the
// messages and their origin rules) is in embedhost.go, the view in
// embedview.go.
type Embed struct {
	app.Compo

	params  EmbedParams
	session modelSession

	waiting []*embedJob       // images that arrived before the model was ready
	running map[int]*embedJob // worker request id → job
	images  requestThrottle   // a host calling classify() a thousand times must not overflow the worker's queue
	last    *entry            // the image shown
	lastRes []rank.Prediction // its ranked classes
	drop    dropZone

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
	e.drop.take = e.submitFiles
	doc := app.Window().Get("document")
	ancestor := ""
	if ao := app.Window().Get("location").Get("ancestorOrigins"); ao.Truthy() && ao.Length() > 0 {
		ancestor = ao.Index(0).String()
	}
	e.expected = ExpectedHostOrigin(ancestor, doc.Get("referrer").String())
	e.release = append(e.release, app.Window().AddEventListener("message", e.onHostMessage))
	e.watchSize(ctx)
	e.session.start(ctx, e.onReply)
	e.session.ready = e.modelReady
	e.session.failed = e.modelFailed
	e.session.fetchIndex(ctx, e.useIndex)
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
	e.session.stop()
}

// useIndex loads the model the host page named (else the first one).
func (e *Embed) useIndex(ctx app.Context, models, _ []protocol.ModelEntry, _ bool) {
	for _, m := range models {
		if e.params.Model == "" || m.Name == e.params.Model {
			e.session.load(m)
			return
		}
	}
	e.session.fail(UnknownModelMessage(e.params.Model, models))
}

// UnknownModelMessage says that the server has no model of the name a
// host page asked for, and lists the names it does have, so a page author
// can fix the model attribute.
func UnknownModelMessage(name string, models []protocol.ModelEntry) string {
	if len(models) == 0 {
		return "the server lists no usable model"
	}
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = strconv.Quote(m.Name)
	}
	return fmt.Sprintf("no model named %q on this server; its models are %s", name, strings.Join(names, ", "))
}

// modelReady tells the host and classifies the images that waited.
func (e *Embed) modelReady() {
	e.send(EmbedLoadedEv, EmbedLoaded{Model: e.session.loaded.Name, Labels: e.session.loaded.Classes})
	for _, j := range e.waiting {
		e.start(j)
	}
	e.waiting = nil
}

// modelFailed tells the host (a vggo-error with id 0; sent on init if the
// host is not known yet) and fails every waiting image.
func (e *Embed) modelFailed(msg string) {
	e.send(EmbedErrorEv, EmbedError{Model: e.params.Model, Message: msg})
	for _, j := range e.waiting {
		e.send(EmbedErrorEv, EmbedError{ID: j.hostID, Name: j.name, Model: e.params.Model, Message: msg})
	}
	e.waiting = nil
}

// submitFiles takes the visitor's own files (picked or dropped).
func (e *Embed) submitFiles(_ app.Context, files app.Value) {
	for i := 0; i < files.Length(); i++ {
		f := files.Index(i)
		e.submit(&embedJob{name: f.Get("name").String(), blob: f})
	}
}

// submit checks an image and sends it to the worker, or keeps it until the
// model is ready.
func (e *Embed) submit(j *embedJob) {
	j.started = time.Now()
	shown := &entry{Name: j.name}
	j.shown = shown
	e.last, e.lastRes = shown, nil
	if err := checkImage(j.blob, j.name); err != nil {
		e.reject(j, shown, err.Error())
		return
	}
	if e.session.state == modelFailed {
		e.reject(j, shown, e.session.failure)
		return
	}
	shown.ImageURL = objectURL(j.blob)
	if e.session.state != modelReady {
		e.waiting = append(e.waiting, j)
		return
	}
	e.start(j)
}

func (e *Embed) reject(j *embedJob, shown *entry, msg string) {
	shown.Err = msg
	e.send(EmbedErrorEv, EmbedError{ID: j.hostID, Name: j.name, Model: e.session.entry.Name, Message: msg})
}

func (e *Embed) start(j *embedJob) {
	e.images.throttle(func() {
		id := e.session.classify(j.blob, j.name)
		e.running[id] = j
		j.shown.ID = id
	})
}

// onReply handles the worker's messages.
func (e *Embed) onReply(ctx app.Context, r workerReply) {
	if e.session.update(r) {
		return
	}
	j := e.running[r.ID]
	if j == nil {
		return
	}
	if r.Kind == protocol.KindResult || r.Kind == protocol.KindError {
		delete(e.running, r.ID)
		e.images.answered()
	}
	switch r.Kind {
	case protocol.KindResult:
		var res protocol.Result
		if err := r.decode(&res); err != nil {
			return
		}
		ranked := rank.TopK(res.Probs, e.session.loaded.Classes, len(res.Probs))
		if e.last != nil && e.last.ID == r.ID {
			e.last.Result = &res
			e.lastRes = ranked
		}
		e.send(EmbedResultEv, EmbedResult{
			ID: j.hostID, Name: j.name, Model: res.Model, Classes: ranked, Probs: res.Probs, OOD: res.OOD,
			Timing: EmbedTiming{DecodeMillis: res.DecodeMillis, ForwardMillis: res.ForwardMillis,
				TotalMillis: float64(time.Since(j.started).Microseconds()) / 1000},
		})
	case protocol.KindError:
		var er protocol.ErrorReply
		r.decode(&er)
		if e.last != nil && e.last.ID == r.ID {
			e.last.Err = er.Message
		}
		e.send(EmbedErrorEv, EmbedError{ID: j.hostID, Name: j.name, Model: e.session.entry.Name, Message: er.Message})
	}
}
