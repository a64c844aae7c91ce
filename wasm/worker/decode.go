//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"vggo/model"
	"vggo/wasm/protocol"
)

// errNoBrowserDecoder: this browser has no createImageBitmap or
// OffscreenCanvas in workers, so Go's decoder is the only one.
var errNoBrowserDecoder = errors.New("no createImageBitmap or OffscreenCanvas in this worker")

// classifyDecodedByBrowser classifies blob decoded by the browser's own
// decoder, several times faster than Go's on a photo (a 12 MP JPEG: about
// 1 s in Go wasm). Only the pixels the model's resize reads
// (model.ResizeSamples, at most 2·size columns and rows) are copied into
// Go, never the whole bitmap, so the model input equals the one the native
// path computes from the same pixels. An error means: use Go's decoder.
func classifyDecodedByBrowser(blob js.Value, name string) (protocol.Result, error) {
	start := time.Now()
	img, err := browserDecode(blob, engine.InputSize())
	if err != nil {
		return protocol.Result{}, err
	}
	return engine.ClassifyImage(img, name, protocol.DecoderBrowser, millisSince(start))
}

// browserDecode decodes blob with createImageBitmap (EXIF orientation
// applied, as Go's decoder does) and gathers the
// pixels at model.ResizeSamples(width, height, size) through two small
// OffscreenCanvases: the needed rows first, then the needed columns of
// those. Images with transparency are refused: a canvas stores
// premultiplied colour, which loses what Go's decoder reads under alpha 0.
func browserDecode(blob js.Value, size int) (img *model.SampledImage, err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception, such as a canvas too large to allocate
			img, err = nil, fmt.Errorf("%v", r)
		}
	}()
	if self.Get("createImageBitmap").Type() != js.TypeFunction || self.Get("OffscreenCanvas").Type() != js.TypeFunction {
		return nil, errNoBrowserDecoder
	}
	if size < 1 {
		return nil, errors.New("no model is loaded yet")
	}
	// colorSpaceConversion stays "default": "none" (ignore an embedded
	// colour profile, as Go's decoder does) made Chromium 156 decode a 12 MP
	// JPEG about 1.5 times slower. So a photo with a non-sRGB profile (an
	// iPhone's Display P3) gets the colours the browser shows, which may
	// differ slightly from Go's; sRGB and untagged images are unaffected.
	opts := map[string]any{"imageOrientation": "from-image"}
	bitmap, err := await(self.Call("createImageBitmap", blob, opts))
	if err != nil {
		return nil, err
	}
	defer bitmap.Call("close")
	w, h := bitmap.Get("width").Int(), bitmap.Get("height").Int()
	if w < 1 || h < 1 || w > model.MaxPixels/h {
		return nil, fmt.Errorf("decoded to %dx%d pixels", w, h) // Go's decoder words the error
	}
	xs, ys := model.ResizeSamples(w, h, size)
	rows, rowsCtx := newCanvas(w, len(ys))
	for _, r := range consecutiveRuns(ys) {
		rowsCtx.Call("drawImage", bitmap, 0, r.from, w, r.n, 0, r.at, w, r.n)
	}
	_, gridCtx := newCanvas(len(xs), len(ys))
	for _, r := range consecutiveRuns(xs) {
		gridCtx.Call("drawImage", rows, r.from, 0, r.n, len(ys), r.at, 0, r.n, len(ys))
	}
	data := gridCtx.Call("getImageData", 0, 0, len(xs), len(ys)).Get("data")
	pix := make([]byte, data.Length())
	js.CopyBytesToGo(pix, data)
	img, err = model.NewSampledImage(w, h, xs, ys, pix)
	if err != nil {
		return nil, err
	}
	if !img.Opaque() {
		return nil, errors.New("the image has transparent pixels")
	}
	return img, nil
}

// newCanvas returns a w×h OffscreenCanvas and its 2D context, kept in CPU
// memory (willReadFrequently) and drawing 1:1 copies without smoothing.
func newCanvas(w, h int) (canvas, ctx js.Value) {
	canvas = self.Get("OffscreenCanvas").New(w, h)
	ctx = canvas.Call("getContext", "2d", map[string]any{"willReadFrequently": true})
	ctx.Set("imageSmoothingEnabled", false)
	return canvas, ctx
}

func millisSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}
