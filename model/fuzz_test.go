package model

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// fuzzMaxPixels is the pixel budget of the decode fuzzer: small, so a
// lying header cannot make one input slow, and a decoder that allocates
// past the budget stands out in the heap check below.
const fuzzMaxPixels = 1 << 20

// addImageSeeds adds every committed test image to the fuzz corpus.
func addImageSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(imagesDir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if filepath.Ext(p) == ".py" {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzDecodeImage: any bytes give an image within the pixel budget or an
// error naming the file, never a panic, and never an allocation far past
// what the budget allows (4 bytes a pixel as RGBA, 8 as RGBA64, plus the
// decoders' working memory).
func FuzzDecodeImage(f *testing.F) {
	addImageSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		img, err := decodeImageBytes(data, "fuzz.bin", fuzzMaxPixels)
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20+uint64(16*len(data)) {
			t.Fatalf("decoding %d bytes allocated %d MB", len(data), grew>>20)
		}
		if err != nil {
			if !bytes.HasPrefix([]byte(err.Error()), []byte("fuzz.bin: ")) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		b := img.Bounds()
		if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx()*b.Dy() > fuzzMaxPixels {
			t.Fatalf("decoded %v outside the budget", b)
		}
		// The image must be readable everywhere Preprocess reads it.
		x := Preprocess(img, 4, PreprocessTorch)
		if len(x) != 4*4*3 {
			t.Fatalf("Preprocess gave %d values", len(x))
		}
	})
}

// FuzzJPEGOrientation: any bytes give an orientation in 1..8, no panic.
func FuzzJPEGOrientation(f *testing.F) {
	addImageSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := JPEGOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
