package augment

import (
	"image"
	"math"
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
