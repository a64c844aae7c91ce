// Package augment perturbs training images the way Keras'
// ImageDataGenerator does: a random rotation, shift, zoom, horizontal flip
// and brightness change, drawn per image from a seeded generator so that a
// given (seed, image, copy) always yields the same picture.
//
// Geometry is one affine map applied with bilinear sampling; points that
// fall outside the source take the nearest edge pixel (Keras' default
// fill_mode="nearest").
package augment

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"math/rand/v2"
	"strings"
)

// Params are the ranges of the random transformations, with Keras' meanings.
type Params struct {
	RotationRange   float64    // degrees; angle uniform in [-r, r]
	WidthShift      float64    // fraction of width; shift uniform in [-s, s]·W
	HeightShift     float64    // fraction of height
	ZoomRange       float64    // scale uniform in [1-z, 1+z] (per axis, as Keras)
	HorizontalFlip  bool       // flip with probability 1/2
	BrightnessRange [2]float64 // multiply pixel values by a factor uniform in [lo, hi]; zero value = off

	// Erase is random erasing's probability (Zhong et al., "Random Erasing
	// Data Augmentation", AAAI 2020): with this probability a rectangle of
	// EraseArea of the image's area and aspect ratio (h/w) in EraseAspect
	// is filled with EraseFill; 0 = off. Omitted from JSON when off, so
	// fingerprints of runs without it are unchanged.
	Erase float64 `json:",omitempty"`
}

// Random erasing's settings, the paper's defaults (Sec. 3.1 and its
// reference implementation zhunzhong07/Random-Erasing): area fraction s_l =
// 0.02 to s_h = 0.4, aspect r_1 = 0.3 to 1/r_1, at most 100 attempts to
// fit the rectangle inside the image, and the fill that implementation uses
// for Fashion-MNIST, the constant 0.4914 of the pixel range (125 of 255).
const (
	EraseAreaLo   = 0.02
	EraseAreaHi   = 0.4
	EraseAspectLo = 0.3
	EraseAspectHi = 1 / 0.3
	EraseAttempts = 100
	EraseFill     = 125
)

// Enabled reports whether p changes images at all.
func (p Params) Enabled() bool {
	return p.RotationRange != 0 || p.WidthShift != 0 || p.HeightShift != 0 || p.ZoomRange != 0 ||
		p.HorizontalFlip || p.BrightnessRange != [2]float64{} || p.Erase != 0
}

// String is a canonical description, used in feature-cache keys.
func (p Params) String() string {
	s := fmt.Sprintf("rot=%g,ws=%g,hs=%g,zoom=%g,flip=%t,bright=%g-%g",
		p.RotationRange, p.WidthShift, p.HeightShift, p.ZoomRange, p.HorizontalFlip, p.BrightnessRange[0], p.BrightnessRange[1])
	if p.Erase != 0 { // only when on: cache keys of runs without erasing are unchanged
		s += fmt.Sprintf(",erase=%g", p.Erase)
	}
	return s
}

// Flags describes p for people, as the train command's flags that set it
// ("-flip -width-shift 0.0625"), leaving out what is off; "none" when
// nothing is on.
func (p Params) Flags() string {
	var f []string
	add := func(on bool, format string, v ...any) {
		if on {
			f = append(f, fmt.Sprintf(format, v...))
		}
	}
	add(p.RotationRange != 0, "-rotation %g", p.RotationRange)
	add(p.WidthShift != 0, "-width-shift %g", p.WidthShift)
	add(p.HeightShift != 0, "-height-shift %g", p.HeightShift)
	add(p.ZoomRange != 0, "-zoom %g", p.ZoomRange)
	add(p.HorizontalFlip, "-flip")
	add(p.BrightnessRange != [2]float64{}, "-brightness %g,%g", p.BrightnessRange[0], p.BrightnessRange[1])
	add(p.Erase != 0, "-erase %g", p.Erase)
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, " ")
}

// Validate checks the ranges.
func (p Params) Validate() error {
	switch {
	case p.RotationRange < 0 || p.RotationRange > 180:
		return fmt.Errorf("rotation range %g: want 0..180 degrees", p.RotationRange)
	case p.WidthShift < 0 || p.WidthShift >= 1 || p.HeightShift < 0 || p.HeightShift >= 1:
		return fmt.Errorf("shift ranges %g/%g: want fractions in [0, 1)", p.WidthShift, p.HeightShift)
	case p.ZoomRange < 0 || p.ZoomRange >= 1:
		return fmt.Errorf("zoom range %g: want [0, 1)", p.ZoomRange)
	case p.BrightnessRange != [2]float64{} && (p.BrightnessRange[0] <= 0 || p.BrightnessRange[1] < p.BrightnessRange[0]):
		return fmt.Errorf("brightness range %g..%g: want 0 < lo ≤ hi", p.BrightnessRange[0], p.BrightnessRange[1])
	case !(p.Erase >= 0 && p.Erase <= 1):
		return fmt.Errorf("erase probability %g: want 0..1", p.Erase)
	}
	return nil
}

// Draw is one concrete transformation.
type Draw struct {
	Angle          float64 // degrees, counter-clockwise
	ShiftX, ShiftY float64 // pixels
	ZoomX, ZoomY   float64 // output coordinates are divided by zoom: > 1 enlarges
	Flip           bool
	Brightness     float64 // 1 = unchanged
	// Erased is the rectangle (output pixels) filled with EraseFill after
	// the other changes; empty = none.
	Erased image.Rectangle
}

// Identity is the draw that changes nothing.
var Identity = Draw{ZoomX: 1, ZoomY: 1, Brightness: 1}

// RNG returns the generator for one (seed, image key, copy) triple; the
// same triple always gives the same stream, independent of the order in
// which images are processed.
func RNG(seed uint64, key string, copy int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(key))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(copy))
	h.Write(b[:])
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Sample draws a transformation for a w×h image.
func (p Params) Sample(rng *rand.Rand, w, h int) Draw {
	u := func(r float64) float64 { return (2*rng.Float64() - 1) * r }
	d := Identity
	d.Angle = u(p.RotationRange)
	d.ShiftX = u(p.WidthShift) * float64(w)
	d.ShiftY = u(p.HeightShift) * float64(h)
	if p.ZoomRange > 0 {
		d.ZoomX = 1 + u(p.ZoomRange)
		d.ZoomY = 1 + u(p.ZoomRange)
	}
	if p.HorizontalFlip {
		d.Flip = rng.Float64() < 0.5
	}
	if p.BrightnessRange != [2]float64{} {
		lo, hi := p.BrightnessRange[0], p.BrightnessRange[1]
		d.Brightness = lo + rng.Float64()*(hi-lo)
	}
	// Drawn last, so that the draws above are those of runs without it.
	if p.Erase > 0 && rng.Float64() < p.Erase {
		d.Erased = sampleErase(rng, w, h)
	}
	return d
}

// sampleErase is the paper's Algorithm 1: draw an area fraction and an
// aspect ratio, and a top-left corner where the rectangle fits; give up
// (erase nothing) after EraseAttempts rectangles that do not fit.
func sampleErase(rng *rand.Rand, w, h int) image.Rectangle {
	for range EraseAttempts {
		area := (EraseAreaLo + rng.Float64()*(EraseAreaHi-EraseAreaLo)) * float64(w*h)
		aspect := EraseAspectLo + rng.Float64()*(EraseAspectHi-EraseAspectLo)
		eh := int(math.Round(math.Sqrt(area * aspect)))
		ew := int(math.Round(math.Sqrt(area / aspect)))
		if ew < 1 || eh < 1 || ew >= w || eh >= h {
			continue
		}
		x := rng.IntN(w - ew + 1)
		y := rng.IntN(h - eh + 1)
		return image.Rect(x, y, x+ew, y+eh)
	}
	return image.Rectangle{}
}

// Apply returns src transformed by d, same size as src. For each output
// pixel (x, y), relative to the image centre, the source point is
// R(-angle)·(x/zx, y/zy) − shift, then mirrored when Flip is set.
func (d Draw) Apply(src image.Image) *image.NRGBA {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	// Read the source once into float RGB rows.
	pix := make([]float32, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bb, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := 3 * (y*w + x)
			pix[i], pix[i+1], pix[i+2] = float32(r>>8), float32(g>>8), float32(bb>>8)
		}
	}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	cx, cy := float64(w-1)/2, float64(h-1)/2
	th := d.Angle * math.Pi / 180
	cos, sin := math.Cos(th), math.Sin(th)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			ox, oy := float64(x)-cx, float64(y)-cy
			// Inverse map: output → source.
			ux, uy := ox/d.ZoomX, oy/d.ZoomY
			sx := cos*ux + sin*uy - d.ShiftX
			sy := -sin*ux + cos*uy - d.ShiftY
			if d.Flip {
				sx = -sx
			}
			r, g, bl := bilinear(pix, w, h, sx+cx, sy+cy)
			o := out.PixOffset(x, y)
			out.Pix[o+0] = clamp8(r * d.Brightness)
			out.Pix[o+1] = clamp8(g * d.Brightness)
			out.Pix[o+2] = clamp8(bl * d.Brightness)
			out.Pix[o+3] = 255
			if (image.Point{x, y}).In(d.Erased) {
				out.Pix[o+0], out.Pix[o+1], out.Pix[o+2] = EraseFill, EraseFill, EraseFill
			}
		}
	}
	return out
}

// bilinear samples pix (w×h RGB) at (x, y), clamping to the edge.
func bilinear(pix []float32, w, h int, x, y float64) (r, g, b float64) {
	x = math.Max(0, math.Min(float64(w-1), x))
	y = math.Max(0, math.Min(float64(h-1), y))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := x-float64(x0), y-float64(y0)
	at := func(xx, yy, c int) float64 { return float64(pix[3*(yy*w+xx)+c]) }
	var v [3]float64
	for c := 0; c < 3; c++ {
		top := at(x0, y0, c)*(1-fx) + at(x1, y0, c)*fx
		bot := at(x0, y1, c)*(1-fx) + at(x1, y1, c)*fx
		v[c] = top*(1-fy) + bot*fy
	}
	return v[0], v[1], v[2]
}

func clamp8(v float64) uint8 {
	v = math.Round(v)
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
