package ui

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/protocol"
)

// GallerySize is how many recent results the page keeps.
const GallerySize = 12

// entry is one image in the gallery: pending, classified or failed.
type entry struct {
	ID       int // worker request id
	Name     string
	ImageURL string // blob: URL of the file, revoked when the entry leaves the gallery
	Result   *protocol.Result
	Err      string

	// InputURL is a blob: URL of the picture the network saw (InputSize
	// pixels square), revoked with ImageURL.
	InputURL  string
	InputSize int
}

// release frees the entry's blob: URLs.
func (e *entry) release() {
	revokeObjectURL(e.ImageURL)
	revokeObjectURL(e.InputURL)
}

// showsThumbnail says whether the entry's card (the app's or the widget's)
// shows the picture: only with the result. A file that failed to decode
// then shows no broken-image icon, and the page's own decode of a large
// photo does not compete with the worker's for the CPU.
func (e *entry) showsThumbnail() bool { return e.ImageURL != "" && e.state() == "done" }

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

	session   modelSession
	models    []protocol.ModelEntry
	broken    []protocol.ModelEntry
	indexNote string // e.g. "offline: using the saved model list"

	gallery []*entry // newest first
	notice  string   // intake errors that belong to no image

	// Images go to the worker a few at a time (a drop of hundreds of files
	// would overflow its queue); sent holds the ids of those with the
	// worker, classified and total count the answered and accepted ones.
	images            requestThrottle
	sent              map[int]bool
	classified, total int

	drop        dropZone
	live        liveCamera
	removePaste func()
}

// OnMount starts the worker, fetches the model index and listens for pastes.
func (c *Classifier) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	c.session.start(ctx, c.onReply)
	c.drop.take = c.classifyFiles
	c.session.fetchIndex(ctx, c.useIndex)
	c.removePaste = app.Window().AddEventListener("paste", c.onPaste)
}

// OnDismount stops the worker and the camera.
func (c *Classifier) OnDismount() {
	if c.removePaste != nil {
		c.removePaste()
	}
	c.live.stop()
	c.session.stop()
}

// useIndex takes the model index and loads the model the user picked last
// time (else the first one).
func (c *Classifier) useIndex(ctx app.Context, models, broken []protocol.ModelEntry, fresh bool) {
	if !fresh {
		c.indexNote = "Offline: using the model list saved on your last visit."
	}
	c.models, c.broken = models, broken
	if len(models) == 0 {
		c.session.fail("The server lists no usable model.")
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

// loadModel asks the worker to make the model ready and remembers the choice.
func (c *Classifier) loadModel(ctx app.Context, sha string) {
	m, ok := c.model(sha)
	if !ok {
		return
	}
	ctx.LocalStorage().Set(storedModelKey, sha)
	c.session.load(m)
}

func (c *Classifier) onPickModel(ctx app.Context, e app.Event) {
	c.loadModel(ctx, ctx.JSSrc().Get("value").String())
}

// status is the model status line.
func (c *Classifier) status() string {
	s := &c.session
	switch s.state {
	case modelDownloading:
		return "Downloading " + s.progress.Name + "…"
	case modelReady:
		from := "downloaded and verified"
		if s.loaded.FromCache {
			from = "from the offline cache, verified"
		}
		return fmt.Sprintf("%s ready (%s, %s; %d classes, %d×%d input, prepared in %.0f ms).",
			s.loaded.Name, protocol.HumanBytes(s.loaded.Bytes), from, len(s.loaded.Classes),
			s.loaded.InputSize, s.loaded.InputSize, s.loaded.LoadMillis)
	}
	return s.status("Fetching the model list…")
}

// onReply updates the page from a worker message.
func (c *Classifier) onReply(ctx app.Context, r workerReply) {
	if (r.Kind == protocol.KindResult || r.Kind == protocol.KindError) && c.sent[r.ID] {
		delete(c.sent, r.ID)
		c.classified++
		c.images.answered()
	}
	if c.session.update(r) || c.liveReply(ctx, r) {
		return
	}
	switch r.Kind {
	case protocol.KindResult:
		if e := c.entry(r.ID); e != nil {
			var res protocol.Result
			if err := r.decode(&res); err != nil {
				e.Err = "bad reply from the worker: " + err.Error()
			} else {
				e.Result = &res
				e.InputURL, e.InputSize = bytesURL(res.Input, "image/png"), c.session.loaded.InputSize
			}
			if e == c.gallery[0] {
				// The card has grown to its full size: all of it in view.
				ctx.Defer(func(app.Context) { scrollIntoView("#results > li") })
			}
		}
	case protocol.KindError:
		var er protocol.ErrorReply
		r.decode(&er)
		if e := c.entry(r.ID); e != nil {
			e.Err = er.Message
		} else {
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
func (c *Classifier) classifyFiles(ctx app.Context, files app.Value) {
	n := files.Length()
	if n == 0 {
		return
	}
	c.notice = ""
	for i := 0; i < n; i++ {
		c.classifyBlob(ctx, files.Index(i), "")
	}
}

// classifyBlob adds a gallery entry for one File or Blob and sends it to the
// worker. Files that are no image, or too large, are refused here, before
// any copy. The newest entry comes first, and the page scrolls to it: it
// may be below the fold (a sample clicked, a photo picked at the top).
func (c *Classifier) classifyBlob(ctx app.Context, blob app.Value, name string) {
	if name == "" {
		name = blob.Get("name").String()
	}
	e := &entry{Name: name}
	if err := checkImage(blob, name); err != nil {
		e.Err = err.Error()
	} else {
		e.ImageURL = objectURL(blob)
		c.total++
		c.images.throttle(func() {
			e.ID = c.session.classify(blob, name)
			if c.sent == nil {
				c.sent = map[int]bool{}
			}
			c.sent[e.ID] = true
		})
	}
	c.gallery = append([]*entry{e}, c.gallery...)
	for len(c.gallery) > GallerySize {
		c.gallery[len(c.gallery)-1].release()
		c.gallery = c.gallery[:len(c.gallery)-1]
	}
	// The results heading goes to the top of the window: the new card,
	// first below it, is then in view whatever size it grows to.
	ctx.Defer(func(app.Context) { scrollToTop("#results-heading") })
}

// scrollIntoView scrolls the element matching selector into view, no
// further than needed.
func scrollIntoView(selector string) {
	if el := app.Window().Get("document").Call("querySelector", selector); el.Truthy() {
		el.Call("scrollIntoView", map[string]any{"block": "nearest"})
	}
}

// scrollToTop scrolls the page so that the element matching selector is at
// the top of the window, if it is not in the upper part already.
func scrollToTop(selector string) {
	el := app.Window().Get("document").Call("querySelector", selector)
	if !el.Truthy() {
		return
	}
	top := el.Call("getBoundingClientRect").Get("top").Float()
	if top < 0 || top > app.Window().Get("innerHeight").Float()/4 {
		el.Call("scrollIntoView", map[string]any{"block": "start"})
	}
}

func (c *Classifier) onPaste(ctx app.Context, e app.Event) {
	files := e.Get("clipboardData").Get("files")
	if files.Length() == 0 {
		return
	}
	e.PreventDefault()
	c.classifyFiles(ctx, files)
}

func (c *Classifier) busy() bool {
	for _, e := range c.gallery {
		if e.state() == "pending" {
			return true
		}
	}
	return c.session.busy()
}
