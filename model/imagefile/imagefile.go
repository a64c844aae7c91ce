// Package imagefile holds the one size limit on image files and the one
// check of a file before it is read. The decoder in model, the browser's
// inference worker and its pages all apply them, so a file the page accepts
// is never refused for its size further on. It imports nothing of vggo, so
// the browser UI checks files without linking the decoder.
package imagefile

import (
	"fmt"
	"strings"
)

// MaxBytes is the largest encoded image file vggo reads. Real photos within
// model's pixel budget are far smaller; the bound keeps a hostile or mistaken
// input (a video, a disk image) from filling memory.
const MaxBytes = 64 << 20

// Check refuses a file before it is read: one that is empty, larger than
// MaxBytes, or whose media type (as a browser reports it; "" for unknown)
// is not an image. The error starts with name.
func Check(name string, size int64, mediaType string) error {
	switch {
	case size == 0:
		return fmt.Errorf("%s: file is empty", name)
	case size > MaxBytes:
		return fmt.Errorf("%s: file is %.1f MB, larger than the %d MB limit", name, float64(size)/(1<<20), MaxBytes>>20)
	case mediaType != "" && !strings.HasPrefix(mediaType, "image/"):
		return fmt.Errorf("%s: not an image (type %s)", name, mediaType)
	}
	return nil
}
