package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
)

// FashionMNISTClasses are the Fashion-MNIST label names, made safe as folder
// names; the index is the label.
var FashionMNISTClasses = []string{
	"0_tshirt_top", "1_trouser", "2_pullover", "3_dress", "4_coat",
	"5_sandal", "6_shirt", "7_sneaker", "8_bag", "9_ankle_boot",
}

// IDX is a decoded IDX file (the MNIST container format): an element type
// and a shape, with the data as bytes. Only unsigned-byte data (type 0x08)
// is accepted, which is what the MNIST-family files hold.
type IDX struct {
	Dims []int
	Data []byte
}

// maxIDXElements bounds the size an IDX header may announce (1 GiB), so a
// corrupt header cannot make ReadIDX allocate without limit.
const maxIDXElements = 1 << 30

// ReadIDX decodes an IDX file from r, transparently gunzipping it when it
// starts with the gzip magic. name is used in errors.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, fmt.Errorf("%s: reading IDX magic: %w", name, err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("%s: not an IDX file (magic %x)", name, magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("%s: IDX element type 0x%02x not supported (only unsigned bytes, 0x08)", name, magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("%s: IDX with %d dimensions not supported (1..4)", name, nd)
	}
	dims := make([]int, nd)
	total := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(br, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("%s: reading IDX dimension %d: %w", name, i, err)
		}
		if d == 0 || d > maxIDXElements || total*int(d) > maxIDXElements {
			return nil, fmt.Errorf("%s: IDX dimension %d is %d: size out of range", name, i, d)
		}
		dims[i] = int(d)
		total *= int(d)
	}
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, br, int64(total))
	if err != nil {
		return nil, fmt.Errorf("%s: IDX data truncated: %d of %d bytes: %w", name, n, total, err)
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}

// ReadIDXFile opens and decodes path (plain or gzipped).
func ReadIDXFile(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadIDX(f, path)
}

// ConvertIDX writes the images of an IDX image file (N×H×W) labelled by an
// IDX label file (N) as PNGs into outDir/<class>/<index>.png, using
// classNames for folder names. At most perClass images per class are written
// when perClass > 0 (the first ones in file order). It returns the number
// written per class.
func ConvertIDX(imagesPath, labelsPath, outDir string, classNames []string, perClass int) ([]int, error) {
	imgs, err := ReadIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(imgs.Dims) != 3 {
		return nil, fmt.Errorf("%s: images IDX has shape %v, want N×H×W", imagesPath, imgs.Dims)
	}
	if len(labels.Dims) != 1 || labels.Dims[0] != imgs.Dims[0] {
		return nil, fmt.Errorf("%s: labels IDX has shape %v, want [%d] to match %s", labelsPath, labels.Dims, imgs.Dims[0], imagesPath)
	}
	n, h, w := imgs.Dims[0], imgs.Dims[1], imgs.Dims[2]
	counts := make([]int, len(classNames))
	for i := 0; i < n; i++ {
		l := int(labels.Data[i])
		if l >= len(classNames) {
			return nil, fmt.Errorf("%s: label %d of image %d is out of range (%d class names)", labelsPath, l, i, len(classNames))
		}
		if perClass > 0 && counts[l] >= perClass {
			continue
		}
		p := filepath.Join(outDir, classNames[l], fmt.Sprintf("%05d.png", i))
		if err := writeGrayPNG(p, imgs.Data[i*h*w:(i+1)*h*w], w, h); err != nil {
			return nil, err
		}
		counts[l]++
	}
	return counts, nil
}

// writeGrayPNG writes w×h grey pixels (row-major) as a PNG at path, making
// its folder if needed.
func writeGrayPNG(path string, pix []uint8, w, h int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, &image.Gray{Pix: pix, Stride: w, Rect: image.Rect(0, 0, w, h)}); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
