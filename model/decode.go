package model

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"

	// Decoders register themselves with package image. The set is the same
	// natively and under GOOS=js, so the browser accepts what the trainer does.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	"vggo/model/imagefile"
)

// MaxPixels is the largest image DecodeImage accepts, in pixels (50 MP).
// A decoded 50 MP image takes 200 MB as RGBA, which is about what a browser
// tab can spare; a phone camera's 12-48 MP photos fit.
const MaxPixels = 50_000_000

// formatNames maps package image's format names to the names people use.
var formatNames = map[string]string{
	"jpeg": "JPEG",
	"png":  "PNG",
	"gif":  "GIF",
	"webp": "WebP",
	"bmp":  "BMP",
	"tiff": "TIFF",
}

// DecodeImage reads one image file (JPEG, PNG, GIF, WebP, BMP or TIFF; a
// GIF gives its first frame) and returns it upright: a JPEG's EXIF
// orientation tag (1-8) is applied, so phone photos are not sideways.
//
// The input is read into memory once, at most imagefile.MaxBytes. The pixel
// count is read from the header with image.DecodeConfig and checked against
// MaxPixels before any pixel memory is allocated, so a small file whose
// header claims a huge image is refused cheaply.
//
// name is only used in error messages, which always start with it:
// "cat.jpg: not an image ...", "cat.jpg: corrupt JPEG: ...",
// "cat.jpg: image too large: 12000x9000 = 108 MP > 50 MP".
func DecodeImage(r io.Reader, name string) (image.Image, error) {
	data, err := readBounded(r, imagefile.MaxBytes+1)
	if err != nil {
		return nil, fmt.Errorf("%s: reading image: %w", name, err)
	}
	if len(data) > imagefile.MaxBytes {
		return nil, fmt.Errorf("%s: file too large: more than %d MB (the limit for an image is %d MB)",
			name, imagefile.MaxBytes>>20, imagefile.MaxBytes>>20)
	}
	return decodeImageBytes(data, name, MaxPixels)
}

// readBounded reads r to the end or to limit bytes, whichever comes first.
// When r reports its remaining length (bytes.Reader, strings.Reader: what
// the browser client passes) the buffer is allocated once at that size
// instead of growing step by step (about 3x the file allocated in all).
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok && l.Len() > 0 {
		// MinRead spare bytes: ReadFrom grows the buffer when it has less
		// free space than that, even if only EOF is left to read.
		buf.Grow(int(min(int64(l.Len()), limit)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit))
	return buf.Bytes(), err
}

// decodeImageBytes is DecodeImage on bytes already in memory, with the
// pixel budget as a parameter so fuzz tests can use a small one.
func decodeImageBytes(data []byte, name string, maxPixels int) (image.Image, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: not an image: the file is empty", name)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if errors.Is(err, image.ErrFormat) {
		if kind := isoMediaImageKind(data); kind != "" {
			return nil, fmt.Errorf("%s: unsupported image format %s (convert it to JPEG or PNG first)", name, kind)
		}
		return nil, fmt.Errorf("%s: not an image: unrecognised format (want JPEG, PNG, GIF, WebP, BMP or TIFF)", name)
	}
	pretty := formatNames[format]
	if pretty == "" {
		pretty = format
	}
	if err != nil {
		return nil, fmt.Errorf("%s: corrupt %s: %v", name, pretty, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s: corrupt %s: image size %dx%d", name, pretty, cfg.Width, cfg.Height)
	}
	// Compare in int64 via division so a lying header cannot overflow.
	if cfg.Width > maxPixels/cfg.Height {
		mp := float64(cfg.Width) * float64(cfg.Height) / 1e6
		return nil, fmt.Errorf("%s: image too large: %dx%d = %.0f MP > %g MP",
			name, cfg.Width, cfg.Height, mp, float64(maxPixels)/1e6)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: corrupt %s: %v", name, pretty, err)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("%s: corrupt %s: decoded image is empty", name, pretty)
	}
	if format == "jpeg" {
		img = applyOrientation(img, JPEGOrientation(data))
	}
	return img, nil
}

// isoMediaImageKind recognises the ISO base media file images that phones
// produce but no pure-Go decoder reads (HEIC/HEIF, iPhones' default, and
// AVIF), from the major brand of their leading "ftyp" box, so the error can
// say what the file is instead of "not an image". It returns "" otherwise.
func isoMediaImageKind(data []byte) string {
	if len(data) < 12 || string(data[4:8]) != "ftyp" {
		return ""
	}
	switch string(data[8:12]) {
	case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
		return "HEIC/HEIF"
	case "avif", "avis":
		return "AVIF"
	}
	return ""
}
