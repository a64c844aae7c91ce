package ui

import (
	"fmt"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/protocol"
)

// Render draws the teach page.
func (t *Teach) Render() app.UI {
	return app.Div().Class("page").Body(
		pageHeader(TeachPath),
		app.Main().ID("main").Body(
			app.H1().ID("headline").Text("Teach a new classifier, on your own device"),
			app.P().Class("lead").Text("Make classes, give each a few pictures, and train: a new head learns on top of the base model's VGG16 features, here in your browser. No picture leaves this page."),
			t.renderBase(),
			app.If(t.notice != "", app.P().ID("teach-notice").Class("error").Role("alert").Text(t.notice)),
			t.renderClasses(),
			t.renderTrain(),
			t.renderResult(),
			t.renderImport(),
		),
	)
}

func (t *Teach) renderBase() app.UI {
	s := &t.base
	status := s.status("Fetching the model list…")
	switch s.state {
	case modelDownloading:
		status = fmt.Sprintf("Downloading %s… %.0f %%", s.progress.Name, s.progress.Percent())
	case modelReady:
		status = fmt.Sprintf("Base: %s (%d×%d input). Its conv layers turn each picture into features; only the new head trains.", s.loaded.Name, s.loaded.InputSize, s.loaded.InputSize)
	}
	return app.Section().Class("panel").Aria("labelledby", "base-heading").Body(
		app.H2().ID("base-heading").Text("Base model"),
		app.Div().Class("row").Body(
			app.Label().For("teach-base-select").Text("Base"),
			app.Select().ID("teach-base-select").Disabled(len(t.models) == 0 || t.phase == teachTraining || t.phase == teachFeatures).
				OnChange(t.onPickBase).Body(
				app.Range(t.models).Slice(func(i int) app.UI {
					m := t.models[i]
					return app.Option().Value(m.SHA256).Selected(m.SHA256 == s.entry.SHA256).Text(m.Name)
				}),
			),
		),
		app.P().ID("teach-base-status").Class("status").DataSet("state", s.state).Role("status").Text(status),
	)
}

func (t *Teach) renderClasses() app.UI {
	return app.Section().Class("panel").Aria("labelledby", "classes-heading").Body(
		app.Div().Class("row").Body(
			app.H2().ID("classes-heading").Text("Classes"),
			app.Button().ID("add-class").Type("button").Class("button secondary").Text("Add a class").OnClick(t.onAddClass),
		),
		app.If(!t.storeOK && t.notice == "", app.P().Class("note").Text("Opening the browser's storage…")),
		app.Div().ID("teach-classes").Class("teach-classes").Body(
			app.Range(t.classes).Slice(func(i int) app.UI { return t.renderClass(i, t.classes[i]) }),
		),
	)
}

func (t *Teach) renderClass(i int, c *teachClass) app.UI {
	d := t.drop(c.ID)
	shown := c.Images
	if !c.ShowAll && len(shown) > teachThumbs {
		shown = shown[:teachThumbs]
	}
	inputID := "class-files-" + c.ID
	camID := "class-camera-" + c.ID
	return app.Section().Class(d.class("teach-class dropzone")).DataSet("class-index", i).DataSet("class-id", c.ID).
		Aria("label", "Class "+c.Name).
		OnDragOver(d.onDragOver).OnDragLeave(d.onDragLeave).OnDrop(d.onDrop).OnPaste(t.onPaste(c.ID)).
		Body(
			app.Div().Class("row").Body(
				app.Label().For("class-name-"+c.ID).Class("visually-hidden").Text("Class name"),
				app.Input().ID("class-name-"+c.ID).Class("class-name").Type("text").Value(c.Name).
					Attr("maxlength", 60).OnChange(t.onRename(c.ID)),
				app.Span().Class("count").DataSet("count", len(c.Images)).Text(fmt.Sprintf("%d images", len(c.Images))),
				app.Button().Type("button").Class("button secondary delete-class").Text("Delete class").OnClick(t.onDeleteClass(c.ID)),
			),
			app.P().Class("no-touch note").Text("Drop images here, paste (click here, then Ctrl+V), or:"),
			app.Div().Class("buttons").Body(
				app.Input().ID(inputID).Class("visually-hidden class-files").Type("file").Accept("image/*").Multiple(true).OnChange(d.onPick),
				app.Label().For(inputID).Class("button").Text("Choose images…"),
				app.Input().ID(camID).Class("visually-hidden class-camera").Type("file").Accept("image/*").Attr("capture", "environment").OnChange(d.onPick),
				app.Label().For(camID).Class("button secondary").Text("Camera photo"),
				app.Button().Type("button").Class("button secondary live-camera").Text("Live camera").
					Title("Record a burst of frames into this class").OnClick(t.onCamera(c.ID)),
			),
			t.renderCamera(c),
			app.If(c.Notice != "", app.P().Class("error class-notice").Role("alert").Text(c.Notice)),
			app.Ul().Class("thumbs").Body(
				app.Range(shown).Slice(func(j int) app.UI {
					im := shown[j]
					li := app.Li().Class("thumb-item").DataSet("name", im.Name)
					if im.Err != "" {
						return li.Class("error").Body(app.Span().Class("thumb-error").Title(im.Err).Text("⚠ "+im.Name+": "+im.Err),
							app.Button().Type("button").Class("delete-image").Aria("label", "Remove "+im.Name).Text("×").OnClick(t.onDeleteImage(c.ID, im.ID)))
					}
					return li.Body(
						app.Img().Src(im.thumb()).Alt(im.Name).Width(48).Height(48),
						app.Button().Type("button").Class("delete-image").Aria("label", "Remove "+im.Name).Text("×").OnClick(t.onDeleteImage(c.ID, im.ID)),
					)
				}),
			),
			app.If(len(shown) < len(c.Images), app.Button().Type("button").Class("button secondary show-all").
				Text(fmt.Sprintf("Show all %d images (%d more)", len(c.Images), len(c.Images)-len(shown))).
				OnClick(func(ctx app.Context, e app.Event) { c.ShowAll = true })),
		)
}

// teachThumbs is how many thumbnails a class shows until asked for all:
// a thousand thumbnails take seconds to render, which the page would
// spend frozen.
const teachThumbs = 100

func (t *Teach) renderTrain() app.UI {
	problems, notes := t.problems(), t.notes()
	busy := t.phase == teachFeatures || t.phase == teachTraining
	var progress app.UI = app.Text("")
	switch t.phase {
	case teachFeatures:
		progress = app.Div().Class("progress-row").Body(
			app.Progress().ID("teach-progress").DataSet("phase", "features").Max(max(1, t.featTotal)).Value(t.featDone).Aria("label", "Features"),
			app.Span().Text(fmt.Sprintf("Features: %d of %d images", t.featDone, t.featTotal)),
		)
	case teachTraining:
		e := t.lastEpoch
		progress = app.Div().Class("progress-row").Body(
			app.Progress().ID("teach-progress").DataSet("phase", "training").Max(max(1, e.Steps)).Value(e.Step).Aria("label", "Training"),
			app.Span().Text(fmt.Sprintf("Training (%s): epoch %d, loss %.3f, accuracy %.0f %%", firstNonEmpty(e.Phase, "starting"), e.Result.Epoch, e.Result.Loss, 100*e.Result.Accuracy)),
		)
	}
	return app.Section().Class("panel").Aria("labelledby", "train-heading").Body(
		app.H2().ID("train-heading").Text("Train"),
		app.If(len(problems) > 0 && !busy, app.Ul().ID("teach-problems").Class("note").Body(
			app.Range(problems).Slice(func(i int) app.UI { return app.Li().Text(problems[i]) }),
		)),
		app.If(len(notes) > 0, app.Ul().ID("teach-notes").Class("note").Body(
			app.Range(notes).Slice(func(i int) app.UI { return app.Li().Text(notes[i]) }),
		)),
		app.Details().ID("teach-settings").Body(
			app.Summary().Text("Settings"),
			app.Div().Class("row").Body(
				app.Label().For("teach-epochs").Text("Epochs"),
				app.Input().ID("teach-epochs").Type("number").Attr("min", 1).Attr("max", teachMaxEpochs).Value(t.settings().Epochs).
					Disabled(busy).OnChange(t.onEpochs),
			),
			app.Div().Class("row").Body(
				app.Input().ID("teach-tune-conv").Type("checkbox").Checked(t.tuneConv).Disabled(busy).OnChange(t.onTuneConv),
				app.Label().For("teach-tune-conv").Text("Also fine-tune the last conv layer (slower: its features are larger and it trains with the head)"),
			),
		),
		app.Div().Class("buttons").Body(
			app.Button().ID("train-button").Type("button").Class("button").Disabled(len(problems) > 0 || busy).Text("Train").OnClick(t.onTrain),
			app.Button().ID("stop-button").Type("button").Class("button secondary").Disabled(t.phase != teachTraining).Text("Stop").OnClick(t.onStop),
		),
		progress,
		app.If(len(t.epochs) > 1, app.Div().ID("teach-curve").Body(app.Raw(curveSVG(t.epochs)))),
		app.If(t.trainErr != "", app.P().ID("teach-error").Class("error").Role("alert").Text(t.trainErr)),
	)
}

// curveSVG draws loss (scaled to its maximum) and accuracy per epoch.
func curveSVG(eps []protocol.TeachEpoch) string {
	const w, h = 320, 120
	if len(eps) == 0 {
		return "<svg></svg>"
	}
	maxLoss := 1e-9
	for _, e := range eps {
		maxLoss = max(maxLoss, e.Result.Loss)
	}
	var loss, acc []string
	for i, e := range eps {
		x := float64(i) / float64(max(1, len(eps)-1)) * w
		loss = append(loss, fmt.Sprintf("%.1f,%.1f", x, h-e.Result.Loss/maxLoss*h))
		acc = append(acc, fmt.Sprintf("%.1f,%.1f", x, h-e.Result.Accuracy*h))
	}
	return fmt.Sprintf(`<svg class="curve" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="Loss (red) and accuracy (blue) per epoch, %s"><polyline fill="none" stroke="#b3261e" stroke-width="2" points="%s"/><polyline fill="none" stroke="#1f4e79" stroke-width="2" points="%s"/></svg>`,
		w, h, w, h, htmlEscape(eps[0].Phase), strings.Join(loss, " "), strings.Join(acc, " "))
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}

// renderResult shows the trained model: evaluation, saving, export, try
// it (nothing before a model is trained).
func (t *Teach) renderResult() app.UI {
	res := t.result
	if res == nil {
		return app.Text("")
	}
	var ev protocol.TeachEvaluated
	if t.evaluated != nil {
		ev = *t.evaluated
	}
	names := t.classNames()
	state := "ready"
	usable := fmt.Sprintf("%.0f", t.usableAfter)
	var file, sha, saveErr string
	var bytes int64
	if t.saved != nil {
		file, sha, bytes, saveErr = t.saved.Entry.File, t.saved.Entry.SHA256, t.saved.Entry.Bytes, t.saved.SaveError
	}
	stopped := ""
	if res.Stopped {
		stopped = " Training was stopped: the model is the best epoch reached."
	}
	return app.Section().ID("teach-result").Class("panel").DataSet("state", state).DataSet("accuracy", fmt.Sprintf("%.4f", ev.Evaluation.Accuracy)).DataSet("evaluated", t.evaluated != nil).
		DataSet("usable-ms", usable).DataSet("features-ms", fmt.Sprintf("%.0f", t.featuresMs)).DataSet("features-worker-ms", fmt.Sprintf("%.0f", t.workerMs)).DataSet("train-ms", fmt.Sprintf("%.0f", res.TrainMillis)).DataSet("epochs", len(res.History)).DataSet("stopped", res.Stopped).DataSet("sha", sha).Aria("labelledby", "result-heading").Body(
		app.H2().ID("result-heading").Text("Your model"),
		app.P().ID("teach-accuracy").Text(accuracyLine(t.evaluated)+stopped),
		app.If(t.evaluated != nil && !ev.Skipped, func() app.UI {
			conf := ev.Evaluation.Confusion
			return app.Div().Body(
				app.P().Class("note").Text(ev.Evaluation.Explain),
				app.Table().ID("teach-confusion").Class("confusion").Body(
					app.Caption().Text("Rows: the true class; columns: what the model said."),
					app.THead().Body(app.Tr().Body(app.Th().Text(""), app.Range(names).Slice(func(j int) app.UI { return app.Th().Scope("col").Text(names[j]) }))),
					app.TBody().Body(app.Range(conf).Slice(func(i int) app.UI {
						row := conf[i]
						return app.Tr().Body(app.Th().Scope("row").Text(nameAt(names, i)), app.Range(row).Slice(func(j int) app.UI { return app.Td().Text(row[j]) }))
					})),
				))
		}()),
		app.P().ID("teach-model-status").Role("status").Text(t.modelStatus()),
		app.If(saveErr != "", app.P().ID("teach-save-error").Class("error").Role("alert").Text(saveErr)),
		app.Div().Class("buttons").Body(
			app.If(t.saved != nil, app.A().ID("teach-export").Class("button").Href(t.exportURL).Attr("download", file).Text("Export "+file+" ("+protocol.HumanBytes(bytes)+")")),
			app.Input().ID("try-input").Class("visually-hidden").Type("file").Accept("image/*").Multiple(true).OnChange(t.onTryPick),
			app.Label().For("try-input").Class("button secondary").Text("Try it on images…"),
		),
		app.Ol().ID("try-results").Class("gallery").Body(
			app.Range(t.tries).Slice(func(i int) app.UI {
				tr := t.tries[i]
				st := "pending"
				switch {
				case tr.Err != "":
					st = "error"
				case tr.Class != "":
					st = "done"
				}
				return app.Li().Class("try "+st).DataSet("state", st).DataSet("name", tr.Name).DataSet("class", tr.Class).Body(
					app.If(tr.URL != "" && tr.Err == "", app.Img().Src(tr.URL).Alt(tr.Name).Width(48).Height(48)),
					app.Span().Text(firstNonEmpty(tr.Err, tr.Class+fmt.Sprintf(" (%.0f %%)", 100*tr.Prob), "…")),
				)
			}),
		),
	)
}

// accuracyLine words the evaluation (or that it is still running).
func accuracyLine(ev *protocol.TeachEvaluated) string {
	switch {
	case ev == nil:
		return "Measuring its accuracy on images it did not train on…"
	case ev.Skipped:
		return "Accuracy not measured: training was stopped."
	}
	return fmt.Sprintf("Accuracy on images it did not train on: %.1f %% (%d images).", 100*ev.Evaluation.Accuracy, ev.Evaluation.Evaluated)
}

func nameAt(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprint(i)
}

func (t *Teach) modelStatus() string {
	msg := fmt.Sprintf("Ready: try it below. From the click on Train to this usable model: %.1f s (features %.1f s).", t.usableAfter/1000, t.featuresMs/1000)
	switch {
	case t.saved == nil:
		return msg + " Saving it in this browser…"
	case t.saved.SaveError != "":
		return msg
	}
	return msg + " Saved in this browser as " + t.saved.Entry.Name + ": it is in the model picker on the Classify page, offline too."
}

func (t *Teach) renderImport() app.UI {
	return app.Section().Class("panel").Aria("labelledby", "import-heading").Body(
		app.H2().ID("import-heading").Text("Import a model"),
		app.P().Class("note").Text("A .vggo.safetensors file (exported here, or made by the train command) joins the model pickers; it stays in this browser."),
		app.Input().ID("import-input").Class("visually-hidden").Type("file").Accept(".safetensors").OnChange(t.onImportPick),
		app.Label().For("import-input").Class("button secondary").Text("Import a model file…"),
	)
}
