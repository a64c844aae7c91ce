package ui

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/model/rank"
	"vggo/wasm/protocol"
)

// Render draws the page.
func (c *Classifier) Render() app.UI {
	return app.Div().Class("page").Body(
		pageHeader(ClassifyPath),
		app.Main().ID("main").Body(
			app.H1().ID("headline").Text("Classify pictures with a VGG16 network, on your own device"),
			app.P().Class("lead").Text("Pick a model, then give it an image: it is classified in your browser, never uploaded, and the app keeps working offline."),
			c.renderModel(),
			c.renderIntake(),
			c.renderSamples(),
			c.renderResults(),
			// After the results: the file picker stays next in tab order
			// after the model picker.
			c.renderWorkers(),
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
			link(TeachPath, "Teach"),
			link(BenchPath, "Benchmark"),
		)),
	)
}

func (c *Classifier) renderModel() app.UI {
	s := &c.session
	pct := s.progress.Percent()
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
						// The name alone, so it fits a phone: size, classes
						// and input size are in the lines below.
						return app.Option().Value(m.SHA256).Selected(m.SHA256 == s.entry.SHA256).Text(m.Name)
					}),
				),
		),
		app.P().ID("model-status").Class("status").DataSet("state", s.state).DataSet("source", s.source()).DataSet("model", s.entry.Name).
			Aria("live", "polite").Role("status").Text(c.status()),
		app.If(s.state == modelDownloading,
			app.Div().Class("progress-row").Body(
				app.Progress().ID("model-progress").Max(100).Value(fmt.Sprintf("%.1f", pct)).
					Aria("label", "Model download"),
				app.Span().ID("model-progress-text").Text(fmt.Sprintf("%s of %s (%.0f\u00a0%%)",
					protocol.HumanBytes(s.progress.Loaded), protocol.HumanBytes(s.progress.Total), pct)),
			),
		),
		c.renderAbout(),
		app.If(c.indexNote != "", app.P().Class("note").Text(c.indexNote)),
		app.Range(c.broken).Slice(func(i int) app.UI {
			b := c.broken[i]
			return app.P().Class("note").Text(fmt.Sprintf("Not available: %s (%s)", firstNonEmpty(b.Name, b.File), b.Error))
		}),
	)
}

// renderAbout says what the chosen model knows: what it was trained on
// (the model file's description), its classes and its input size, so a
// visitor knows what kind of picture it can answer.
func (c *Classifier) renderAbout() app.UI {
	s := &c.session
	classes, size, desc := s.entry.Classes, s.entry.InputSize, ""
	if s.state == modelReady {
		classes, size, desc = s.loaded.Classes, s.loaded.InputSize, s.loaded.Description
	}
	if len(classes) == 0 {
		return app.Text("")
	}
	trained := "Trained on: " + desc + "."
	if desc == "" {
		trained = "The model file does not say what pictures it was trained on."
	}
	return app.Div().ID("model-about").Class("about").Body(
		app.If(s.state == modelReady, app.P().ID("model-description").Text(trained)),
		app.P().ID("model-classes").Text(fmt.Sprintf("Knows %d classes: %s. Anything else gets one of these names anyway.", len(classes), strings.Join(classes, ", "))),
		app.P().ID("model-input-size").Text(fmt.Sprintf("Sees every picture as %d×%d pixels (each result shows that picture).", size, size)),
		app.If(s.state == modelReady && s.loaded.FlipAverage,
			app.P().ID("model-flip-average").Text("Looks at every picture twice, as it is and mirrored, and averages the two answers: a little more accurate, twice the work.")),
	)
}

func (c *Classifier) renderIntake() app.UI {
	return app.Section().Class("panel").Aria("labelledby", "intake-heading").Body(
		app.H2().ID("intake-heading").Text("Images"),
		app.Div().ID("dropzone").Class(c.drop.class("dropzone")).
			OnDragOver(c.drop.onDragOver).OnDragLeave(c.drop.onDragLeave).OnDrop(c.drop.onDrop).
			Body(
				// Touch devices have no drag and drop or Ctrl+V to speak of
				// (app.css shows one line or the other).
				app.P().Class("no-touch").Text("Drop images here, paste one (Ctrl+V), or:"),
				app.P().Class("touch-only").Text("Choose images, or use the camera:"),
				app.Div().Class("buttons").Body(
					// Each file input is visually hidden but stays in the tab
					// order; the label right after it shows its focus (app.css).
					app.Input().ID("file-input").Type("file").Accept("image/*").Multiple(true).
						Class("visually-hidden").OnChange(c.drop.onPick),
					app.Label().For("file-input").Class("button").Text("Choose images…"),
					app.Button().ID("camera-button").Type("button").Class("button").
						Disabled(c.live.on).Text("Live camera").Title("Classify the camera's picture continuously").
						OnClick(c.startCamera),
					// On phones the capture attribute opens the camera app;
					// elsewhere it is one more file picker, so it is not shown.
					app.Input().ID("camera-input").Type("file").Accept("image/*").
						Attr("capture", "environment").Class("visually-hidden touch-only").OnChange(c.drop.onPick),
					app.Label().For("camera-input").Class("button secondary touch-only").Text("Photo with the camera app"),
				),
			),
		app.If(c.live.on, c.renderCamera()),
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
		app.If(c.total > 1, app.P().ID("classify-progress").Class("note").DataSet("done", c.classified).DataSet("total", c.total).
			Text(fmt.Sprintf("Classified %d of %d images (the newest %d are shown).", c.classified, c.total, min(c.total, GallerySize)))),
		app.Ol().ID("results").Class("gallery").Aria("live", "polite").Body(
			app.Range(c.gallery).Slice(func(i int) app.UI { return renderEntry(c.gallery[i]) }),
		),
	)
}

func renderEntry(e *entry) app.UI {
	art := app.Article().Class("result "+e.state()).DataSet("state", e.state()).DataSet("name", e.Name)
	var body []app.UI
	if e.showsThumbnail() {
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
		if r.OOD != nil && r.OOD.Flagged {
			// The top class is no answer here: say so first, keep the bars as detail.
			art = art.DataSet("ood", "true")
			body = append(body, app.P().Class("ood-note").Role("status").Text(OODNote))
		}
		body = append(body,
			renderModelInput(e),
			renderTop(r.Top),
			app.P().Class("timing").Text(fmt.Sprintf("%s · inference %.1f ms · decode %.1f ms · %d×%d px",
				r.Model, r.ForwardMillis, r.DecodeMillis, r.Width, r.Height)),
		)
	}
	return app.Li().Body(art.Body(body...))
}

// OODNote is what a result card says when the model judges the image unlike
// its training images.
const OODNote = "This looks unlike the images this model was trained on, so its guesses below are not an answer."

// modelInputShown is the side, in CSS pixels, a small network input is
// magnified to.
const modelInputShown = 128

// renderModelInput shows the picture the network saw at its real size and,
// when that is small, magnified with hard pixel edges (app.css:
// image-rendering: pixelated), so a visitor sees how little the model had
// to go on.
func renderModelInput(e *entry) app.UI {
	n := e.InputSize
	if e.InputURL == "" || n <= 0 {
		return app.Text("")
	}
	zoom := modelInputShown / n
	caption := fmt.Sprintf("What the model saw: %d×%d pixels", n, n)
	if zoom >= 2 {
		caption += fmt.Sprintf(", real size and %d× larger", zoom)
	}
	return app.Figure().Class("model-input").Body(
		app.Img().Class("input-real").Src(e.InputURL).Width(n).Height(n).Alt(""),
		app.If(zoom >= 2, app.Img().Class("input-zoom").Src(e.InputURL).Width(n*zoom).Height(n*zoom).Alt("")),
		app.FigCaption().Text(caption),
	)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// renderTop lists classes with their probabilities, as given (best first).
func renderTop(top []rank.Prediction) app.UI {
	return app.Ol().Class("top5").Aria("label", "Top classes").Body(
		app.Range(top).Slice(func(i int) app.UI {
			p := top[i]
			return app.Li().Body(
				app.Span().Class("cls").Text(p.Class),
				// <meter> rather than a styled bar: no inline style, which the
				// server's Content-Security-Policy (style-src 'self') forbids.
				app.Meter().Class("bar").Min(0).Max(1).Value(fmt.Sprintf("%.4f", p.Prob)).
					Aria("hidden", true),
				// A no-break space: "%" never wraps onto a line of its own.
				app.Span().Class("pct").Text(fmt.Sprintf("%.1f\u00a0%%", 100*float64(p.Prob))),
			)
		}),
	)
}

// renderWorkers is the pool settings (how many inference workers split
// each image: automatic, or 1 to 2×MaxWorkers; whether they pack the
// weights to save memory) and the line saying which mode runs.
func (c *Classifier) renderWorkers() app.UI {
	s := &c.session
	if s.worker == nil {
		return app.Text("")
	}
	chosen := s.workersSetting
	options := []app.UI{app.Option().Value("0").Selected(chosen == 0).Text(fmt.Sprintf("Automatic (%d on this device)", DefaultWorkers()))}
	for n := 1; n <= 2*MaxWorkers; n++ {
		options = append(options, app.Option().Value(strconv.Itoa(n)).Selected(chosen == n).Text(strconv.Itoa(n)))
	}
	return app.Section().Class("panel workers").Aria("labelledby", "workers-heading").Body(
		app.H2().ID("workers-heading").Text("Speed and memory"),
		app.Div().Class("row").Body(
			app.Label().For("workers-select").Text("Workers"),
			app.Select().ID("workers-select").OnChange(func(ctx app.Context, e app.Event) {
				n, _ := strconv.Atoi(ctx.JSSrc().Get("value").String())
				s.setWorkers(ctx, n)
			}).Body(options...),
			app.Label().For("memory-select").Text("Memory"),
			app.Select().ID("memory-select").OnChange(func(ctx app.Context, e app.Event) {
				s.setMemory(ctx, ctx.JSSrc().Get("value").String())
			}).Body(memoryOptions(s.memorySetting)...),
		),
		poolLine("model-workers", s.worker),
		app.P().Class("note").Text("Save memory keeps the weights as 16-bit numbers, with smaller Winograd tiles "+
			"in the last two blocks: for models with large inputs, less than half the memory (a full VGG16 at 224×224 "+
			"in two workers: 133 MB instead of 316 MB) at about 1.6 times the time; probabilities move by a few "+
			"thousandths at most. At 32×32, as the default model, it saves little."),
	)
}

// memoryOptions are the memory setting's choices, with chosen selected.
func memoryOptions(chosen string) []app.UI {
	auto := "normal"
	if lowMemoryDevice() {
		auto = fmt.Sprintf("saving for inputs of %d×%d and up", saveMemoryFromSize, saveMemoryFromSize)
	}
	return []app.UI{
		app.Option().Value("").Selected(chosen == "").Text(fmt.Sprintf("Automatic (%s on this device)", auto)),
		app.Option().Value(memoryNormal).Selected(chosen == memoryNormal).Text("Normal: fastest, exact"),
		app.Option().Value(memorySave).Selected(chosen == memorySave).Text("Save memory"),
	}
}
