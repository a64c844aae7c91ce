package model

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
)

// The orient_N.jpg files store upright.png turned the other way, with EXIF
// orientation N; decoded, every one must show upright.png again.
func TestDecodeImageAppliesEXIFOrientation(t *testing.T) {
	quadrants := []struct {
		x, y int
		want color.NRGBA
	}{
		{16, 8, color.NRGBA{255, 0, 0, 255}},
		{48, 8, color.NRGBA{0, 255, 0, 255}},
		{16, 24, color.NRGBA{0, 0, 255, 255}},
		{48, 24, color.NRGBA{255, 255, 0, 255}},
	}
	names := []string{"orient_6_be.jpg"}
	for o := 1; o <= 8; o++ {
		names = append(names, fmt.Sprintf("orient_%d.jpg", o))
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			img := decodeFile(t, name)
			b := img.Bounds()
			if b.Dx() != 64 || b.Dy() != 32 {
				t.Fatalf("size %dx%d, want 64x32 (upright)", b.Dx(), b.Dy())
			}
			read := rgbReader(img)
			for _, q := range quadrants {
				r, g, bl := read(b.Min.X+q.x, b.Min.Y+q.y)
				if absDiff(r, q.want.R) > 8 || absDiff(g, q.want.G) > 8 || absDiff(bl, q.want.B) > 8 {
					t.Errorf("pixel (%d,%d) = %d,%d,%d, want about %d,%d,%d", q.x, q.y, r, g, bl, q.want.R, q.want.G, q.want.B)
				}
			}
		})
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// exifBlock builds an APP1 Exif payload ("Exif\0\0" + TIFF) whose IFD0
// holds the given 12-byte entries.
func exifBlock(order binary.ByteOrder, entries ...[12]byte) []byte {
	var b bytes.Buffer
	b.WriteString("Exif\x00\x00")
	if order == binary.LittleEndian {
		b.WriteString("II*\x00")
	} else {
		b.WriteString("MM\x00*")
	}
	binary.Write(&b, order, uint32(8))
	binary.Write(&b, order, uint16(len(entries)))
	for _, e := range entries {
		b.Write(e[:])
	}
	binary.Write(&b, order, uint32(0))
	return b.Bytes()
}

func ifdEntry(order binary.ByteOrder, tag, typ uint16, count uint32, value uint16) [12]byte {
	var e [12]byte
	order.PutUint16(e[0:], tag)
	order.PutUint16(e[2:], typ)
	order.PutUint32(e[4:], count)
	order.PutUint16(e[8:], value)
	return e
}

// segment returns a JPEG marker segment: FF marker, length, payload.
func jpegSegment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(s[2:], uint16(len(payload)+2))
	return append(s, payload...)
}

func TestJPEGOrientation(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	soi := []byte{0xFF, 0xD8}
	sos := jpegSegment(0xDA, []byte{1, 1, 0, 0, 63, 0})
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	orient := func(order binary.ByteOrder, o uint16) []byte {
		return jpegSegment(0xE1, exifBlock(order, ifdEntry(order, 0x0112, 3, 1, o)))
	}
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"empty", nil, 1},
		{"not JPEG", []byte("\x89PNG\r\n\x1a\n"), 1},
		{"no EXIF", join(soi, jpegSegment(0xE0, []byte("JFIF\x00\x01\x02")), sos), 1},
		{"little-endian 6", join(soi, orient(le, 6), sos), 6},
		{"big-endian 8", join(soi, orient(be, 8), sos), 8},
		{"after JFIF and fill bytes", join(soi, jpegSegment(0xE0, []byte("JFIF\x00")), []byte{0xFF, 0xFF}, orient(le, 3), sos), 3},
		{"second entry", join(soi, jpegSegment(0xE1, exifBlock(le, ifdEntry(le, 0x010F, 2, 4, 0), ifdEntry(le, 0x0112, 3, 1, 5))), sos), 5},
		{"after SOS ignored", join(soi, sos, orient(le, 6)), 1},
		{"value 0", join(soi, orient(le, 0), sos), 1},
		{"value 9", join(soi, orient(le, 9), sos), 1},
		{"wrong type LONG", join(soi, jpegSegment(0xE1, exifBlock(le, ifdEntry(le, 0x0112, 4, 1, 6))), sos), 1},
		{"count 2", join(soi, jpegSegment(0xE1, exifBlock(le, ifdEntry(le, 0x0112, 3, 2, 6))), sos), 1},
		{"XMP APP1 skipped", join(soi, jpegSegment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00")), orient(be, 7), sos), 7},
		{"bad TIFF magic", join(soi, jpegSegment(0xE1, []byte("Exif\x00\x00XX*\x00\x08\x00\x00\x00")), sos), 1},
		{"segment longer than file", join(soi, []byte{0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'}), 1},
		{"IFD offset past end", join(soi, jpegSegment(0xE1, []byte("Exif\x00\x00II*\x00\xff\xff\x00\x00")), sos), 1},
		{"entry count past end", join(soi, jpegSegment(0xE1, []byte("Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff")), sos), 1},
	}
	for _, tc := range tests {
		if got := JPEGOrientation(tc.data); got != tc.want {
			t.Errorf("%s: orientation %d, want %d", tc.name, got, tc.want)
		}
	}
}

// A JPEG written by Go with an EXIF block spliced in after SOI decodes
// upright through DecodeImage, for both byte orders.
func TestDecodeImageSplicedEXIF(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 32, 16)) // left half white, right half black
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			src.SetNRGBA(x, y, color.NRGBA{255, 255, 255, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		app1 := jpegSegment(0xE1, exifBlock(order, ifdEntry(order, 0x0112, 3, 1, 6)))
		data := append(append([]byte{0xFF, 0xD8}, app1...), buf.Bytes()[2:]...)
		img, err := DecodeImage(bytes.NewReader(data), "spliced.jpg")
		if err != nil {
			t.Fatal(err)
		}
		// Rotated 90° clockwise: 16 wide, 32 high, white on top.
		if b := img.Bounds(); b.Dx() != 16 || b.Dy() != 32 {
			t.Fatalf("%v: size %v, want 16x32", order, b.Size())
		}
		read := rgbReader(img)
		if r, _, _ := read(8, 8); r < 240 {
			t.Errorf("%v: top is %d, want white", order, r)
		}
		if r, _, _ := read(8, 24); r > 15 {
			t.Errorf("%v: bottom is %d, want black", order, r)
		}
	}
}

// applyOrientation on a 3x2 image with distinct pixels, against the
// definitions written out by hand (pixel value = 10*row + column + 1).
func TestApplyOrientation(t *testing.T) {
	// Stored:  1  2  3
	//         11 12 13
	want := map[int][][]uint8{
		1: {{1, 2, 3}, {11, 12, 13}},
		2: {{3, 2, 1}, {13, 12, 11}},
		3: {{13, 12, 11}, {3, 2, 1}},
		4: {{11, 12, 13}, {1, 2, 3}},
		5: {{1, 11}, {2, 12}, {3, 13}},
		6: {{11, 1}, {12, 2}, {13, 3}},
		7: {{13, 3}, {12, 2}, {11, 1}},
		8: {{3, 13}, {2, 12}, {1, 11}},
	}
	gray := image.NewGray(image.Rect(5, 7, 8, 9)) // a non-zero origin
	rgba := image.NewRGBA(image.Rect(-2, 1, 1, 3))
	for y := 0; y < 2; y++ {
		for x := 0; x < 3; x++ {
			v := uint8(10*y + x + 1)
			gray.SetGray(5+x, 7+y, color.Gray{v})
			rgba.SetRGBA(-2+x, 1+y, color.RGBA{v, 100, 200 - v, 255})
		}
	}
	for o := 1; o <= 8; o++ {
		for _, src := range []image.Image{gray, rgba} {
			got := applyOrientation(src, o)
			b := got.Bounds()
			rows := want[o]
			if b.Dy() != len(rows) || b.Dx() != len(rows[0]) {
				t.Fatalf("orientation %d, %T: size %v, want %dx%d", o, src, b.Size(), len(rows[0]), len(rows))
			}
			if got.ColorModel() != src.ColorModel() {
				t.Errorf("orientation %d: colour model changed", o)
			}
			read := rgbReader(got)
			for y, row := range rows {
				for x, v := range row {
					r, g, bl := read(b.Min.X+x, b.Min.Y+y)
					wg, wb := v, v
					if _, isGray := src.(*image.Gray); !isGray {
						wg, wb = 100, 200-v
					}
					if r != v || g != wg || bl != wb {
						t.Errorf("orientation %d, %T: (%d,%d) = %d,%d,%d, want %d,%d,%d", o, src, x, y, r, g, bl, v, wg, wb)
					}
					// At gives the same colour as the direct reader.
					c := color.NRGBAModel.Convert(got.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
					if c.R != r || c.G != g || c.B != bl {
						t.Errorf("orientation %d, %T: At(%d,%d) = %v, reader %d,%d,%d", o, src, x, y, c, r, g, bl)
					}
				}
			}
		}
	}
}

// The transposing orientations 5-8 swap width and height; 1-4 and values
// outside 1-8 (treated as upright) keep them.
func TestOrientedSize(t *testing.T) {
	for o := 0; o <= 9; o++ {
		w, h := OrientedSize(o, 400, 300)
		want := [2]int{400, 300}
		if o >= 5 && o <= 8 {
			want = [2]int{300, 400}
		}
		if [2]int{w, h} != want {
			t.Errorf("OrientedSize(%d, 400, 300) = %d, %d; want %v", o, w, h, want)
		}
	}
}
