package model

import (
	"encoding/binary"
	"image"
	"image/color"
)

// EXIF orientation handling.
//
// A camera stores the pixels the way the sensor read them and records in
// the EXIF tag 0x0112 (Orientation) how to turn them for display:
//
//	1 as stored          5 transpose (mirror along the main diagonal)
//	2 mirror left-right  6 rotate 90° clockwise
//	3 rotate 180°        7 transverse (mirror along the anti-diagonal)
//	4 mirror top-bottom  8 rotate 90° counter-clockwise
//
// These are the same operations as PIL's ImageOps.exif_transpose.

// JPEGOrientation returns the EXIF orientation (1..8) of a JPEG file, or 1
// when the file has no EXIF block, no orientation tag, or a damaged one: a
// bad tag is not a reason to refuse a photo whose pixels decode fine.
//
// It walks the JPEG marker segments up to the first scan (SOS) looking for
// an APP1 segment that starts with "Exif\x00\x00", then reads IFD0 of the
// TIFF structure inside. Every offset is bounds-checked against the segment,
// so the file's first bytes up to its first scan are enough (the browser
// worker reads the orientation from a file's head).
func JPEGOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	pos := 2
	for pos+4 <= len(data) {
		if data[pos] != 0xFF {
			return 1 // lost sync: not a marker where one must be
		}
		marker := data[pos+1]
		switch {
		case marker == 0xFF: // fill byte before a marker
			pos++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			pos += 2 // markers without a length field
			continue
		case marker == 0xD9 || marker == 0xDA: // end of image, start of scan
			return 1
		}
		length := int(binary.BigEndian.Uint16(data[pos+2:]))
		if length < 2 || pos+2+length > len(data) {
			return 1
		}
		segment := data[pos+4 : pos+2+length]
		if marker == 0xE1 && len(segment) >= 6 && string(segment[:6]) == "Exif\x00\x00" {
			if o := tiffOrientation(segment[6:]); o != 0 {
				return o
			}
		}
		pos += 2 + length
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure (the body
// of an EXIF block). It returns 0 when the tag is missing or invalid.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var order binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return 0
	}
	ifd := order.Uint32(t[4:])
	if ifd < 8 || uint64(ifd)+2 > uint64(len(t)) {
		return 0
	}
	n := int(order.Uint16(t[ifd:]))
	entries := t[ifd+2:]
	if n > len(entries)/12 {
		n = len(entries) / 12 // a truncated directory: read what is there
	}
	for i := 0; i < n; i++ {
		e := entries[12*i : 12*i+12]
		tag, typ, count := order.Uint16(e), order.Uint16(e[2:]), order.Uint32(e[4:])
		if tag != 0x0112 {
			continue
		}
		if typ != 3 || count != 1 { // must be one SHORT, stored inline
			return 0
		}
		o := int(order.Uint16(e[8:]))
		if o < 1 || o > 8 {
			return 0
		}
		return o
	}
	return 0
}

// applyOrientation returns img turned upright according to EXIF
// orientation o. For o == 1 (or an unknown value) it returns img itself;
// otherwise a view of img (*orientedImage) that maps every pixel read to
// the stored pixel it shows. No pixels are copied: a 48 MP phone photo
// would otherwise need another 190 MB just to be turned, while Preprocess
// reads only four source pixels per output pixel.
func applyOrientation(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	m := &orientedImage{src: img, orientation: o, min: b.Min, w: b.Dx(), h: b.Dy()}
	sw, sh := OrientedSize(o, m.w, m.h)
	m.bounds = image.Rect(0, 0, sw, sh)
	return m
}

// OrientedSize is the size a w×h stored picture is shown at under EXIF
// orientation o: the transposing orientations (5-8) swap width and height.
func OrientedSize(o, w, h int) (int, int) {
	if o >= 5 && o <= 8 {
		return h, w
	}
	return w, h
}

// orientedImage is an image shown through one of the EXIF orientations.
// Its bounds start at (0, 0).
type orientedImage struct {
	src         image.Image
	orientation int         // 2..8
	min         image.Point // src.Bounds().Min
	w, h        int         // src's size as stored
	bounds      image.Rectangle
}

func (m *orientedImage) ColorModel() color.Model { return m.src.ColorModel() }

func (m *orientedImage) Bounds() image.Rectangle { return m.bounds }

func (m *orientedImage) At(x, y int) color.Color {
	if !image.Pt(x, y).In(m.bounds) {
		return color.NRGBA{}
	}
	sx, sy := m.source(x, y)
	return m.src.At(sx, sy)
}

// source maps an upright pixel (x, y) to the stored pixel it shows, in
// src's coordinates.
func (m *orientedImage) source(x, y int) (int, int) {
	sx, sy := StoredPixel(m.orientation, m.w, m.h, x, y)
	return m.min.X + sx, m.min.Y + sy
}

// StoredPixel maps pixel (x, y) of an image as shown upright to the pixel
// it shows of the image as stored (w×h, EXIF orientation o; 1 or unknown
// values: unchanged). The browser worker uses it to fetch only the stored
// pixels the resize of the upright image reads.
func StoredPixel(o, w, h, x, y int) (sx, sy int) {
	switch o {
	case 2: // mirror left-right
		return w - 1 - x, y
	case 3: // rotate 180°
		return w - 1 - x, h - 1 - y
	case 4: // mirror top-bottom
		return x, h - 1 - y
	case 5: // transpose
		return y, x
	case 6: // rotate 90° clockwise
		return y, h - 1 - x
	case 7: // transverse
		return w - 1 - y, h - 1 - x
	case 8: // rotate 90° counter-clockwise
		return w - 1 - y, x
	}
	return x, y
}
