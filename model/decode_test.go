package model

import (
	"bytes"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"vggo/model/imagefile"
)

// imagesDir holds the committed test images (testdata/images/make_images.py).
var imagesDir = filepath.Join("..", "testdata", "images")

func readImageFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(imagesDir, name))
	if err != nil {
		t.Fatalf("test image missing (run testdata/images/make_images.py): %v", err)
	}
	return data
}

func decodeFile(t testing.TB, name string) image.Image {
	t.Helper()
	img, err := DecodeImage(bytes.NewReader(readImageFile(t, name)), name)
	if err != nil {
		t.Fatalf("DecodeImage(%s): %v", name, err)
	}
	return img
}

// Every lossless format decodes to exactly the pixels of the PNG.
func TestDecodeImageFormats(t *testing.T) {
	want := decodeFile(t, "formats.png")
	wantRead := rgbReader(want)
	for _, name := range []string{"formats.gif", "formats.webp", "formats.bmp", "formats.tiff"} {
		t.Run(name, func(t *testing.T) {
			got := decodeFile(t, name)
			if got.Bounds().Size() != want.Bounds().Size() {
				t.Fatalf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
			}
			read := rgbReader(got)
			gb, wb := got.Bounds(), want.Bounds()
			for y := 0; y < wb.Dy(); y++ {
				for x := 0; x < wb.Dx(); x++ {
					r, g, b := read(gb.Min.X+x, gb.Min.Y+y)
					wr, wg, wbl := wantRead(wb.Min.X+x, wb.Min.Y+y)
					if r != wr || g != wg || b != wbl {
						t.Fatalf("pixel (%d,%d) = %d,%d,%d, want %d,%d,%d", x, y, r, g, b, wr, wg, wbl)
					}
				}
			}
		})
	}
}

func TestDecodeImageGreyJPEG(t *testing.T) {
	img := decodeFile(t, "grey.jpg")
	if _, ok := img.(*image.Gray); !ok {
		t.Fatalf("grey JPEG decoded to %T, want *image.Gray", img)
	}
	if got := img.Bounds().Size(); got != image.Pt(40, 24) {
		t.Fatalf("size %v, want 40x24", got)
	}
}

// zeroBytes yields zero bytes forever.
type zeroBytes struct{}

func (zeroBytes) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestDecodeImageErrors(t *testing.T) {
	pngHeader := readImageFile(t, "huge_header.png")
	tests := []struct {
		name  string
		input io.Reader
		want  string // the whole message must contain this
	}{
		{"not_an_image.txt", bytes.NewReader(readImageFile(t, "not_an_image.txt")), "not_an_image.txt: not an image: unrecognised format"},
		{"empty.jpg", bytes.NewReader(nil), "empty.jpg: not an image: the file is empty"},
		{"corrupt.jpg", bytes.NewReader(readImageFile(t, "corrupt.jpg")), "corrupt.jpg: corrupt JPEG: "},
		{"huge_header.png", bytes.NewReader(pngHeader), "huge_header.png: image too large: 20000x20000 = 400 MP > 50 MP"},
		{"huge_header.jpg", bytes.NewReader(readImageFile(t, "huge_header.jpg")), "huge_header.jpg: image too large: 12000x9000 = 108 MP > 50 MP"},
		{"truncated.png", bytes.NewReader(pngHeader[:20]), "truncated.png: corrupt PNG: "},
		{"IMG_0001.HEIC", strings.NewReader("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), "IMG_0001.HEIC: unsupported image format HEIC/HEIF (convert it to JPEG or PNG first)"},
		{"photo.avif", strings.NewReader("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"), "photo.avif: unsupported image format AVIF"},
		{"clip.mp4", strings.NewReader("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), "clip.mp4: not an image: unrecognised format"},
		{"video.mp4", io.LimitReader(zeroBytes{}, imagefile.MaxBytes+1), "video.mp4: file too large: more than 64 MB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := DecodeImage(tc.input, tc.name)
			if err == nil {
				t.Fatalf("DecodeImage succeeded (%v), want error containing %q", img.Bounds(), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A file of exactly imagefile.MaxBytes is read (and then refused as not an
// image), not refused for its size.
func TestDecodeImageSizeLimitIsInclusive(t *testing.T) {
	_, err := DecodeImage(io.LimitReader(zeroBytes{}, imagefile.MaxBytes), "zeros.bin")
	if err == nil || !strings.Contains(err.Error(), "not an image") {
		t.Fatalf("error %v, want not an image", err)
	}
}

// The pixel budget is checked from the header: a header at the limit passes
// the check, one pixel more does not.
func TestDecodeImagePixelBudget(t *testing.T) {
	tests := []struct {
		w, h   int
		budget int
		ok     bool
	}{
		{100, 100, 10000, true},
		{101, 100, 10000, false},
		{1, 10001, 10000, false},
		{1 << 15, 1 << 15, MaxPixels, false},
	}
	for _, tc := range tests {
		data := pngHeaderOnly(tc.w, tc.h)
		_, err := decodeImageBytes(data, "x.png", tc.budget)
		tooLarge := err != nil && strings.Contains(err.Error(), "image too large")
		if tooLarge == tc.ok {
			t.Errorf("%dx%d with budget %d: error %v, want too large = %v", tc.w, tc.h, tc.budget, err, !tc.ok)
		}
	}
}

// Reading a file whose length the reader knows allocates it once, not the
// up-to-twice of a doubling buffer; the limit still applies.
func TestReadBoundedAllocatesOnce(t *testing.T) {
	const n = 10 << 20
	src := make([]byte, n)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	data, err := readBounded(bytes.NewReader(src), imagefile.MaxBytes+1)
	runtime.ReadMemStats(&after)
	if err != nil || len(data) != n {
		t.Fatalf("read %d bytes, err %v", len(data), err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > n+64<<10 {
		t.Errorf("reading %d bytes allocated %d", n, grew)
	}
	data, err = readBounded(bytes.NewReader(src), 1000)
	if err != nil || len(data) != 1000 {
		t.Errorf("limit 1000: read %d bytes, err %v", len(data), err)
	}
}
