package ui

import (
	"encoding/json"
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/model/rank"
	"vggo/wasm/protocol"
)

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
						label := fmt.Sprintf("%s — %d classes, %d px, %s", m.Name, len(m.Classes), m.InputSize, protocol.HumanBytes(m.Bytes))
						return app.Option().Value(m.SHA256).Selected(m.SHA256 == s.entry.SHA256).Text(label)
					}),
				),
		),
		app.P().ID("model-status").Class("status").DataSet("state", s.state).DataSet("source", s.source()).DataSet("model", s.entry.Name).
			Aria("live", "polite").Role("status").Text(c.status()),
		app.If(s.state == modelDownloading,
			app.Div().Class("progress-row").Body(
				app.Progress().ID("model-progress").Max(100).Value(fmt.Sprintf("%.1f", pct)).
					Aria("label", "Model download"),
				app.Span().ID("model-progress-text").Text(fmt.Sprintf("%s of %s (%.0f %%)",
					protocol.HumanBytes(s.progress.Loaded), protocol.HumanBytes(s.progress.Total), pct)),
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
	return app.Section().Class("panel").Aria("labelledby", "intake-heading").Body(
		app.H2().ID("intake-heading").Text("Images"),
		app.Div().ID("dropzone").Class(c.drop.class("dropzone")).
			OnDragOver(c.drop.onDragOver).OnDragLeave(c.drop.onDragLeave).OnDrop(c.drop.onDrop).
			Body(
				app.P().Text("Drop images here, paste one (Ctrl+V), or:"),
				app.Div().Class("buttons").Body(
					// Each file input is visually hidden but stays in the tab
					// order; the label right after it shows its focus (app.css).
					app.Input().ID("file-input").Type("file").Accept("image/*").Multiple(true).
						Class("visually-hidden").OnChange(c.drop.onPick),
					app.Label().For("file-input").Class("button").Text("Choose images…"),
					app.Button().ID("camera-button").Type("button").Class("button").
						Disabled(c.cameraOn).Text("Use camera").OnClick(c.startCamera),
					app.Input().ID("camera-input").Type("file").Accept("image/*").
						Attr("capture", "environment").Class("visually-hidden").OnChange(c.drop.onPick),
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
		if r.OOD != nil && r.OOD.Flagged {
			// The top class is no answer here: say so first, keep the bars as detail.
			art = art.DataSet("ood", "true")
			body = append(body, app.P().Class("ood-note").Role("status").Text(OODNote))
		}
		body = append(body,
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
				app.Span().Class("pct").Text(fmt.Sprintf("%.1f %%", 100*float64(p.Prob))),
			)
		}),
	)
}
