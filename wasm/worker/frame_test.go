package main

import (
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"testing"

	"vggo/model"
)

// codedFrame is a decoded picture laid out in a coded frame larger than
// it (visible at vis), stored in the planes of a WebCodecs pixel format.
type codedFrame struct {
	format         pixelFormat
	codedW, codedH int
	vis            frameRect
	yuv            *image.YCbCr // coded size, for the YUV formats
	rgba           *image.NRGBA // coded size, for the packed ones
}

// randomFrame fills a coded frame of format f with random pixels.
func randomFrame(t *testing.T, f pixelFormat, codedW, codedH int, vis frameRect, seed uint64) *codedFrame {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	fr := &codedFrame{format: f, codedW: codedW, codedH: codedH, vis: vis}
	if !f.yuv {
		fr.rgba = image.NewNRGBA(image.Rect(0, 0, codedW, codedH))
		for i := range fr.rgba.Pix {
			fr.rgba.Pix[i] = uint8(rng.IntN(256))
			if i%4 == 3 {
				fr.rgba.Pix[i] = 0xff
			}
		}
		return fr
	}
	ratio := map[[2]int]image.YCbCrSubsampleRatio{{2, 2}: image.YCbCrSubsampleRatio420, {2, 1}: image.YCbCrSubsampleRatio422, {1, 1}: image.YCbCrSubsampleRatio444}[[2]int{f.subX, f.subY}]
	fr.yuv = image.NewYCbCr(image.Rect(0, 0, codedW, codedH), ratio)
	for _, p := range [][]byte{fr.yuv.Y, fr.yuv.Cb, fr.yuv.Cr} {
		for i := range p {
			p[i] = uint8(rng.IntN(256))
		}
	}
	return fr
}

// copyRows is what VideoFrame.copyTo({rect: {0, y, codedW, n}}) writes:
// the planes one after another, each row padded to a stride a little wider
// than needed (a browser may choose any), at a non-zero offset.
func (fr *codedFrame) copyRows(r rowRun) frameCopy {
	var c frameCopy
	c.data = append(c.data, 0xAA, 0xAA, 0xAA) // the first plane need not start at 0
	plane := func(rows, rowBytes int, row func(i int) []byte) {
		stride := rowBytes + 5
		c.planes = append(c.planes, planeLayout{offset: len(c.data), stride: stride})
		for i := 0; i < rows; i++ {
			c.data = append(c.data, row(i)...)
			c.data = append(c.data, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE)
		}
	}
	f := fr.format
	if !f.yuv {
		plane(r.n, 4*fr.codedW, func(i int) []byte {
			px := slices.Clone(fr.rgba.Pix[(r.y+i)*fr.rgba.Stride : (r.y+i)*fr.rgba.Stride+4*fr.codedW])
			if f.bgr {
				for j := 0; j < len(px); j += 4 {
					px[j], px[j+2] = px[j+2], px[j]
				}
			}
			return px
		})
		return c
	}
	m := fr.yuv
	plane(r.n, fr.codedW, func(i int) []byte { return m.Y[(r.y+i)*m.YStride : (r.y+i)*m.YStride+fr.codedW] })
	crows, cw, c0 := (r.n+f.subY-1)/f.subY, (fr.codedW+f.subX-1)/f.subX, r.y/f.subY
	if f.nv12 {
		plane(crows, 2*cw, func(i int) []byte {
			var uv []byte
			for j := 0; j < cw; j++ {
				uv = append(uv, m.Cb[(c0+i)*m.CStride+j], m.Cr[(c0+i)*m.CStride+j])
			}
			return uv
		})
		return c
	}
	for _, p := range [][]byte{m.Cb, m.Cr} {
		plane(crows, cw, func(i int) []byte { return p[(c0+i)*m.CStride : (c0+i)*m.CStride+cw] })
	}
	return c
}

// stored is the visible picture as Go's decoder would give it, as NRGBA.
func (fr *codedFrame) stored() *image.NRGBA {
	out := image.NewNRGBA(image.Rect(0, 0, fr.vis.w, fr.vis.h))
	for y := 0; y < fr.vis.h; y++ {
		for x := 0; x < fr.vis.w; x++ {
			var c color.Color
			if fr.yuv != nil {
				c = fr.yuv.At(fr.vis.x+x, fr.vis.y+y)
			} else {
				c = fr.rgba.At(fr.vis.x+x, fr.vis.y+y)
			}
			out.Set(x, y, c)
		}
	}
	return out
}

// upright turns src by EXIF orientation o, written as compositions of
// three mirrors (not with model.StoredPixel, which the code under test uses).
func upright(src *image.NRGBA, o int) *image.NRGBA {
	transpose := func(m *image.NRGBA) *image.NRGBA {
		b := m.Bounds()
		out := image.NewNRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				out.Set(y, x, m.At(x, y))
			}
		}
		return out
	}
	mirror := func(m *image.NRGBA, lr bool) *image.NRGBA {
		b := m.Bounds()
		out := image.NewNRGBA(b)
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				if lr {
					out.Set(b.Dx()-1-x, y, m.At(x, y))
				} else {
					out.Set(x, b.Dy()-1-y, m.At(x, y))
				}
			}
		}
		return out
	}
	lr := func(m *image.NRGBA) *image.NRGBA { return mirror(m, true) }
	tb := func(m *image.NRGBA) *image.NRGBA { return mirror(m, false) }
	switch o {
	case 2:
		return lr(src)
	case 3:
		return tb(lr(src))
	case 4:
		return tb(src)
	case 5:
		return transpose(src)
	case 6:
		return lr(transpose(src))
	case 7:
		return tb(lr(transpose(src)))
	case 8:
		return tb(transpose(src))
	}
	return src
}

// TestFramePlanSamplesEqualGoDecoder: for every pixel format the worker
// reads and every EXIF orientation, the model input computed from the rows
// a framePlan copies equals the one computed from the whole picture turned
// upright, exactly; and the plan copies few rows of a picture it enlarges.
func TestFramePlanSamplesEqualGoDecoder(t *testing.T) {
	const size = 32
	frames := []struct {
		name           string
		codedW, codedH int
		vis            frameRect
	}{
		{"even", 400, 300, frameRect{0, 0, 400, 300}},
		{"odd", 401, 301, frameRect{0, 0, 401, 301}},
		{"padded", 416, 320, frameRect{3, 5, 401, 303}},
		{"small", 21, 17, frameRect{0, 0, 21, 17}}, // smaller than the input: upscaled
	}
	for name := range pixelFormats {
		f, err := parsePixelFormat(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, fc := range frames {
			fr := randomFrame(t, f, fc.codedW, fc.codedH, fc.vis, uint64(i))
			for o := 1; o <= 8; o++ {
				p, err := newFramePlan(f, fc.vis, fc.codedH, o, size)
				if err != nil {
					t.Fatal(err)
				}
				var copies []frameCopy
				rows := 0
				for _, r := range p.runs {
					if r.y%f.subY != 0 || r.y+r.n > fc.codedH {
						t.Fatalf("%s %s: run %+v not on chroma rows of a %d-row frame", name, fc.name, r, fc.codedH)
					}
					copies = append(copies, fr.copyRows(r))
					rows += r.n
				}
				most := 2 * size * f.subY // enlarged: two rows per input row
				if max(fc.vis.w, fc.vis.h) > size {
					most = fc.vis.h + 2*f.subY // shrunk along an axis: the antialiased resize reads every row
				}
				if rows > most {
					t.Errorf("%s %s orientation %d: copies %d rows, want at most %d", name, fc.name, o, rows, most)
				}
				pix, err := p.samples(copies)
				if err != nil {
					t.Fatalf("%s %s orientation %d: %v", name, fc.name, o, err)
				}
				img, err := model.NewSampledImage(p.w, p.h, p.xs, p.ys, pix)
				if err != nil {
					t.Fatal(err)
				}
				want := model.Preprocess(upright(fr.stored(), o), size, "torch")
				if got := model.Preprocess(img, size, "torch"); !slices.Equal(got, want) {
					t.Errorf("%s %s orientation %d: the model input differs from the whole picture's", name, fc.name, o)
				}
			}
		}
	}
}

// TestFramePlanRefusesBadCopies: a copy whose layout points outside its
// bytes, or a wrong number of copies or planes, is an error, not a panic.
func TestFramePlanRefusesBadCopies(t *testing.T) {
	f, _ := parsePixelFormat("I420")
	vis := frameRect{0, 0, 100, 80}
	p, err := newFramePlan(f, vis, 80, 1, 8)
	if err != nil {
		t.Fatal(err)
	}
	fr := randomFrame(t, f, 100, 80, vis, 1)
	good := func() []frameCopy {
		var cs []frameCopy
		for _, r := range p.runs {
			cs = append(cs, fr.copyRows(r))
		}
		return cs
	}
	if _, err := p.samples(good()); err != nil {
		t.Fatalf("good copies: %v", err)
	}
	for _, c := range []struct {
		name    string
		breakIt func([]frameCopy) []frameCopy
	}{
		{"one copy missing", func(cs []frameCopy) []frameCopy { return cs[1:] }},
		{"a plane missing", func(cs []frameCopy) []frameCopy { cs[0].planes = cs[0].planes[:2]; return cs }},
		{"offset past the end", func(cs []frameCopy) []frameCopy {
			last := &cs[len(cs)-1]
			last.planes[2].offset = len(last.data)
			return cs
		}},
		{"stride too small", func(cs []frameCopy) []frameCopy { cs[0].planes[0].stride = 10; return cs }},
		{"bytes cut short", func(cs []frameCopy) []frameCopy { cs[0].data = cs[0].data[:len(cs[0].data)/2]; return cs }},
	} {
		if _, err := p.samples(c.breakIt(good())); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	if _, err := parsePixelFormat("I420P10"); err == nil {
		t.Error("I420P10: no error")
	}
	if _, err := newFramePlan(f, frameRect{0, 0, 0, 10}, 10, 1, 8); err == nil {
		t.Error("an empty frame: no error")
	}
}

// A photo much larger than the model input is decoded at the smallest
// libjpeg scale m/8 that keeps reducedDecodeMargin (4) pixels per input
// pixel on its shorter side; one that would need 8/8 is decoded whole.
func TestReducedJPEGSize(t *testing.T) {
	tests := []struct {
		w, h, size int
		dw, dh     int
		ok         bool
	}{
		{4000, 3000, 32, 500, 375, true},    // m = ceil(1024/3000) = 1
		{3000, 4000, 224, 1125, 1500, true}, // m = ceil(7168/3000) = 3
		{4000, 3000, 224, 1500, 1125, true}, // the shorter side decides, not the width
		{400, 300, 32, 200, 150, true},      // m = ceil(1024/300) = 4
		{401, 301, 32, 201, 151, true},      // odd sizes round up, as libjpeg's scaled size
		{1000, 128, 32, 0, 0, false},        // m = 8: the whole picture
		{28, 28, 32, 0, 0, false},           // smaller than the input
		{4000, 3000, 0, 0, 0, false},        // no model
	}
	for _, tc := range tests {
		dw, dh, ok := reducedJPEGSize(tc.w, tc.h, tc.size)
		if dw != tc.dw || dh != tc.dh || ok != tc.ok {
			t.Errorf("reducedJPEGSize(%d, %d, %d) = %d, %d, %v; want %d, %d, %v", tc.w, tc.h, tc.size, dw, dh, ok, tc.dw, tc.dh, tc.ok)
		}
		if ok && min(dw, dh) < reducedDecodeMargin*tc.size {
			t.Errorf("%dx%d for %d: %dx%d keeps fewer than %d pixels per input pixel", tc.w, tc.h, tc.size, dw, dh, reducedDecodeMargin)
		}
	}
}

func TestReducedBitmapSize(t *testing.T) {
	tests := []struct {
		w, h, size int
		dw, dh     int
		ok         bool
	}{
		{4000, 3000, 32, 683, 512, true},  // the shorter side becomes 16·32
		{3000, 4000, 32, 512, 683, true},  // turned upright: the same, swapped
		{3000, 2250, 32, 683, 512, true},  // 682.67 rounds up
		{1024, 5000, 32, 512, 2500, true}, // tall and narrow: the width decides
		{1023, 5000, 32, 0, 0, false},     // under twice the target: whole
		{4000, 3000, 224, 0, 0, false},    // a 224 model reads a 12 MP picture whole
		{4000, 3000, 0, 0, 0, false},      // no model
	}
	for _, tc := range tests {
		dw, dh, ok := reducedBitmapSize(tc.w, tc.h, tc.size)
		if dw != tc.dw || dh != tc.dh || ok != tc.ok {
			t.Errorf("reducedBitmapSize(%d, %d, %d) = %d, %d, %v; want %d, %d, %v", tc.w, tc.h, tc.size, dw, dh, ok, tc.dw, tc.dh, tc.ok)
		}
	}
}
