package ui

import "github.com/maxence-charriere/go-app/v9/pkg/app"

// dropZone takes image files dropped on it or picked in its file inputs
// and hands them, as a FileList, to take.
type dropZone struct {
	over bool // files are being dragged over it
	take func(ctx app.Context, files app.Value)
}

// class is the zone's CSS class: base, plus "over" while files hover.
func (d *dropZone) class(base string) string {
	if d.over {
		return base + " over"
	}
	return base
}

func (d *dropZone) onDragOver(ctx app.Context, e app.Event) {
	e.PreventDefault()
	d.over = true
}

func (d *dropZone) onDragLeave(ctx app.Context, e app.Event) { d.over = false }

func (d *dropZone) onDrop(ctx app.Context, e app.Event) {
	e.PreventDefault()
	d.over = false
	d.take(ctx, e.Get("dataTransfer").Get("files"))
}

// onPick takes the files of an <input type=file>.
func (d *dropZone) onPick(ctx app.Context, e app.Event) {
	input := e.Get("target")
	d.take(ctx, input.Get("files"))
	input.Set("value", "") // the same file can be picked again
}

// objectURL is a blob: URL showing blob, until revokeObjectURL.
func objectURL(blob app.Value) string {
	return app.Window().Get("URL").Call("createObjectURL", blob).String()
}

// bytesURL is a blob: URL showing data of the given MIME type ("" for no
// data). The Content-Security-Policy allows blob: images, not data: ones.
func bytesURL(data []byte, mime string) string {
	if len(data) == 0 {
		return ""
	}
	u8 := app.Window().Get("Uint8Array").New(len(data))
	app.CopyBytesToJS(u8, data)
	parts := app.Window().Get("Array").Call("of", u8) // a Go slice holding an app.Value does not convert
	return objectURL(app.Window().Get("Blob").New(parts, map[string]any{"type": mime}))
}

// revokeObjectURL frees what objectURL made; "" is no URL.
func revokeObjectURL(url string) {
	if url != "" {
		app.Window().Get("URL").Call("revokeObjectURL", url)
	}
}
