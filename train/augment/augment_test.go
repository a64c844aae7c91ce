package augment

import (
	"image"
	"math"
	"strings"
	"testing"
)

func testImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := m.PixOffset(x, y)
			m.Pix[o], m.Pix[o+1], m.Pix[o+2], m.Pix[o+3] = uint8(10*x), uint8(10*y), uint8(3*x+5*y), 255
		}
	}
	return m
}

// TestExactGeometry checks draws whose result is known pixel by pixel.
func TestExactGeometry(t *testing.T) {
	const w, h = 5, 5
	src := testImage(w, h)
	at := func(m *image.NRGBA, x, y int) [3]uint8 {
		o := m.PixOffset(x, y)
		return [3]uint8{m.Pix[o], m.Pix[o+1], m.Pix[o+2]}
	}
	tests := []struct {
		name string
		d    Draw
		from func(x, y int) (int, int) // source pixel of output (x, y)
	}{
		{"identity", Identity, func(x, y int) (int, int) { return x, y }},
		{"flip", Draw{ZoomX: 1, ZoomY: 1, Brightness: 1, Flip: true}, func(x, y int) (int, int) { return w - 1 - x, y }},
		{"shift right 1, down 2", Draw{ZoomX: 1, ZoomY: 1, Brightness: 1, ShiftX: 1, ShiftY: 2},
			func(x, y int) (int, int) { return max(x-1, 0), max(y-2, 0) }},
		// Counter-clockwise by 90°: output (x,y) comes from source (w-1-y, x)... in image coordinates (y down)
		{"rotate 90", Draw{ZoomX: 1, ZoomY: 1, Brightness: 1, Angle: 90}, func(x, y int) (int, int) { return y, w - 1 - x }},
		{"zoom 2 keeps centre", Draw{ZoomX: 2, ZoomY: 2, Brightness: 1}, func(x, y int) (int, int) {
			if x != 2 || y != 2 {
				return -1, -1
			}
			return 2, 2
		}},
	}
	for _, tc := range tests {
		out := tc.d.Apply(src)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				sx, sy := tc.from(x, y)
				if sx < 0 {
					continue
				}
				if got, want := at(out, x, y), at(src, sx, sy); got != want {
					t.Errorf("%s: out(%d,%d)=%v, want src(%d,%d)=%v", tc.name, x, y, got, sx, sy, want)
				}
			}
		}
	}
}

func TestBrightness(t *testing.T) {
	src := testImage(4, 4)
	out := Draw{ZoomX: 1, ZoomY: 1, Brightness: 0.5}.Apply(src)
	for i := 0; i < len(src.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			want := uint8(math.Round(float64(src.Pix[i+c]) * 0.5))
			if out.Pix[i+c] != want {
				t.Fatalf("byte %d: %d, want %d", i+c, out.Pix[i+c], want)
			}
		}
	}
}

func TestSampleIsSeededAndInRange(t *testing.T) {
	p := Params{RotationRange: 20, WidthShift: 0.1, HeightShift: 0.2, ZoomRange: 0.15, HorizontalFlip: true, BrightnessRange: [2]float64{0.8, 1.2}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	a := p.Sample(RNG(1, "img.png", 0), 100, 50)
	b := p.Sample(RNG(1, "img.png", 0), 100, 50)
	c := p.Sample(RNG(1, "img.png", 1), 100, 50)
	if a != b {
		t.Fatal("same seed/key/copy gave different draws")
	}
	if a == c {
		t.Fatal("different copy gave the same draw")
	}
	flips := 0
	for i := 0; i < 2000; i++ {
		d := p.Sample(RNG(9, "k", i), 100, 50)
		if math.Abs(d.Angle) > 20 || math.Abs(d.ShiftX) > 10 || math.Abs(d.ShiftY) > 10 ||
			math.Abs(d.ZoomX-1) > 0.15 || math.Abs(d.ZoomY-1) > 0.15 || d.Brightness < 0.8 || d.Brightness > 1.2 {
			t.Fatalf("draw out of range: %+v", d)
		}
		if d.Flip {
			flips++
		}
	}
	if flips < 900 || flips > 1100 {
		t.Fatalf("%d flips in 2000 draws", flips)
	}
	bad := []Params{{RotationRange: -1}, {WidthShift: 1}, {ZoomRange: 1.5}, {BrightnessRange: [2]float64{1.2, 0.8}}}
	for _, p := range bad {
		if p.Validate() == nil {
			t.Errorf("%v accepted", p)
		}
	}
}

// TestRandomErasing checks random erasing against the paper's Algorithm 1:
// erased in about p of the draws (binomial, 4σ), rectangles inside the
// image with area fraction in [s_l, s_h] and aspect in [r_1, 1/r_1] up to
// the rounding of their sides, each side's whole range reached, the same
// draw for the same (seed, key, copy), the draws of the other changes
// untouched by it, and Apply filling exactly the rectangle.
func TestRandomErasing(t *testing.T) {
	const w, h, n = 28, 28, 4000
	for _, p := range []float64{0.25, 0.5, 1} {
		params := Params{HorizontalFlip: true, WidthShift: 0.1, Erase: p}
		if err := params.Validate(); err != nil {
			t.Fatal(err)
		}
		off := params
		off.Erase = 0
		erased := 0
		var minArea, maxArea, minAspect, maxAspect = math.Inf(1), 0.0, math.Inf(1), 0.0
		for i := range n {
			d := params.Sample(RNG(3, "img", i), w, h)
			if d != params.Sample(RNG(3, "img", i), w, h) {
				t.Fatal("same seed/key/copy gave different erasing")
			}
			without := off.Sample(RNG(3, "img", i), w, h)
			if without.Erased != (image.Rectangle{}) {
				t.Fatal("erasing off, a rectangle drawn")
			}
			if d.Flip != without.Flip || d.ShiftX != without.ShiftX {
				t.Fatalf("erasing changed the other draws: %+v vs %+v", d, without)
			}
			r := d.Erased
			if r.Empty() {
				continue
			}
			erased++
			if !r.In(image.Rect(0, 0, w, h)) || r.Dx() >= w || r.Dy() >= h {
				t.Fatalf("rectangle %v not strictly inside %dx%d", r, w, h)
			}
			// Rounding each side by ≤ 0.5 px bounds the area and aspect.
			ew, eh := float64(r.Dx()), float64(r.Dy())
			lo := (ew - 0.5) * (eh - 0.5) / (w * h)
			hi := (ew + 0.5) * (eh + 0.5) / (w * h)
			if hi < EraseAreaLo || lo > EraseAreaHi {
				t.Fatalf("rectangle %v: area fraction %.3f..%.3f outside [%g, %g]", r, lo, hi, EraseAreaLo, EraseAreaHi)
			}
			if (eh+0.5)/(ew-0.5) < EraseAspectLo || (eh-0.5)/(ew+0.5) > EraseAspectHi {
				t.Fatalf("rectangle %v: aspect %g outside [%g, %g]", r, eh/ew, EraseAspectLo, EraseAspectHi)
			}
			a := ew * eh / (w * h)
			minArea, maxArea = min(minArea, a), max(maxArea, a)
			minAspect, maxAspect = min(minAspect, eh/ew), max(maxAspect, eh/ew)
		}
		// At 28x28 every attempt fits unless a side reaches 28, which
		// needs area·aspect ≥ 27.5² px: rare, so the rate is p.
		mean, sd := p*n, math.Sqrt(p*(1-p)*n)
		if math.Abs(float64(erased)-mean) > 4*sd+1 {
			t.Errorf("p=%g: %d of %d draws erased, want %.0f ± %.0f", p, erased, n, mean, 4*sd)
		}
		if minArea > 0.04 || maxArea < 0.35 || minAspect > 0.4 || maxAspect < 2.5 {
			t.Errorf("p=%g: areas %.3f..%.3f, aspects %.2f..%.2f do not span the ranges", p, minArea, maxArea, minAspect, maxAspect)
		}
	}

	src := testImage(6, 5)
	d := Identity
	d.Erased = image.Rect(1, 2, 4, 4)
	out := d.Apply(src)
	plain := Identity.Apply(src)
	for y := 0; y < 5; y++ {
		for x := 0; x < 6; x++ {
			o := out.PixOffset(x, y)
			got := out.Pix[o : o+4]
			want := plain.Pix[o : o+4]
			if (image.Point{x, y}).In(d.Erased) {
				want = []byte{EraseFill, EraseFill, EraseFill, 255}
			}
			if string(got) != string(want) {
				t.Errorf("pixel (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}

	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if (Params{Erase: bad}).Validate() == nil {
			t.Errorf("erase probability %g accepted", bad)
		}
	}
	if s := (Params{HorizontalFlip: true}).String(); strings.Contains(s, "erase") {
		t.Errorf("String() without erasing mentions it: %s (cache keys of older runs would change)", s)
	}
}

// Flags names the flags that are on, in the train command's syntax.
func TestParamsFlags(t *testing.T) {
	for _, tc := range []struct {
		p    Params
		want string
	}{
		{Params{}, "none"},
		{Params{HorizontalFlip: true}, "-flip"},
		{Params{RotationRange: 20, WidthShift: 0.0625, HeightShift: 0.1, ZoomRange: 0.05, HorizontalFlip: true,
			BrightnessRange: [2]float64{0.8, 1.2}, Erase: 0.5},
			"-rotation 20 -width-shift 0.0625 -height-shift 0.1 -zoom 0.05 -flip -brightness 0.8,1.2 -erase 0.5"},
	} {
		if got := tc.p.Flags(); got != tc.want {
			t.Errorf("%+v: Flags() = %q, want %q", tc.p, got, tc.want)
		}
	}
}
