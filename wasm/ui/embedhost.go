package ui

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

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
	OOD     *protocol.OOD     `json:"ood"`     // null: the model cannot judge; flagged: unlike its training images
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
			switch e.session.state {
			case modelReady:
				e.send(EmbedLoadedEv, EmbedLoaded{Model: e.session.loaded.Name, Labels: e.session.loaded.Classes})
			case modelFailed:
				e.send(EmbedErrorEv, EmbedError{Model: e.params.Model, Message: e.session.failure})
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
			e.send(EmbedErrorEv, EmbedError{ID: id, Name: name, Model: e.session.entry.Name, Message: name + ": classify() needs a Blob, a File or an image URL"})
			return
		}
		e.submit(&embedJob{hostID: id, name: name, blob: blob})
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
