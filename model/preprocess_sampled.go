package model

import (
	"fmt"
	"image"
	"image/color"
	"slices"
)

// Where Preprocess enlarges an axis it reads two source pixels per output
// pixel on it (where it shrinks one, every pixel), so a caller that
// decodes elsewhere (the browser worker) need not hand over every pixel of
// a tall narrow image, or of one it decoded at a reduced scale:
// ResizeSamples says which columns and rows the resize reads, the caller
// gathers those pixels, and NewSampledImage wraps them in an image that
// Preprocess turns into exactly the input it would compute from the full
// image.

// ResizeSamples returns the source columns xs and rows ys, ascending and
// without repeats, that Preprocess reads when it resizes a w×h image to
// size×size: at most 2·size along an axis that is enlarged, all of them
// along one that is shrunk.
func ResizeSamples(w, h, size int) (xs, ys []int) {
	return tapIndices(resizeTaps(w, size)), tapIndices(resizeTaps(h, size))
}

func tapIndices(taps []resizeTap) []int {
	var idx []int
	for _, t := range taps {
		idx = append(idx, t.idx...)
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// SampledImage is a w×h image of which only the pixels at the crossings of
// some columns and rows are known: enough for Preprocess when they are the
// ones ResizeSamples names. Other pixels read as transparent black.
type SampledImage struct {
	w, h   int
	col    []int32 // col[x]: index of column x in the samples, -1 when absent
	row    []int32
	stride int    // 4 * number of columns
	pix    []byte // non-premultiplied RGBA, row by row
	opaque bool
}

// NewSampledImage wraps pix, the non-premultiplied RGBA pixels (4 bytes
// each) at every crossing of columns xs and rows ys of a w×h image, row by
// row: len(pix) = 4·len(xs)·len(ys). xs and ys must be ascending and inside
// the image.
func NewSampledImage(w, h int, xs, ys []int, pix []byte) (*SampledImage, error) {
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("sampled image: size %dx%d", w, h)
	}
	col, err := sampleIndex(w, xs, "column")
	if err != nil {
		return nil, err
	}
	row, err := sampleIndex(h, ys, "row")
	if err != nil {
		return nil, err
	}
	if len(pix) != 4*len(xs)*len(ys) {
		return nil, fmt.Errorf("sampled image: %d bytes of pixels, want 4x%dx%d = %d", len(pix), len(xs), len(ys), 4*len(xs)*len(ys))
	}
	m := &SampledImage{w: w, h: h, col: col, row: row, stride: 4 * len(xs), pix: pix, opaque: true}
	for i := 3; i < len(pix); i += 4 {
		if pix[i] != 0xff {
			m.opaque = false
			break
		}
	}
	return m, nil
}

// sampleIndex maps each of n coordinates to its position in idx, or -1.
func sampleIndex(n int, idx []int, what string) ([]int32, error) {
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = -1
	}
	for i, v := range idx {
		if v < 0 || v >= n || (i > 0 && v <= idx[i-1]) {
			return nil, fmt.Errorf("sampled image: %s %d (index %d) outside 0..%d or not ascending", what, v, i, n-1)
		}
		pos[v] = int32(i)
	}
	return pos, nil
}

// ColorModel is color.NRGBAModel: the samples are not premultiplied.
func (m *SampledImage) ColorModel() color.Model { return color.NRGBAModel }

// Bounds is the full image, (0,0)-(w,h).
func (m *SampledImage) Bounds() image.Rectangle { return image.Rect(0, 0, m.w, m.h) }

// At returns the sample at (x, y), or transparent black where there is none.
func (m *SampledImage) At(x, y int) color.Color {
	if !image.Pt(x, y).In(m.Bounds()) || m.col[x] < 0 || m.row[y] < 0 {
		return color.NRGBA{}
	}
	p := m.pix[m.offset(x, y):]
	return color.NRGBA{R: p[0], G: p[1], B: p[2], A: p[3]}
}

// Opaque reports whether every sample has alpha 255.
func (m *SampledImage) Opaque() bool { return m.opaque }

func (m *SampledImage) offset(x, y int) int {
	return int(m.row[y])*m.stride + 4*int(m.col[x])
}
