package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/model/headtrain/headspec"
	"vggo/wasm/protocol"
)

// TeachPath is the page that teaches a new classifier in the browser.
const TeachPath = "/teach"

// teachImage is one picture of a class: its file (a Blob, kept in
// IndexedDB), a thumbnail URL, and its features once computed.
type teachImage struct {
	ID       string
	Name     string
	Blob     app.Value
	URL      string    // blob: URL of the thumbnail, made when first shown (thumb)
	Features []float32 // pooled base features (or the last conv layer's input), for FeatBase
	FeatBase string    // the base they came from and which features (featureKey)
	Err      string    // why it cannot be used (shown on its thumbnail)
}

// thumb is the image's thumbnail URL, made on first use: a blob: URL costs
// a round trip to the browser's blob registry (about 2 ms), too much to
// make for a thousand images at once when a class shows 100.
func (im *teachImage) thumb() string {
	if im.URL == "" {
		im.URL = objectURL(im.Blob)
	}
	return im.URL
}

// teachClass is one class: its name and images.
type teachClass struct {
	ID      string
	Name    string
	Order   int
	Images  []*teachImage
	Notice  string // the last problem adding images to it
	ShowAll bool   // show every thumbnail, not only the first teachThumbs
}

// tryResult is one image classified with the trained model.
type tryResult struct {
	ID    int
	Name  string
	URL   string
	Class string
	Prob  float32
	Err   string
}

// Training phases.
const (
	teachIdle     = "idle"
	teachFeatures = "features" // computing the features of new images
	teachTraining = "training"
	teachDone     = "done"
	teachFailed   = "error"
)

// Teach is the teach page: classes and their images, training a head on
// the base model's features in the worker, evaluation, trying the model,
// saving, exporting and importing it.
type Teach struct {
	app.Compo

	// base is the worker with the base model: its conv layers make the
	// features, and once trained it classifies with the taught model.
	base    modelSession
	models  []protocol.ModelEntry
	store   *teachStore
	storeOK bool
	notice  string // page-wide problems (storage, worker)

	classes []*teachClass
	nextID  int

	phase       string
	featIDs     map[int]*teachImage // feature requests in flight
	featDone    int
	featTotal   int
	trainID     int
	epochs      []protocol.TeachEpoch // the current phase's epochs
	lastEpoch   protocol.TeachEpoch
	result      *protocol.TeachTrained
	evaluated   *protocol.TeachEvaluated
	saved       *protocol.TeachSaved
	exportURL   string
	clickedAt   float64 // performance.now() at the Train click
	usableAfter float64 // ms from the click to a usable model
	featuresMs  float64 // ms from the click to the last feature
	workerMs    float64 // of which the worker spent computing them (decode, preprocess, conv base)
	trainErr    string
	importID    int
	tries       []*tryResult

	// Image requests (features, try it) wait here and go to the worker a
	// few at a time: its message queue is bounded, and a thousand images
	// at once must not overflow it.
	requestThrottle

	drops map[string]*dropZone
	cam   teachCamera

	// Settings (the page's "Settings" box): epochs of the run, and whether
	// the base's last conv layer trains with the head.
	epochsSetting int
	tuneConv      bool
}

// OnMount starts the worker, fetches the model index and restores the
// stored classes and images.
func (t *Teach) OnMount(ctx app.Context) {
	if app.IsServer {
		return
	}
	t.phase = teachIdle
	t.epochsSetting = headspec.Default().Epochs
	// One worker with the whole float32 base, which the features, the head
	// on top of it and the exported file all need (a pool splits the base,
	// saving memory packs it).
	t.base.wholeBase = true
	t.base.start(ctx, t.onBaseReply)
	t.base.fetchIndex(ctx, t.useIndex)
	openTeachStore(ctx, func(ctx app.Context, s *teachStore) {
		t.store, t.storeOK = s, true
		t.restore(ctx)
	}, func(ctx app.Context, msg string) {
		t.notice = msg
		t.defaultClasses(ctx)
	})
}

// OnDismount stops the workers and frees the thumbnails.
func (t *Teach) OnDismount() {
	t.closeCamera()
	t.base.stop()
	for _, c := range t.classes {
		for _, im := range c.Images {
			revokeObjectURL(im.URL)
		}
	}
	revokeObjectURL(t.exportURL)
}

// useIndex picks the base: the model picked last on any page, else the
// first the server lists. Models made here are bases too (same conv layers).
func (t *Teach) useIndex(ctx app.Context, models, broken []protocol.ModelEntry, fresh bool) {
	t.models = models
	if len(models) == 0 {
		t.base.fail("The server lists no model to use as a base.")
		return
	}
	var want string
	ctx.LocalStorage().Get(storedModelKey, &want)
	pick := models[0]
	for _, m := range models {
		if m.SHA256 == want && !strings.HasPrefix(m.URL, protocol.LocalModelPrefix) {
			pick = m
		}
	}
	t.base.load(pick)
}

func (t *Teach) onPickBase(ctx app.Context, e app.Event) {
	sha := ctx.JSSrc().Get("value").String()
	for _, m := range t.models {
		if m.SHA256 == sha {
			t.base.load(m)
		}
	}
}

func (t *Teach) newID() string {
	t.nextID++
	return fmt.Sprintf("%x-%d", time.Now().UnixNano(), t.nextID)
}

// restore reads the stored classes and images (two empty classes the
// first time).
func (t *Teach) restore(ctx app.Context) {
	t.store.getAll(ctx, teachClassesStore, func(ctx app.Context, classes app.Value) {
		byID := map[string]*teachClass{}
		for i := 0; i < classes.Length(); i++ {
			v := classes.Index(i)
			c := &teachClass{ID: v.Get("id").String(), Name: v.Get("name").String(), Order: v.Get("order").Int()}
			t.classes = append(t.classes, c)
			byID[c.ID] = c
		}
		sortClasses(t.classes)
		if len(t.classes) == 0 {
			t.defaultClasses(ctx)
			return
		}
		t.store.getAll(ctx, teachImagesStore, func(ctx app.Context, images app.Value) {
			for i := 0; i < images.Length(); i++ {
				v := images.Index(i)
				c := byID[v.Get("classId").String()]
				if c == nil {
					continue
				}
				blob := v.Get("blob")
				c.Images = append(c.Images, &teachImage{ID: v.Get("id").String(), Name: v.Get("name").String(), Blob: blob})
			}
			for _, c := range t.classes {
				sortImages(c.Images)
			}
		})
	})
}

func sortClasses(cs []*teachClass) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Order < cs[j-1].Order; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func sortImages(ims []*teachImage) {
	for i := 1; i < len(ims); i++ {
		for j := i; j > 0 && ims[j].ID < ims[j-1].ID; j-- {
			ims[j], ims[j-1] = ims[j-1], ims[j]
		}
	}
}

func (t *Teach) defaultClasses(ctx app.Context) {
	if len(t.classes) == 0 {
		t.addClass(ctx, "Class 1")
		t.addClass(ctx, "Class 2")
	}
}

func (t *Teach) addClass(ctx app.Context, name string) {
	order := 0
	for _, c := range t.classes {
		order = max(order, c.Order+1)
	}
	c := &teachClass{ID: t.newID(), Name: name, Order: order}
	t.classes = append(t.classes, c)
	t.saveClass(ctx, c)
}

func (t *Teach) saveClass(ctx app.Context, c *teachClass) {
	t.store.write(ctx, teachClassesStore, func(os app.Value) {
		os.Call("put", map[string]any{"id": c.ID, "name": c.Name, "order": c.Order})
	}, t.storeDone)
}

// storeDone shows a storage failure (a full quota included).
func (t *Teach) storeDone(ctx app.Context, problem string) {
	if problem != "" {
		t.notice = "Not saved in the browser: " + problem + ". What you added stays on this page until it closes; delete images or other sites' data to make room."
	}
}

func (t *Teach) class(id string) *teachClass {
	for _, c := range t.classes {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (t *Teach) onAddClass(ctx app.Context, e app.Event) {
	t.addClass(ctx, fmt.Sprintf("Class %d", len(t.classes)+1))
}

func (t *Teach) onRename(id string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		if c := t.class(id); c != nil {
			c.Name = strings.TrimSpace(ctx.JSSrc().Get("value").String())
			t.saveClass(ctx, c)
		}
	}
}

func (t *Teach) onDeleteClass(id string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		c := t.class(id)
		if c == nil {
			return
		}
		if len(c.Images) > 0 && !app.Window().Call("confirm", fmt.Sprintf("Delete the class %q and its %d images?", c.Name, len(c.Images))).Bool() {
			return
		}
		kept := t.classes[:0]
		for _, x := range t.classes {
			if x != c {
				kept = append(kept, x)
			}
		}
		t.classes = kept
		t.store.write(ctx, teachClassesStore, func(os app.Value) { os.Call("delete", c.ID) }, t.storeDone)
		for _, im := range c.Images {
			t.deleteStoredImage(ctx, im)
		}
	}
}

func (t *Teach) deleteStoredImage(ctx app.Context, im *teachImage) {
	revokeObjectURL(im.URL)
	t.store.write(ctx, teachImagesStore, func(os app.Value) { os.Call("delete", im.ID) }, t.storeDone)
}

func (t *Teach) onDeleteImage(classID, imageID string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		c := t.class(classID)
		if c == nil {
			return
		}
		kept := c.Images[:0]
		for _, im := range c.Images {
			if im.ID == imageID {
				t.deleteStoredImage(ctx, im)
			} else {
				kept = append(kept, im)
			}
		}
		c.Images = kept
	}
}

// drop is the drop zone of a class (made on first use).
func (t *Teach) drop(classID string) *dropZone {
	if t.drops == nil {
		t.drops = map[string]*dropZone{}
	}
	d := t.drops[classID]
	if d == nil {
		d = &dropZone{take: func(ctx app.Context, files app.Value) { t.addFiles(ctx, classID, files) }}
		t.drops[classID] = d
	}
	return d
}

// addFiles adds a FileList (or array of Blobs) to a class: each image file
// is stored at once; anything else is named in the class's notice. It
// takes teachAddChunk files at a time and lets the page answer between
// chunks.
func (t *Teach) addFiles(ctx app.Context, classID string, files app.Value) {
	c := t.class(classID)
	if c == nil {
		return
	}
	list := make([]app.Value, files.Length()) // the input's FileList empties when it is reset
	for i := range list {
		list[i] = files.Index(i)
	}
	c.Notice = ""
	t.addChunk(ctx, c, list)
}

// teachAddChunk is how many files addFiles checks before the page answers
// events again: reading a picked file's size makes Chromium stat the file
// (about 2 ms), so a thousand files at once froze the page for seconds.
const teachAddChunk = 50

// addChunk adds the first teachAddChunk files to c, stores them in one
// transaction, and schedules the rest.
func (t *Teach) addChunk(ctx app.Context, c *teachClass, files []app.Value) {
	if t.class(c.ID) == nil { // deleted meanwhile
		return
	}
	n := min(len(files), teachAddChunk)
	var refused []string
	var added []*teachImage
	for _, blob := range files[:n] {
		name := blob.Get("name").String()
		if !blob.Get("name").Truthy() {
			name = fmt.Sprintf("pasted-%s.png", time.Now().Format("150405.000"))
		}
		if err := checkImage(blob, name); err != nil {
			refused = append(refused, err.Error())
			continue
		}
		im := &teachImage{ID: t.newID(), Name: name, Blob: blob}
		c.Images = append(c.Images, im)
		added = append(added, im)
	}
	// One transaction for the chunk: a thousand images make 20
	// completions (re-renders), not a thousand.
	if len(added) > 0 {
		t.store.write(ctx, teachImagesStore, func(os app.Value) {
			for _, im := range added {
				os.Call("put", map[string]any{"id": im.ID, "classId": c.ID, "name": im.Name, "blob": im.Blob})
			}
		}, t.storeDone)
	}
	if len(refused) > 0 {
		if c.Notice == "" {
			c.Notice = "Not added: " + strings.Join(refused, "; ")
		} else {
			c.Notice += "; " + strings.Join(refused, "; ")
		}
	}
	if rest := files[n:]; len(rest) > 0 {
		nextTask(ctx, func(ctx app.Context) { t.addChunk(ctx, c, rest) })
	}
}

// nextTask runs fn in a later task of the browser's event loop, so that
// the page answers input and paints first. (A Go timer does not do it: it
// is already due when the runtime idles after a long chunk, so Go runs on
// without returning to the browser.)
func nextTask(ctx app.Context, fn func(app.Context)) {
	var f app.Func
	f = app.FuncOf(func(this app.Value, args []app.Value) any {
		f.Release()
		ctx.Dispatch(fn)
		return nil
	})
	app.Window().Call("setTimeout", f, 0)
}

// onPaste adds pasted images to the class whose box has the focus.
func (t *Teach) onPaste(classID string) app.EventHandler {
	return func(ctx app.Context, e app.Event) {
		files := e.Get("clipboardData").Get("files")
		if files.Length() == 0 {
			return
		}
		e.PreventDefault()
		t.addFiles(ctx, classID, files)
	}
}

// problems lists what stops training, in the user's words.
func (t *Teach) problems() []string {
	var p []string
	if len(t.classes) < 2 {
		p = append(p, "A classifier needs at least two classes: add another.")
	}
	seen := map[string]bool{}
	for _, c := range t.classes {
		k := strings.ToLower(strings.TrimSpace(c.Name))
		switch {
		case k == "":
			p = append(p, "A class has no name.")
		case seen[k]:
			p = append(p, fmt.Sprintf("Two classes are named %q: give each its own name.", c.Name))
		}
		seen[k] = true
		switch n := len(c.usable()); {
		case n == 0:
			p = append(p, fmt.Sprintf("The class %q has no images.", c.Name))
		case n < 2:
			p = append(p, fmt.Sprintf("The class %q has only one image: add at least one more.", c.Name))
		}
	}
	if t.base.state != modelReady {
		p = append(p, "The base model is not ready yet.")
	}
	return p
}

// teachManyImages is the class size from which the page says that the
// first training will take a while.
const teachManyImages = 500

// teachImbalance is the ratio of the largest class to the smallest from
// which the page warns that the model will lean towards the large one.
const teachImbalance = 4

// notes lists what does not stop training but the user should know: a
// class with very many images, and classes of very different sizes.
func (t *Teach) notes() []string {
	var n []string
	var big, small *teachClass
	for _, c := range t.classes {
		k := len(c.Images)
		if k >= teachManyImages {
			n = append(n, fmt.Sprintf("The class %q has %d images: all are kept. The first training computes the features of each once (the progress bar shows how far), so it takes a while; later runs reuse them.", c.Name, k))
		}
		if big == nil || k > len(big.Images) {
			big = c
		}
		if small == nil || k < len(small.Images) {
			small = c
		}
	}
	if big != nil && len(small.Images) > 0 && len(big.Images) >= teachImbalance*len(small.Images) {
		n = append(n, fmt.Sprintf("The class %q has %d images, %q only %d: the model will lean towards %q. Classes of similar sizes work best.", big.Name, len(big.Images), small.Name, len(small.Images), big.Name))
	}
	return n
}

// usable are the class's images that have not failed.
func (c *teachClass) usable() []*teachImage {
	var out []*teachImage
	for _, im := range c.Images {
		if im.Err == "" {
			out = append(out, im)
		}
	}
	return out
}

// onTrain computes the features still missing, then trains.
func (t *Teach) onTrain(ctx app.Context, e app.Event) {
	if len(t.problems()) > 0 || t.phase == teachFeatures || t.phase == teachTraining {
		return
	}
	t.clickedAt = now()
	t.usableAfter, t.featuresMs, t.workerMs = 0, 0, 0
	t.result, t.evaluated, t.saved, t.trainErr, t.epochs, t.tries = nil, nil, nil, "", nil, nil
	t.phase = teachFeatures
	t.featIDs = map[int]*teachImage{}
	t.featDone, t.featTotal = 0, 0
	key, tune := t.featureKey(), t.tuneConv
	for _, c := range t.classes {
		for _, im := range c.usable() {
			if im.FeatBase == key && im.Features != nil {
				continue
			}
			t.featTotal++
			t.throttle(func() {
				id := t.base.worker.send(protocol.KindTeachFeatures, protocol.TeachFeaturesRequest{Name: im.Name, TuneConv: tune}, im.Blob)
				t.featIDs[id] = im
			})
		}
	}
	t.maybeTrain(ctx)
}

// featureKey names the features the current base and settings make: an
// image's cached features are reused only under the same key.
func (t *Teach) featureKey() string {
	key := t.base.loaded.Name + "/" + t.base.entry.SHA256
	if t.tuneConv {
		key += "/last-conv-input"
	}
	return key
}

// maybeTrain sends the training request once every feature is in.
func (t *Teach) maybeTrain(ctx app.Context) {
	if t.phase != teachFeatures || len(t.featIDs) > 0 || len(t.waiting) > 0 {
		return
	}
	t.featuresMs = now() - t.clickedAt
	if p := t.problems(); len(p) > 0 { // images that failed may have emptied a class
		t.phase, t.trainErr = teachFailed, strings.Join(p, " ")
		return
	}
	req := protocol.TeachTrainRequest{Settings: t.settings(), TuneConv: t.tuneConv, ModelName: t.modelName(), Description: "taught in the browser: " + strings.Join(t.classNames(), ", ")}
	for k, c := range t.classes {
		req.Classes = append(req.Classes, strings.TrimSpace(c.Name))
		for _, im := range c.usable() {
			req.Features = append(req.Features, im.Features)
			req.Labels = append(req.Labels, k)
		}
	}
	t.phase = teachTraining
	t.trainID = t.base.worker.send(protocol.KindTeachTrain, req, nil)
}

// settings is the run the page asks for: the default one with the
// page's epochs.
func (t *Teach) settings() headspec.Settings {
	s := headspec.Default()
	if t.epochsSetting > 0 {
		s.Epochs = t.epochsSetting
	}
	return s
}

// teachMaxEpochs bounds the Epochs setting.
const teachMaxEpochs = 1000

func (t *Teach) onEpochs(ctx app.Context, e app.Event) {
	n, err := strconv.Atoi(strings.TrimSpace(ctx.JSSrc().Get("value").String()))
	if err != nil || n < 1 {
		n = headspec.Default().Epochs
	}
	t.epochsSetting = min(n, teachMaxEpochs)
}

func (t *Teach) onTuneConv(ctx app.Context, e app.Event) {
	t.tuneConv = ctx.JSSrc().Get("checked").Bool()
}

func (t *Teach) classNames() []string {
	var n []string
	for _, c := range t.classes {
		n = append(n, strings.TrimSpace(c.Name))
	}
	return n
}

func (t *Teach) modelName() string {
	return strings.Join(t.classNames(), " vs ")
}

func (t *Teach) onStop(ctx app.Context, e app.Event) {
	if t.phase == teachTraining {
		t.base.worker.send(protocol.KindTeachStop, nil, nil)
	}
}

// onBaseReply handles the base worker's replies.
func (t *Teach) onBaseReply(ctx app.Context, r workerReply) {
	if t.base.update(r) {
		return
	}
	switch r.Kind {
	case protocol.KindTeachFeatures:
		if im := t.featIDs[r.ID]; im != nil {
			var f protocol.TeachFeatures
			if err := r.decode(&f); err != nil {
				im.Err = err.Error()
			} else {
				im.Features, im.FeatBase = f.Features, t.featureKey() // settings and base are locked while busy
				t.workerMs += f.Millis
			}
			delete(t.featIDs, r.ID)
			t.featDone++
			t.answered()
			t.maybeTrain(ctx)
		}
	case protocol.KindTeachEpoch:
		if r.ID == t.trainID {
			var ep protocol.TeachEpoch
			r.decode(&ep)
			if ep.Phase != t.lastEpoch.Phase {
				t.epochs = nil
			}
			t.epochs = append(t.epochs, ep)
			t.lastEpoch = ep
		}
	case protocol.KindTeachTrained:
		if r.ID == t.trainID {
			var res protocol.TeachTrained
			if err := r.decode(&res); err != nil {
				t.phase, t.trainErr = teachFailed, err.Error()
				return
			}
			t.result, t.phase = &res, teachDone
			t.usableAfter = now() - t.clickedAt
		}
	case protocol.KindTeachEvaluated:
		if r.ID == t.trainID {
			var ev protocol.TeachEvaluated
			r.decode(&ev)
			t.evaluated = &ev
		}
	case protocol.KindTeachSaved:
		if r.ID == t.trainID {
			var saved protocol.TeachSaved
			r.decode(&saved)
			t.saved = &saved
			revokeObjectURL(t.exportURL)
			t.exportURL = objectURL(app.Window().Get("Blob").New(app.Window().Get("Array").Call("of", r.Blob), map[string]any{"type": "application/octet-stream"}))
			if saved.SaveError == "" {
				saveLocalModelEntry(ctx, saved.Entry)
			}
		}
	case protocol.KindResult:
		if tr := t.tryResult(r.ID); tr != nil {
			var res protocol.Result
			if err := r.decode(&res); err != nil || len(res.Top) == 0 {
				tr.Err = "bad reply from the worker"
			} else {
				tr.Class, tr.Prob = res.Top[0].Class, res.Top[0].Prob
			}
			t.answered()
		}
	case protocol.KindTeachImported:
		if r.ID == t.importID {
			var res protocol.TeachImported
			r.decode(&res)
			saveLocalModelEntry(ctx, res.Entry)
			t.models = append(t.models, res.Entry)
			t.notice = fmt.Sprintf("Imported %s (%d classes: %s). It is in the model pickers now.", res.Entry.Name, len(res.Entry.Classes), strings.Join(res.Entry.Classes, ", "))
		}
	case protocol.KindError:
		var er protocol.ErrorReply
		r.decode(&er)
		switch {
		case t.featIDs[r.ID] != nil:
			t.featIDs[r.ID].Err = er.Message
			delete(t.featIDs, r.ID)
			t.featDone++
			t.answered()
			t.maybeTrain(ctx)
		case t.tryResult(r.ID) != nil:
			t.tryResult(r.ID).Err = er.Message
			t.answered()
		case r.ID == t.trainID:
			t.phase, t.trainErr = teachFailed, er.Message
		default:
			t.notice = er.Message
		}
	}
}

func (t *Teach) tryResult(id int) *tryResult {
	for _, tr := range t.tries {
		if tr.ID == id && id != 0 {
			return tr
		}
	}
	return nil
}

// now is performance.now() in milliseconds.
func now() float64 { return app.Window().Get("performance").Call("now").Float() }

// tryFiles classifies files with the trained model.
func (t *Teach) tryFiles(ctx app.Context, files app.Value) {
	for i := 0; i < files.Length(); i++ {
		blob := files.Index(i)
		name := blob.Get("name").String()
		tr := &tryResult{Name: name}
		if err := checkImage(blob, name); err != nil {
			tr.Err = err.Error()
		} else {
			tr.URL = objectURL(blob)
			t.throttle(func() { tr.ID = t.base.classify(blob, name) })
		}
		t.tries = append(t.tries, tr)
	}
}

func (t *Teach) onTryPick(ctx app.Context, e app.Event) {
	input := e.Get("target")
	t.tryFiles(ctx, input.Get("files"))
	input.Set("value", "")
}

func (t *Teach) onImportPick(ctx app.Context, e app.Event) {
	input := e.Get("target")
	files := input.Get("files")
	if files.Length() > 0 {
		f := files.Index(0)
		t.importID = t.base.worker.send(protocol.KindTeachImport, protocol.TeachImportRequest{Name: f.Get("name").String()}, f)
	}
	input.Set("value", "")
}

func (t *Teach) imageCount() int {
	n := 0
	for _, c := range t.classes {
		n += len(c.Images)
	}
	return n
}
