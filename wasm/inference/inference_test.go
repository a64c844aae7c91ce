package inference

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vggo/model"
	"vggo/model/imagefile"
	"vggo/wasm/protocol"
)

// fashionClasses are the Fashion-MNIST class names, used for fixtures.
var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

const fixtureDescription = "random weights, Fashion-MNIST class names"

// writeFixture writes a random width/16 model at input size 32 and returns
// its path and bytes.
func writeFixture(t *testing.T, dtype string) (string, []byte) {
	t.Helper()
	m := RandomModel(32, 16, 7)
	m.Info.Classes = fashionClasses
	m.Info.Description = fixtureDescription
	path := filepath.Join(t.TempDir(), "fixture.vggo.safetensors")
	if err := model.WriteModelFile(path, m, dtype); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

// testImage is a 40x30 colour gradient PNG.
func testImage(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			img.Set(x, y, color.RGBA{uint8(6 * x), uint8(8 * y), uint8(255 - 3*x - 2*y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestClassifyMatchesNative checks that the worker's engine, fed the file's
// bytes, gives exactly what the native path gives (ReadModelFile, NewNet,
// DecodeImage, Classify): same preprocessing, same forward pass.
func TestClassifyMatchesNative(t *testing.T) {
	for _, dtype := range []string{"int8", "float32"} {
		t.Run(dtype, func(t *testing.T) {
			path, data := writeFixture(t, dtype)
			imgBytes := testImage(t)

			var e Engine
			loaded, err := e.Load(data, "fixture", model.ShardOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if loaded.InputSize != 32 || len(loaded.Classes) != 10 || loaded.Bytes != int64(len(data)) || loaded.Description != fixtureDescription {
				t.Fatalf("loaded = %+v", loaded)
			}
			res, err := e.Classify(imgBytes, "gradient.png")
			if err != nil {
				t.Fatal(err)
			}

			m, err := model.ReadModelFile(path)
			if err != nil {
				t.Fatal(err)
			}
			net, err := model.NewNet(m)
			if err != nil {
				t.Fatal(err)
			}
			img, err := model.DecodeImage(bytes.NewReader(imgBytes), "gradient.png")
			if err != nil {
				t.Fatal(err)
			}
			native := net.Classify(img)
			if len(res.Probs) != len(native) {
				t.Fatalf("%d probabilities, native gives %d", len(res.Probs), len(native))
			}
			var sum float64
			for _, p := range native {
				if got := res.Probs[p.Index]; got != p.Prob {
					t.Errorf("class %d (%s): worker %v, native %v", p.Index, p.Class, got, p.Prob)
				}
				sum += float64(p.Prob)
			}
			if math.Abs(sum-1) > 1e-4 {
				t.Errorf("probabilities sum to %v", sum)
			}
			if len(res.Top) != 5 || res.Top[0].Index != native[0].Index || res.Top[0].Class != native[0].Class {
				t.Errorf("top = %+v, native best = %+v", res.Top, native[0])
			}
			if res.Width != 40 || res.Height != 30 {
				t.Errorf("size %dx%d, want 40x30", res.Width, res.Height)
			}
			// The picture shown is the network input: InputImage of what
			// Preprocess gives for this image, at the model's input size.
			shown, err := png.Decode(bytes.NewReader(res.Input))
			if err != nil {
				t.Fatalf("result's input picture: %v", err)
			}
			want, _ := model.InputImage(model.Preprocess(img, 32, m.Info.Preprocess), 32, m.Info.Preprocess)
			if b := shown.Bounds(); b.Dx() != 32 || b.Dy() != 32 {
				t.Fatalf("input picture is %v, want 32x32", b)
			}
			for y := 0; y < 32; y++ {
				for x := 0; x < 32; x++ {
					if color.NRGBAModel.Convert(shown.At(x, y)) != color.Color(want.NRGBAAt(x, y)) {
						t.Fatalf("input picture pixel %d,%d is %v, want %v", x, y, shown.At(x, y), want.NRGBAAt(x, y))
					}
				}
			}
		})
	}
}

func TestCheckSHA256(t *testing.T) {
	data := []byte("model bytes")
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	if err := CheckSHA256(data, good, "m"); err != nil {
		t.Fatal(err)
	}
	err := CheckSHA256(data[:5], good, "m.safetensors")
	if err == nil || !strings.Contains(err.Error(), "m.safetensors") || !strings.Contains(err.Error(), "integrity") {
		t.Fatalf("truncated data: err = %v", err)
	}
}

func TestLoadAndClassifyErrors(t *testing.T) {
	_, data := writeFixture(t, "int8")
	var e Engine
	if _, err := e.Classify(testImage(t), "early.png"); err == nil || !strings.Contains(err.Error(), "no model") {
		t.Errorf("classify before load: err = %v", err)
	}
	// A truncated model file is refused and names the file.
	if _, err := e.Load(data[:len(data)/2], "half.vggo.safetensors", model.ShardOptions{}); err == nil || !strings.Contains(err.Error(), "half.vggo.safetensors") {
		t.Errorf("truncated model: err = %v", err)
	}
	if e.Ready() {
		t.Fatal("engine ready after a failed load")
	}
	if _, err := e.Load(data, "good", model.ShardOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"empty", "empty.png", nil, "empty"},
		{"text", "notes.txt", []byte("hello, this is not an image at all"), "notes.txt"},
		{"corrupt png", "broken.png", testImage(t)[:60], "broken.png"},
		{"oversized", "huge.jpg", make([]byte, imagefile.MaxBytes+1), "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.Classify(c.data, c.file)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
	// The engine still works after the errors.
	if _, err := e.Classify(testImage(t), "after.png"); err != nil {
		t.Fatal(err)
	}
}

func TestBench(t *testing.T) {
	var rows []protocol.BenchRow
	err := Bench(protocol.BenchRequest{Sizes: []int{32, 64}, WidthDiv: 16, Warmup: 1, Runs: 3}, func(r protocol.BenchRow) { rows = append(rows, r) })
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Size != 32 || rows[1].Size != 64 {
		t.Fatalf("rows = %+v", rows)
	}
	for _, r := range rows {
		if len(r.Millis) != 3 || r.MedianMillis <= 0 || r.MinMillis > r.MedianMillis {
			t.Errorf("row = %+v", r)
		}
	}
	if err := Bench(protocol.BenchRequest{Sizes: []int{16}}, func(protocol.BenchRow) {}); err == nil {
		t.Error("size 16 accepted")
	}
}

// TestRandomModelDependsOnInput guards the fixtures: with weights too small
// the activations vanish and every image gets the same probabilities, which
// would make the browser-vs-native comparisons meaningless.
func TestRandomModelDependsOnInput(t *testing.T) {
	net, err := model.NewNet(RandomModel(32, 16, 42))
	if err != nil {
		t.Fatal(err)
	}
	a := make([]float32, 32*32*3)
	b := make([]float32, 32*32*3)
	for i := range a {
		a[i] = float32(i%97) - 48
		b[i] = float32((i*7)%89) - 44
	}
	pa := append([]float32(nil), net.Forward(1, a)...)
	pb := net.Forward(1, b)
	diff := 0.0
	for i := range pa {
		diff = math.Max(diff, math.Abs(float64(pa[i]-pb[i])))
	}
	if diff < 0.01 {
		t.Fatalf("probabilities barely depend on the input (max difference %g): %v vs %v", diff, pa, pb)
	}
}

// TestClassifyReportsOOD: with the default model (which carries OOD
// statistics) a Fashion-MNIST sample is judged familiar and uniform noise
// unlike the training images; a model without statistics reports no ood.
func TestClassifyReportsOOD(t *testing.T) {
	data, err := os.ReadFile("../../web/models/fashion-mnist-vgg16.vggo.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	var e Engine
	if _, err := e.Load(data, "default", model.ShardOptions{}); err != nil {
		t.Fatal(err)
	}
	sample, err := os.ReadFile("../../web/static/samples/test-01001-dress.png")
	if err != nil {
		t.Fatal(err)
	}
	noise := image.NewRGBA(image.Rect(0, 0, 64, 64))
	rng := rand.New(rand.NewSource(1))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.Intn(256)) | uint8(255*(i%4/3))
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, noise); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		file    []byte
		flagged bool
	}{{"sample.png", sample, false}, {"noise.png", buf.Bytes(), true}} {
		res, err := e.Classify(tc.file, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		if res.OOD == nil || res.OOD.Flagged != tc.flagged || (res.OOD.Score > res.OOD.Threshold) != tc.flagged {
			t.Errorf("%s: ood %+v, want flagged %v", tc.name, res.OOD, tc.flagged)
		}
	}
	_, fixture := writeFixture(t, "int8")
	if _, err := e.Load(fixture, "fixture", model.ShardOptions{}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.Classify(sample, "sample.png"); err != nil || res.OOD != nil {
		t.Errorf("a model without OOD statistics: ood %+v, error %v; want nil", res.OOD, err)
	}
}

// The browser worker's path (the pixels model.ResizeSamples names, as a
// model.SampledImage) gives exactly the probabilities of the Go decoder's
// path on the same picture.
func TestClassifyImageSampledMatchesClassify(t *testing.T) {
	_, data := writeFixture(t, "int8")
	var e Engine
	if e.InputSize() != 0 {
		t.Fatalf("InputSize() = %d before a model is loaded", e.InputSize())
	}
	if _, err := e.ClassifyImage(image.NewNRGBA(image.Rect(0, 0, 1, 1)), "early.png", protocol.DecoderBrowser, 0); err == nil || !strings.Contains(err.Error(), "early.png: no model") {
		t.Fatalf("ClassifyImage before Load: %v", err)
	}
	if _, err := e.Load(data, "fixture", model.ShardOptions{}); err != nil {
		t.Fatal(err)
	}
	imgBytes := testImage(t)
	want, err := e.Classify(imgBytes, "gradient.png")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(imgBytes))
	if err != nil {
		t.Fatal(err)
	}
	xs, ys := model.ResizeSamples(40, 30, e.InputSize())
	var pix []byte
	for _, y := range ys {
		for _, x := range xs {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			pix = append(pix, c.R, c.G, c.B, c.A)
		}
	}
	sampled, err := model.NewSampledImage(40, 30, xs, ys, pix)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.ClassifyImage(sampled, "gradient.png", protocol.DecoderBrowser, 1.5)
	if err != nil {
		t.Fatal(err)
	}
	if got.Decoder != protocol.DecoderBrowser || got.DecodeMillis != 1.5 || want.Decoder != protocol.DecoderGo {
		t.Errorf("decoders %q (%v ms) and %q, want browser (1.5 ms) and go", got.Decoder, got.DecodeMillis, want.Decoder)
	}
	if got.Width != 40 || got.Height != 30 {
		t.Errorf("size %dx%d, want 40x30", got.Width, got.Height)
	}
	for i := range want.Probs {
		if got.Probs[i] != want.Probs[i] {
			t.Errorf("class %d: sampled %v, Go decoder %v", i, got.Probs[i], want.Probs[i])
		}
	}
}
