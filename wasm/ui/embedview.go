package ui

import (
	"fmt"

	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Render draws the compact widget: status, drop zone with file picker, and
// the last image with its top classes.
func (e *Embed) Render() app.UI {
	state := e.session.state
	return app.Div().Class("embed theme-"+e.params.Theme).DataSet("state", state).Body(
		app.Div().ID("embed-drop").Class(e.drop.class("dropzone embed-drop")).
			OnDragOver(e.drop.onDragOver).OnDragLeave(e.drop.onDragLeave).OnDrop(e.drop.onDrop).
			Body(
				app.Input().ID("file-input").Type("file").Accept("image/*").
					Class("visually-hidden").OnChange(e.drop.onPick),
				app.Label().For("file-input").Class("button").Text("Choose an image…"),
				app.P().ID("model-status").Class("status note").DataSet("state", state).
					Aria("live", "polite").Role("status").Text(e.status()),
			),
		e.renderLast(),
		poolLine("embed-workers", e.session.worker),
	)
}

// status is the widget's status line.
func (e *Embed) status() string {
	s := &e.session
	switch s.state {
	case modelDownloading:
		return fmt.Sprintf("Downloading %s… %.0f\u00a0%%", s.entry.Name, s.progress.Percent())
	case modelReady:
		return fmt.Sprintf("%s ready: drop an image or choose one.", s.loaded.Name)
	}
	return s.status("Loading…")
}

// renderLast draws the image shown last, with its top classes.
func (e *Embed) renderLast() app.UI {
	if e.last == nil {
		return app.Text("")
	}
	l := e.last
	art := app.Article().ID("embed-result").Class("result embed-result "+l.state()).DataSet("state", l.state()).DataSet("name", l.Name)
	var body []app.UI
	if l.showsThumbnail() {
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
		if r := l.Result; r != nil && r.OOD != nil && r.OOD.Flagged {
			// As in the full app: the top class is no answer here.
			art = art.DataSet("ood", "true")
			body = append(body, app.P().Class("ood-note").Role("status").Text(OODNote))
		}
		body = append(body, renderTop(shown))
	}
	return art.Body(body...)
}
