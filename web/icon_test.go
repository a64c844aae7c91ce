package web

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The app icon is drawn by code so that it can be regenerated and checked:
//
//	go test ./web -run TestIcons -update
//
// rewrites web/static/icon-192.png, icon-512.png and icon.svg; without
// -update the test fails when the committed files differ from the drawing.
var update = flag.Bool("update", false, "rewrite the generated icons in web/static")

// iconBars are the five VGG16 conv blocks drawn as stacked bars, top to
// bottom, in units of the icon side: x0, x1, y0, y1. The bars narrow as the
// network goes deeper (the spatial size halves at every pool).
var iconBars = [5][4]float64{
	{0.16, 0.84, 0.18, 0.28},
	{0.22, 0.78, 0.33, 0.43},
	{0.28, 0.72, 0.48, 0.58},
	{0.34, 0.66, 0.63, 0.73},
	{0.40, 0.60, 0.78, 0.86},
}

var (
	iconBackground = color.RGBA{0x1e, 0x29, 0x3b, 0xff} // slate
	iconBarTop     = color.RGBA{0xf9, 0x73, 0x16, 0xff} // orange
	iconBarBottom  = color.RGBA{0x14, 0xb8, 0xa6, 0xff} // teal
)

const iconCornerRadius = 0.18 // of the side

// iconColorAt returns the icon's colour at the point (x, y) in units of the
// side, or a transparent colour outside the rounded square.
func iconColorAt(x, y float64) color.RGBA {
	if !insideRoundedSquare(x, y, iconCornerRadius) {
		return color.RGBA{}
	}
	for i, b := range iconBars {
		if x >= b[0] && x < b[1] && y >= b[2] && y < b[3] {
			return mixRGBA(iconBarTop, iconBarBottom, float64(i)/float64(len(iconBars)-1))
		}
	}
	return iconBackground
}

func insideRoundedSquare(x, y, r float64) bool {
	if x < 0 || x >= 1 || y < 0 || y >= 1 {
		return false
	}
	cx := min(max(x, r), 1-r)
	cy := min(max(y, r), 1-r)
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= r*r
}

func mixRGBA(a, b color.RGBA, t float64) color.RGBA {
	m := func(p, q uint8) uint8 { return uint8(float64(p)*(1-t) + float64(q)*t + 0.5) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), m(a.A, b.A)}
}

// drawIcon renders the icon at size×size pixels, averaging 4×4 samples per
// pixel for anti-aliased edges. The result is non-premultiplied RGBA.
func drawIcon(size int) *image.NRGBA {
	const ss = 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := range size {
		for px := range size {
			var r, g, b, a float64
			for sy := range ss {
				for sx := range ss {
					x := (float64(px) + (float64(sx)+0.5)/ss) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/ss) / float64(size)
					c := iconColorAt(x, y)
					fa := float64(c.A)
					r += float64(c.R) * fa
					g += float64(c.G) * fa
					b += float64(c.B) * fa
					a += fa
				}
			}
			var c color.NRGBA
			if a > 0 {
				c = color.NRGBA{uint8(r/a + 0.5), uint8(g/a + 0.5), uint8(b/a + 0.5), uint8(a/(ss*ss) + 0.5)}
			}
			img.SetNRGBA(px, py, c)
		}
	}
	return img
}

// iconSVG is the same drawing as a scalable vector, for browsers that prefer
// an SVG favicon.
func iconSVG() string {
	const side = 512
	hex := func(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
	num := func(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }
	var b strings.Builder
	fmt.Fprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\">\n", side, side)
	fmt.Fprintf(&b, "<rect width=\"%d\" height=\"%d\" rx=\"%s\" fill=\"%s\"/>\n", side, side, num(iconCornerRadius*side), hex(iconBackground))
	for i, bar := range iconBars {
		c := mixRGBA(iconBarTop, iconBarBottom, float64(i)/float64(len(iconBars)-1))
		fmt.Fprintf(&b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"/>\n",
			num(bar[0]*side), num(bar[2]*side), num((bar[1]-bar[0])*side), num((bar[3]-bar[2])*side), hex(c))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func TestIcons(t *testing.T) {
	for _, size := range []int{192, 512} {
		name := fmt.Sprintf("static/icon-%d.png", size)
		want := drawIcon(size)
		if *update {
			var buf bytes.Buffer
			if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, want); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.FromSlash(name), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Compare decoded pixels, not bytes: the PNG encoder's output may
		// change between Go versions while the picture does not.
		data, err := FS.ReadFile(name)
		if *update {
			data, err = os.ReadFile(filepath.FromSlash(name))
		}
		if err != nil {
			t.Fatalf("%s: %v (run: go test ./web -run TestIcons -update)", name, err)
		}
		got, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Bounds() != want.Bounds() {
			t.Fatalf("%s: bounds %v, want %v", name, got.Bounds(), want.Bounds())
		}
		for y := range size {
			for x := range size {
				g := color.NRGBAModel.Convert(got.At(x, y)).(color.NRGBA)
				if w := want.NRGBAAt(x, y); g != w {
					t.Fatalf("%s: pixel (%d,%d) = %v, want %v (regenerate with -update)", name, x, y, g, w)
				}
			}
		}
	}

	svg := iconSVG()
	if *update {
		if err := os.WriteFile(filepath.FromSlash("static/icon.svg"), []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.FromSlash("static/icon.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != svg {
		t.Fatalf("static/icon.svg differs from the drawing (regenerate with -update)")
	}
}

// TestIconDrawing checks the drawing itself: corners are transparent (the
// square is rounded), the centre of the top bar is the top bar's colour and
// the background shows between bars.
func TestIconDrawing(t *testing.T) {
	img := drawIcon(192)
	cases := []struct {
		x, y int
		want color.NRGBA
	}{
		{0, 0, color.NRGBA{}},
		{191, 191, color.NRGBA{}},
		{96, 44, color.NRGBA(iconBarTop)},
		{96, 157, color.NRGBA(iconBarBottom)},
		{96, 58, color.NRGBA(iconBackground)},
	}
	for _, c := range cases {
		if got := img.NRGBAAt(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}
