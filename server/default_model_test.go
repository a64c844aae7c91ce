package main

import (
	"bytes"
	"image"
	"image/png"
	"io/fs"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"testing"

	"vggo/model"
	"vggo/model/rank"
	"vggo/train/data"
	"vggo/wasm/ui"
	"vggo/web"
)

// The default model the binary embeds (scripts/default-model.sh writes it)
// and its model card.
const (
	defaultModelFile = "fashion-mnist-vgg16.vggo.safetensors"
	defaultModelPath = "../web/models/" + defaultModelFile
	modelCardPath    = "../docs/model-card.md"
	maxDefaultModel  = 16 << 20 // the committed file must stay ≤ 16 MB

	fashionTestImages = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
	fashionTestLabels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"

	// subsetSize is the fixed accuracy subset: test images [0, subsetSize).
	subsetSize = 1000
	// subsetTolerance is how far (percentage points) the measured subset
	// accuracy may be from the card's figure.
	subsetTolerance = 0.5
)

// card holds the figures docs/model-card.md states.
type card struct {
	sha256         string
	bytes          int64
	subsetAccuracy float64 // percent
}

var (
	cardSHA    = regexp.MustCompile("SHA-256: `([0-9a-f]{64})`")
	cardBytes  = regexp.MustCompile(`File size: ([0-9]+) bytes`)
	cardSubset = regexp.MustCompile(`1,000-image subset[^*\n]*\*\*([0-9.]+) %\*\*`)
)

func readCard(t *testing.T) card {
	t.Helper()
	text, err := os.ReadFile(modelCardPath)
	if err != nil {
		t.Fatal(err)
	}
	var c card
	find := func(re *regexp.Regexp, what string) string {
		m := re.FindSubmatch(text)
		if m == nil {
			t.Fatalf("%s: no %s (pattern %s)", modelCardPath, what, re)
		}
		return string(m[1])
	}
	c.sha256 = find(cardSHA, "SHA-256 line")
	if c.bytes, err = strconv.ParseInt(find(cardBytes, "file size line"), 10, 64); err != nil {
		t.Fatal(err)
	}
	if c.subsetAccuracy, err = strconv.ParseFloat(find(cardSubset, "1,000-image subset accuracy"), 64); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDefaultModelMetadata checks what the embedded default model says about
// itself: a full-width VGG16 with the gap head, 32x32 torch-preprocessed
// input, int8 weights, Fashion-MNIST's ten classes in label order, within
// the size budget, and that the binary embeds exactly this file.
func TestDefaultModelMetadata(t *testing.T) {
	info, err := model.ReadInfo(defaultModelPath)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"arch", info.Arch, "vgg16"},
		{"width divisor", info.WidthDiv, 1},
		{"head", info.Head, model.HeadGAP},
		{"input size", info.InputSize, 32},
		{"preprocessing", info.Preprocess, model.PreprocessTorch},
		{"weights", info.DType, model.DTypeInt8},
		{"class count", len(info.Classes), len(fashionMNISTClasses)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
		}
	}
	for i := range min(len(info.Classes), len(fashionMNISTClasses)) {
		if info.Classes[i] != fashionMNISTClasses[i] {
			t.Errorf("class %d: %q, want %q", i, info.Classes[i], fashionMNISTClasses[i])
		}
	}
	if info.Bytes > maxDefaultModel {
		t.Errorf("%s is %d bytes, over the %d budget", defaultModelPath, info.Bytes, maxDefaultModel)
	}
	embedded, err := fs.ReadFile(web.FS, "models/"+defaultModelFile)
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile(defaultModelPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(embedded, onDisk) {
		t.Errorf("web.FS embeds a different %s than the one on disk", defaultModelFile)
	}
}

// TestDefaultModelMatchesCard checks the card's SHA-256 and size against the
// committed file, so the card cannot describe another model.
func TestDefaultModelMatchesCard(t *testing.T) {
	c := readCard(t)
	info, err := model.ReadInfo(defaultModelPath)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := model.FileSHA256(defaultModelPath)
	if err != nil {
		t.Fatal(err)
	}
	if sum != c.sha256 {
		t.Errorf("%s has SHA-256 %s, the card says %s", defaultModelPath, sum, c.sha256)
	}
	if info.Bytes != c.bytes {
		t.Errorf("%s is %d bytes, the card says %d", defaultModelPath, info.Bytes, c.bytes)
	}
}

// loadDefaultModel reads the committed default model and builds its
// network.
func loadDefaultModel(t *testing.T) (*model.Model, *model.Net) {
	t.Helper()
	m, err := model.ReadModelFile(defaultModelPath)
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, net
}

// fashionTestSet reads the first n Fashion-MNIST test images and labels
// (Debian's dataset-fashion-mnist, installed by scripts/deps.sh).
func fashionTestSet(t *testing.T, n int) ([]*image.Gray, []int) {
	t.Helper()
	imgs, err := data.ReadIDXFile(fashionTestImages)
	if err != nil {
		t.Fatalf("Fashion-MNIST test images (apt package dataset-fashion-mnist): %v", err)
	}
	labs, err := data.ReadIDXFile(fashionTestLabels)
	if err != nil {
		t.Fatalf("Fashion-MNIST test labels (apt package dataset-fashion-mnist): %v", err)
	}
	if len(imgs.Dims) != 3 || len(labs.Dims) != 1 || imgs.Dims[0] < n || labs.Dims[0] < n {
		t.Fatalf("Fashion-MNIST test set: shapes %v and %v, want at least %d images and labels", imgs.Dims, labs.Dims, n)
	}
	h, w := imgs.Dims[1], imgs.Dims[2]
	images := make([]*image.Gray, n)
	labels := make([]int, n)
	for i := range n {
		g := image.NewGray(image.Rect(0, 0, w, h))
		copy(g.Pix, imgs.Data[i*h*w:(i+1)*h*w])
		images[i], labels[i] = g, int(labs.Data[i])
	}
	return images, labels
}

// TestDefaultModelSubsetAccuracy runs the committed int8 model natively on
// the fixed subset (the first 1,000 test images, never trained on) and
// checks the accuracy is within subsetTolerance of the card's figure.
func TestDefaultModelSubsetAccuracy(t *testing.T) {
	c := readCard(t)
	m, net := loadDefaultModel(t)
	images, labels := fashionTestSet(t, subsetSize)
	const batch = 50
	size, classes := net.InputSize(), len(m.Info.Classes)
	per := size * size * 3
	x := make([]float32, batch*per)
	correct := 0
	for start := 0; start < subsetSize; start += batch {
		b := min(batch, subsetSize-start)
		for i := range b {
			if err := model.PreprocessInto(x[i*per:(i+1)*per], images[start+i], size, net.PreprocessMode()); err != nil {
				t.Fatal(err)
			}
		}
		probs := net.Forward(b, x[:b*per])
		for i := range b {
			if top := rank.TopK(probs[i*classes:(i+1)*classes], m.Info.Classes, 1); top[0].Index == labels[start+i] {
				correct++
			}
		}
	}
	got := 100 * float64(correct) / subsetSize
	t.Logf("accuracy on test images [0,%d): %d/%d = %.2f %% (card: %.2f %%)", subsetSize, correct, subsetSize, got, c.subsetAccuracy)
	if diff := got - c.subsetAccuracy; diff > subsetTolerance || diff < -subsetTolerance {
		t.Errorf("subset accuracy %.2f %%, the card says %.2f %% (tolerance %.1f pp)", got, c.subsetAccuracy, subsetTolerance)
	}
}

// TestSamplesClassifyAsLabelled checks every sample image the page offers
// (ui.Samples): the server hands it out at its URL, it is exactly the
// Fashion-MNIST TEST image at its TestIndex with that label, and the
// committed default model classifies it natively as its class.
func TestSamplesClassifyAsLabelled(t *testing.T) {
	if len(ui.Samples) == 0 {
		t.Fatal("ui.Samples is empty")
	}
	_, net := loadDefaultModel(t)
	last := 0
	for _, s := range ui.Samples {
		last = max(last, s.TestIndex+1)
	}
	images, labels := fashionTestSet(t, last)
	h := newHandler(config{WebFS: web.FS})
	for _, s := range ui.Samples {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", s.URL(), nil))
		if ct := rec.Header().Get("Content-Type"); rec.Code != 200 || ct != "image/png" {
			t.Errorf("GET %s: status %d, Content-Type %q; want 200 image/png", s.URL(), rec.Code, ct)
		}
		raw, err := fs.ReadFile(web.FS, "static/samples/"+s.File)
		if err != nil {
			t.Errorf("sample %s is not embedded: %v", s.File, err)
			continue
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Errorf("sample %s: %v", s.File, err)
			continue
		}
		g, ok := img.(*image.Gray)
		if !ok || !bytes.Equal(g.Pix, images[s.TestIndex].Pix) || g.Rect != images[s.TestIndex].Rect {
			t.Errorf("sample %s is not test image %d", s.File, s.TestIndex)
		}
		if want := fashionMNISTClasses[labels[s.TestIndex]]; s.Class != want {
			t.Errorf("sample %s: listed as %q, test label is %q", s.File, s.Class, want)
		}
		preds, err := model.ClassifyImage(net, bytes.NewReader(raw), s.File)
		if err != nil {
			t.Errorf("sample %s: %v", s.File, err)
			continue
		}
		if preds[0].Class != s.Class {
			t.Errorf("sample %s: classified as %s (%.3f), want %s", s.File, preds[0].Class, preds[0].Prob, s.Class)
		}
	}
}
