//go:build js && wasm

package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"syscall/js"
	"time"

	"vggo/model"
	"vggo/wasm/protocol"
)

// errNoBrowserDecoder: this browser has no createImageBitmap or
// OffscreenCanvas in workers, so Go's decoder is the only one.
var errNoBrowserDecoder = errors.New("no createImageBitmap or OffscreenCanvas in this worker")

// classifyDecodedByBrowser classifies blob decoded by the browser's own
// decoders, several times faster than Go's on a photo (a 12 MP JPEG: about
// 1 s in Go wasm). A JPEG goes to WebCodecs' ImageDecoder (webCodecsDecode),
// everything else, and a JPEG that path cannot read, to createImageBitmap
// (bitmapDecode). Only the pixels the model's resize reads
// (model.ResizeSamples, at most 2·size columns and rows) are copied into
// Go, never the whole picture, so the model input equals the one the native
// path computes from the same pixels. An error means: use Go's decoder.
func classifyDecodedByBrowser(blob js.Value, name string) (protocol.Result, error) {
	start := time.Now()
	img, decoder, shown, err := browserDecode(blob, name, engine.InputSize())
	if err != nil {
		return protocol.Result{}, err
	}
	res, err := engine.ClassifyImage(img, name, decoder, millisSince(start))
	res.Width, res.Height = shown.X, shown.Y
	return res, err
}

// browserDecode decodes blob for a model of input size with the fastest
// browser decoder that reads it (see classifyDecodedByBrowser) and says
// which one did, and the size of the picture as shown (img's, unless it
// was decoded at a reduced scale). An error means: use Go's decoder.
func browserDecode(blob js.Value, name string, size int) (img *model.SampledImage, decoder string, shown image.Point, err error) {
	img, shown, err = webCodecsDecode(blob, size)
	if err == nil {
		return img, protocol.DecoderWebCodecs, shown, nil
	}
	if err != errNotJPEG && err != errNoImageDecoder {
		println("vggo worker:", name+": ImageDecoder failed, using createImageBitmap:", err.Error())
	}
	img, shown, err = bitmapDecode(blob, size)
	if err != nil {
		return nil, "", image.Point{}, err
	}
	return img, protocol.DecoderBrowser, shown, nil
}

var (
	errNoImageDecoder = errors.New("no ImageDecoder (WebCodecs) in this worker")
	errNotJPEG        = errors.New("not a JPEG file")
)

// jpegHeadBytes is how much of a file's start webCodecsDecode reads the
// EXIF orientation from: the EXIF block (at most 64 KiB) comes before the
// first scan, and cameras write it first.
const jpegHeadBytes = 256 << 10

// webCodecsDecode decodes a JPEG blob with WebCodecs' ImageDecoder. A
// photo much larger than the model input is decoded at a reduced scale
// (reducedJPEGSize): the JPEG decoder then skips most of its inverse DCT
// and hands back a frame of 1/8 to 7/8 the size, each pixel close to the
// average of the block it stands for; on a 12 MP photo in a Chromium 156
// page this took 62-89 ms against 640 ms for the whole picture. Preprocess's
// antialiased resize averages those pixels as it would have averaged the
// originals, so the model input stays close to the native path's (the
// tolerance is in e2e/decode_test.go). A smaller JPEG is decoded whole,
// and ImageDecoder then hands back the Y, Cb and Cr planes as the file
// stores them, which the worker converts as Go's decoder would: the same
// input as the native path up to the two decoders' IDCT rounding. Either
// way it copies only the rows the resize reads (framePlan); the EXIF
// orientation comes from the file's head (model.JPEGOrientation, as on
// the native side) and must agree with the frame's own rotation.
func webCodecsDecode(blob js.Value, size int) (img *model.SampledImage, shown image.Point, err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception
			img, err = nil, fmt.Errorf("%v", r)
		}
	}()
	decoderClass := self.Get("ImageDecoder")
	if decoderClass.Type() != js.TypeFunction {
		return nil, shown, errNoImageDecoder
	}
	headBuf, err := await(blob.Call("slice", 0, jpegHeadBytes).Call("arrayBuffer"))
	if err != nil {
		return nil, shown, err
	}
	head := fromJSBytes(js.Global().Get("Uint8Array").New(headBuf))
	if len(head) < 3 || head[0] != 0xFF || head[1] != 0xD8 || head[2] != 0xFF {
		return nil, shown, errNotJPEG
	}
	orientation := model.JPEGOrientation(head)
	opts := map[string]any{"type": "image/jpeg"}
	reduced := false
	if stored, err := jpeg.DecodeConfig(bytes.NewReader(head)); err == nil {
		if w, h, ok := reducedJPEGSize(stored.Width, stored.Height, size); ok {
			opts["desiredWidth"], opts["desiredHeight"] = w, h
			// A reduced decode gets the file as a stream: no copy of it in
			// the worker's JavaScript heap, which ImageDecoder would copy
			// again (on a 12 MP photo, 79-88 ms against 100 ms).
			opts["data"] = blob.Call("stream")
			reduced = true
			shown.X, shown.Y = model.OrientedSize(orientation, stored.Width, stored.Height)
		}
	}
	if !reduced {
		// The whole file at once: Chromium hands back the YCbCr planes only
		// for data it has in full (from a stream it converted to RGB).
		buf, err := await(blob.Call("arrayBuffer"))
		if err != nil {
			return nil, shown, err
		}
		opts["data"] = buf
	}
	dec := decoderClass.New(opts)
	defer dec.Call("close")
	out, err := await(dec.Call("decode"))
	if err != nil {
		return nil, shown, err
	}
	frame := out.Get("image")
	defer frame.Call("close")
	if err := checkFrameOrientation(frame, orientation); err != nil {
		return nil, shown, err
	}
	format, err := parsePixelFormat(frame.Get("format").String())
	if err != nil {
		return nil, shown, err
	}
	if format.yuv {
		// JPEG's YCbCr is JFIF's: full range, BT.601 matrix, which is what
		// color.YCbCr converts.
		cs := frame.Get("colorSpace")
		if m := cs.Get("matrix").String(); !cs.Get("fullRange").Bool() || (m != "smpte170m" && m != "bt470bg") {
			return nil, shown, fmt.Errorf("the decoder gave YUV with matrix %s, full range %v", m, cs.Get("fullRange").Bool())
		}
	}
	vr := frame.Get("visibleRect")
	visible := frameRect{vr.Get("x").Int(), vr.Get("y").Int(), vr.Get("width").Int(), vr.Get("height").Int()}
	codedW := frame.Get("codedWidth").Int()
	plan, err := newFramePlan(format, visible, frame.Get("codedHeight").Int(), orientation, size)
	if err != nil {
		return nil, shown, err
	}
	// Start every copy, then wait for all of them at once.
	u8 := js.Global().Get("Uint8Array")
	arrays := make([]js.Value, len(plan.runs))
	copies := make([]any, len(plan.runs))
	for i, r := range plan.runs {
		opts := map[string]any{"rect": map[string]any{"x": 0, "y": r.y, "width": codedW, "height": r.n}}
		arrays[i] = u8.New(frame.Call("allocationSize", opts))
		copies[i] = frame.Call("copyTo", arrays[i], opts)
	}
	layouts, err := await(js.Global().Get("Promise").Call("all", copies))
	if err != nil {
		return nil, shown, err
	}
	got := make([]frameCopy, len(plan.runs))
	for i := range got {
		got[i].data = fromJSBytes(arrays[i])
		l := layouts.Index(i)
		for j := 0; j < l.Length(); j++ {
			got[i].planes = append(got[i].planes, planeLayout{offset: l.Index(j).Get("offset").Int(), stride: l.Index(j).Get("stride").Int()})
		}
	}
	pix, err := plan.samples(got)
	if err != nil {
		return nil, shown, err
	}
	img, err = model.NewSampledImage(plan.w, plan.h, plan.xs, plan.ys, pix)
	if !reduced {
		shown = image.Pt(plan.w, plan.h)
	}
	return img, shown, err
}

// checkFrameOrientation compares the orientation read from the file with
// the turn the decoder put on the frame (WebCodecs' rotation and flip):
// where they disagree the frame is not used. Only the rotation of the
// unmirrored orientations and the presence of a mirror are compared, the
// part of the mapping the WebCodecs specification fixes beyond doubt.
func checkFrameOrientation(frame js.Value, o int) error {
	rot, flip := frame.Get("rotation"), frame.Get("flip")
	if rot.Type() != js.TypeNumber || flip.Type() != js.TypeBoolean {
		return nil // an older browser: no turn on frames
	}
	mirrored := o == 2 || o == 4 || o == 5 || o == 7
	want := map[int]int{1: 0, 3: 180, 6: 90, 8: 270}
	if flip.Bool() != mirrored {
		return fmt.Errorf("EXIF orientation %d, but the decoder flip is %v", o, flip.Bool())
	}
	if w, ok := want[o]; ok && rot.Int() != w {
		return fmt.Errorf("EXIF orientation %d, but the decoder rotation is %d", o, rot.Int())
	}
	return nil
}

// bitmapDecode decodes blob with createImageBitmap (EXIF orientation
// applied, as Go's decoder does) and gathers the
// pixels at model.ResizeSamples(width, height, size) through two small
// OffscreenCanvases: the needed rows first, then the needed columns of
// those. A picture much larger than the model input is first resized by
// the browser (reducedBitmapSize), since the antialiased resize reads
// every pixel of a shrunk axis: a 12 MP picture would otherwise cross into
// Go as 48 MB, which stay in the worker's wasm memory for good, and
// Preprocess would filter all of them. It returns the size of the picture
// as shown, before that resize. Images with transparency are refused: a
// canvas stores premultiplied colour, which loses what Go's decoder reads
// under alpha 0.
func bitmapDecode(blob js.Value, size int) (img *model.SampledImage, shown image.Point, err error) {
	defer func() {
		if r := recover(); r != nil { // a JavaScript exception, such as a canvas too large to allocate
			img, err = nil, fmt.Errorf("%v", r)
		}
	}()
	if self.Get("createImageBitmap").Type() != js.TypeFunction || self.Get("OffscreenCanvas").Type() != js.TypeFunction {
		return nil, image.Point{}, errNoBrowserDecoder
	}
	if size < 1 {
		return nil, image.Point{}, errors.New("no model is loaded yet")
	}
	// colorSpaceConversion stays "default": "none" (ignore an embedded
	// colour profile, as Go's decoder does) made Chromium 156 decode a 12 MP
	// JPEG about 1.5 times slower. So a photo with a non-sRGB profile (an
	// iPhone's Display P3) gets the colours the browser shows, which may
	// differ slightly from Go's; sRGB and untagged images are unaffected.
	opts := map[string]any{"imageOrientation": "from-image"}
	bitmap, err := await(self.Call("createImageBitmap", blob, opts))
	if err != nil {
		return nil, image.Point{}, err
	}
	defer func() { bitmap.Call("close") }()
	w, h := bitmap.Get("width").Int(), bitmap.Get("height").Int()
	if w < 1 || h < 1 || w > model.MaxPixels/h {
		return nil, image.Point{}, fmt.Errorf("decoded to %dx%d pixels", w, h) // Go's decoder words the error
	}
	shown = image.Pt(w, h)
	if dw, dh, ok := reducedBitmapSize(w, h, size); ok {
		small, err := await(self.Call("createImageBitmap", bitmap, map[string]any{
			"resizeWidth": dw, "resizeHeight": dh, "resizeQuality": "medium"}))
		if err != nil {
			return nil, image.Point{}, err
		}
		bitmap.Call("close")
		bitmap, w, h = small, dw, dh
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
		return nil, image.Point{}, err
	}
	if !img.Opaque() {
		return nil, image.Point{}, errors.New("the image has transparent pixels")
	}
	return img, shown, nil
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
