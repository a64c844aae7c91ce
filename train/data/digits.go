package data

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DigitsCSV is where Debian's python3-sklearn installs scikit-learn's
// handwritten digits: 1,797 images of 8x8 pixels, 10 classes.
const DigitsCSV = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

// DigitsClasses are the folder names ConvertDigits writes, in label order.
var DigitsClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// Digits is scikit-learn's digits data: Pix holds 64 grey levels (0..255,
// scaled from the file's 0..16) per image, row-major 8x8.
type Digits struct {
	Pix    [][64]uint8
	Labels []int
}

// ReadDigitsCSV parses the digits CSV (optionally gzip-compressed, detected
// by its magic bytes): one image a line, 64 pixel values 0..16 then the
// label 0..9. Errors name the file and the line.
func ReadDigitsCSV(r io.Reader, name string) (*Digits, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	d := &Digits{}
	sc := bufio.NewScanner(br)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		if len(fields) != 65 {
			return nil, fmt.Errorf("%s:%d: %d values, want 64 pixels and a label", name, line, len(fields))
		}
		var img [64]uint8
		for i, f := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || v != math.Trunc(v) {
				return nil, fmt.Errorf("%s:%d: value %d is %q, want a whole number", name, line, i+1, f)
			}
			if i == 64 {
				if v < 0 || v > 9 {
					return nil, fmt.Errorf("%s:%d: label %v, want 0..9", name, line, v)
				}
				d.Labels = append(d.Labels, int(v))
				break
			}
			if v < 0 || v > 16 {
				return nil, fmt.Errorf("%s:%d: pixel %d is %v, want 0..16", name, line, i+1, v)
			}
			img[i] = uint8((v*255 + 8) / 16)
		}
		d.Pix = append(d.Pix, img)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(d.Pix) == 0 {
		return nil, fmt.Errorf("%s: no images", name)
	}
	return d, nil
}

// ConvertDigits writes the digits CSV at csvPath as 8x8 grey PNGs into
// outDir/train/<digit>/ and outDir/test/<digit>/, the layout fit reads.
// The test split is stratified and fixed by seed: testPerClass images of
// each class, drawn at random; the rest are training images. It returns the
// number written per class for each split.
func ConvertDigits(csvPath, outDir string, testPerClass int, seed uint64) (train, test []int, err error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	d, err := ReadDigitsCSV(f, csvPath)
	if err != nil {
		return nil, nil, err
	}
	byClass := make([][]int, len(DigitsClasses))
	for i, l := range d.Labels {
		byClass[l] = append(byClass[l], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0xd161))
	train, test = make([]int, len(DigitsClasses)), make([]int, len(DigitsClasses))
	for c, idx := range byClass {
		if len(idx) <= testPerClass {
			return nil, nil, fmt.Errorf("%s: class %s has %d images, too few for %d test images and any training image", csvPath, DigitsClasses[c], len(idx), testPerClass)
		}
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for k, i := range idx {
			split, counts := "train", train
			if k < testPerClass {
				split, counts = "test", test
			}
			path := filepath.Join(outDir, split, DigitsClasses[c], fmt.Sprintf("%04d.png", i))
			if err := writeGrayPNG(path, d.Pix[i][:], 8, 8); err != nil {
				return nil, nil, err
			}
			counts[c]++
		}
	}
	return train, test, nil
}
