package main

import (
	"fmt"
	"image/color"
	"slices"

	"vggo/model"
)

// The worker decodes JPEG photos with WebCodecs' ImageDecoder, which hands
// back a VideoFrame in the decoder's own pixel format: for an ordinary
// (baseline, 4:2:0) JPEG the Y, Cb and Cr planes as stored in the file,
// before any colour conversion or chroma upsampling, the cheapest output a
// decoder has. This file is the part of that path that needs no browser:
// which rows of the frame to copy (framePlan) and how to turn the copied
// bytes into the RGBA samples model.NewSampledImage takes, converting
// YCbCr exactly as Go's image.YCbCr does (nearest chroma sample,
// color.YCbCr.RGBA), so the model input equals the native path's up to
// the two decoders' IDCT rounding.

// reducedDecodeMargin is how many pixels of a reduced-scale decode stand
// behind each model input pixel, at least, along the picture's shorter
// side. The decoder's block averaging then spans at most a quarter of the
// resize filter's width, which keeps the model input within a few levels
// of the one computed from the full picture.
const reducedDecodeMargin = 4

// reducedJPEGSize returns the size to ask ImageDecoder for
// (desiredWidth, desiredHeight) when a JPEG stored as w×h is decoded for a
// model of input size: the smallest of libjpeg's scales m/8 (m = 1..7)
// that keeps reducedDecodeMargin·size pixels on the shorter side, rounded
// up as libjpeg rounds a scaled size. ok is false when no scale below 8/8
// keeps that many: decode the whole picture.
func reducedJPEGSize(w, h, size int) (dw, dh int, ok bool) {
	short := min(w, h)
	if size < 1 || short < 1 {
		return 0, 0, false
	}
	m := (8*reducedDecodeMargin*size + short - 1) / short
	if m >= 8 {
		return 0, 0, false
	}
	return (w*m + 7) / 8, (h*m + 7) / 8, true
}

// reducedBitmapMargin is reducedDecodeMargin for pictures the browser
// resizes before the worker reads them (createImageBitmap's resizeWidth
// and resizeHeight, quality "medium": mipmaps, then bilinear). Measured on
// the 12 MP photo and a 3000x2250 PNG with 1-pixel stripes against the
// native path (e2e TestBrowserDecodeAgreesWithNative, the default model
// before the stage-2/3 average; with today's, 16 gives 0.011 and 0.0034):
// margin 4 moved probabilities by up to 0.019, 16 by 0.012 and 0.0025, 32
// by 0.0041 and 0.00073 at about 1.4 times the decode time of 16. Quality
// "low" (bilinear, no mipmaps) was closer on the photo (0.0033) but four
// times further on the stripes (0.010): it skips pixels, and stripes alias.
const reducedBitmapMargin = 16

// reducedBitmapSize returns the size the browser should resize a w×h
// picture to for a model of input size: reducedBitmapMargin·size pixels on
// the shorter side, the other in proportion (rounded up). ok is false when
// the picture has fewer than twice that many: read it whole.
func reducedBitmapSize(w, h, size int) (dw, dh int, ok bool) {
	short, target := min(w, h), reducedBitmapMargin*size
	if size < 1 || short < 2*target {
		return 0, 0, false
	}
	return (w*target + short - 1) / short, (h*target + short - 1) / short, true
}

// pixelFormat is a VideoFrame format (VideoPixelFormat) the worker reads.
type pixelFormat struct {
	name       string
	yuv        bool // planes Y, then U (Cb) and V (Cr), or NV12's interleaved UV
	subX, subY int  // chroma subsampling (1 or 2)
	nv12       bool // one UV plane, Cb and Cr interleaved
	bgr        bool // packed 4 bytes per pixel, blue first
	alpha      bool // packed with a real alpha byte
}

var pixelFormats = map[string]pixelFormat{
	"I420": {yuv: true, subX: 2, subY: 2},
	"I422": {yuv: true, subX: 2, subY: 1},
	"I444": {yuv: true, subX: 1, subY: 1},
	"NV12": {yuv: true, subX: 2, subY: 2, nv12: true},
	"RGBA": {subX: 1, subY: 1, alpha: true},
	"RGBX": {subX: 1, subY: 1},
	"BGRA": {subX: 1, subY: 1, bgr: true, alpha: true},
	"BGRX": {subX: 1, subY: 1, bgr: true},
}

// parsePixelFormat returns the format named name, or an error for one the
// worker does not read (high bit depths, alpha planes).
func parsePixelFormat(name string) (pixelFormat, error) {
	f, ok := pixelFormats[name]
	if !ok {
		return pixelFormat{}, fmt.Errorf("the decoder gave pixel format %q", name)
	}
	f.name = name
	return f, nil
}

// planes is how many planes a copy of the format holds.
func (f pixelFormat) planes() int {
	switch {
	case !f.yuv:
		return 1
	case f.nv12:
		return 2
	}
	return 3
}

// frameRect is a VideoFrame's visible rectangle in coded pixels.
type frameRect struct{ x, y, w, h int }

// rowRun is coded rows y .. y+n-1, copied with one copyTo.
type rowRun struct{ y, n int }

// framePlan says which coded rows of a frame to copy to resize it, shown
// upright, to size×size, and turns the copies into samples.
type framePlan struct {
	format      pixelFormat
	orientation int       // EXIF orientation of the stored pixels, 1..8
	visible     frameRect // the stored picture inside the coded frame
	w, h        int       // the picture shown upright
	xs, ys      []int     // model.ResizeSamples(w, h, size)
	runs        []rowRun  // coded rows to copy, whole chroma rows each
}

// newFramePlan plans the copy of a frame in format f whose picture is
// visible (stored as the camera wrote it) and codedHeight rows tall, for
// an image shown with EXIF orientation o.
func newFramePlan(f pixelFormat, visible frameRect, codedHeight, o, size int) (*framePlan, error) {
	if visible.w < 1 || visible.h < 1 || visible.w > model.MaxPixels/visible.h {
		return nil, fmt.Errorf("decoded to %dx%d pixels", visible.w, visible.h) // Go's decoder words the error
	}
	if size < 1 {
		return nil, fmt.Errorf("no model is loaded yet")
	}
	if o < 1 || o > 8 {
		o = 1
	}
	p := &framePlan{format: f, orientation: o, visible: visible}
	p.w, p.h = model.OrientedSize(o, visible.w, visible.h)
	p.xs, p.ys = model.ResizeSamples(p.w, p.h, size)
	// The stored rows the samples fall on, as blocks of subY rows: a copy
	// of a subsampled frame must start and end on a chroma row.
	var blocks []int
	for _, y := range p.ys {
		for _, x := range p.xs {
			_, sy := model.StoredPixel(o, visible.w, visible.h, x, y)
			blocks = append(blocks, (visible.y+sy)/f.subY)
		}
	}
	slices.Sort(blocks)
	for _, r := range consecutiveRuns(slices.Compact(blocks)) {
		y := r.from * f.subY
		p.runs = append(p.runs, rowRun{y: y, n: min(r.n*f.subY, codedHeight-y)})
	}
	return p, nil
}

// planeLayout is WebCodecs' PlaneLayout: where a plane starts in a copy
// and how many bytes one of its rows takes.
type planeLayout struct{ offset, stride int }

// frameCopy is one run's bytes as copyTo wrote them, with its plane layouts.
type frameCopy struct {
	data   []byte
	planes []planeLayout
}

// samples turns the copies (one per run, in order) into the non-premultiplied
// RGBA pixels at every crossing of xs and ys, row by row, as
// model.NewSampledImage takes them.
func (p *framePlan) samples(copies []frameCopy) ([]byte, error) {
	if len(copies) != len(p.runs) {
		return nil, fmt.Errorf("%d frame copies for %d row runs", len(copies), len(p.runs))
	}
	for i, c := range copies {
		if len(c.planes) != p.format.planes() {
			return nil, fmt.Errorf("a %s copy with %d planes", p.format.name, len(c.planes))
		}
		if err := p.checkCopy(c, p.runs[i]); err != nil {
			return nil, err
		}
	}
	f := p.format
	pix := make([]byte, 0, 4*len(p.xs)*len(p.ys))
	run := 0
	for _, y := range p.ys {
		for _, x := range p.xs {
			sx, sy := model.StoredPixel(p.orientation, p.visible.w, p.visible.h, x, y)
			cx, cy := p.visible.x+sx, p.visible.y+sy
			// The runs are ascending; find the one holding row cy.
			run = runHolding(p.runs, cy, run)
			c, r := copies[run], p.runs[run]
			row := cy - r.y
			if !f.yuv {
				px := c.data[c.planes[0].offset+row*c.planes[0].stride+4*cx:]
				red, blue := px[0], px[2]
				if f.bgr {
					red, blue = blue, red
				}
				a := byte(0xff)
				if f.alpha {
					a = px[3]
				}
				pix = append(pix, red, px[1], blue, a)
				continue
			}
			yy := c.data[c.planes[0].offset+row*c.planes[0].stride+cx]
			crow, ccol := row/f.subY, cx/f.subX
			var cb, cr byte
			if f.nv12 {
				uv := c.data[c.planes[1].offset+crow*c.planes[1].stride+2*ccol:]
				cb, cr = uv[0], uv[1]
			} else {
				cb = c.data[c.planes[1].offset+crow*c.planes[1].stride+ccol]
				cr = c.data[c.planes[2].offset+crow*c.planes[2].stride+ccol]
			}
			// What Go's decoder gives: image.YCbCr's At, then RGBA() >> 8.
			rr, gg, bb, _ := color.YCbCr{Y: yy, Cb: cb, Cr: cr}.RGBA()
			pix = append(pix, byte(rr>>8), byte(gg>>8), byte(bb>>8), 0xff)
		}
	}
	return pix, nil
}

// runHolding returns the index of the run holding row y, starting the
// search at guess (rows are visited mostly in order).
func runHolding(runs []rowRun, y, guess int) int {
	if r := runs[guess]; y >= r.y && y < r.y+r.n {
		return guess
	}
	i, _ := slices.BinarySearchFunc(runs, y, func(r rowRun, y int) int {
		switch {
		case r.y+r.n <= y:
			return -1
		case r.y > y:
			return 1
		}
		return 0
	})
	return i
}

// checkCopy makes sure every byte samples reads from c lies inside it: a
// layout the browser reports is trusted no further than that.
func (p *framePlan) checkCopy(c frameCopy, r rowRun) error {
	f := p.format
	width := p.visible.x + p.visible.w
	need := func(pl planeLayout, rows, rowBytes int) error {
		if pl.offset < 0 || pl.stride < rowBytes || pl.offset+(rows-1)*pl.stride+rowBytes > len(c.data) {
			return fmt.Errorf("a %s copy of %d bytes with plane layout %+v for %d rows of %d bytes", f.name, len(c.data), pl, rows, rowBytes)
		}
		return nil
	}
	if !f.yuv {
		return need(c.planes[0], r.n, 4*width)
	}
	if err := need(c.planes[0], r.n, width); err != nil {
		return err
	}
	crows, cw := (r.n+f.subY-1)/f.subY, (width+f.subX-1)/f.subX
	if f.nv12 {
		return need(c.planes[1], crows, 2*cw)
	}
	for _, pl := range c.planes[1:] {
		if err := need(pl, crows, cw); err != nil {
			return err
		}
	}
	return nil
}
