package model

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"vggo/model/rank"
)

// fashionMNISTDir is where Debian's dataset-fashion-mnist installs the data.
const fashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// readIDXImages reads the first n images and labels of a Fashion-MNIST
// split ("train" or "t10k"), IDX format, gzipped or not.
func readIDXImages(t testing.TB, split string, n int) ([]*image.Gray, []int) {
	t.Helper()
	open := func(name string) io.Reader {
		for _, p := range []string{name + ".gz", name} {
			f, err := os.Open(filepath.Join(fashionMNISTDir, p))
			if err != nil {
				continue
			}
			t.Cleanup(func() { f.Close() })
			if filepath.Ext(p) == ".gz" {
				z, err := gzip.NewReader(f)
				if err != nil {
					t.Fatal(err)
				}
				return bufio.NewReader(z)
			}
			return bufio.NewReader(f)
		}
		t.Fatalf("%s: Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)", name, fashionMNISTDir)
		return nil
	}
	imgs := open(split + "-images-idx3-ubyte")
	var hdr [4]uint32
	if err := binary.Read(imgs, binary.BigEndian, &hdr); err != nil || hdr[0] != 0x803 || int(hdr[1]) < n {
		t.Fatalf("%s images: bad IDX header %v (%v)", split, hdr, err)
	}
	rows, cols := int(hdr[2]), int(hdr[3])
	out := make([]*image.Gray, n)
	for i := range out {
		g := image.NewGray(image.Rect(0, 0, cols, rows))
		if _, err := io.ReadFull(imgs, g.Pix); err != nil {
			t.Fatal(err)
		}
		out[i] = g
	}
	labs := open(split + "-labels-idx1-ubyte")
	var lh [2]uint32
	if err := binary.Read(labs, binary.BigEndian, &lh); err != nil || lh[0] != 0x801 || int(lh[1]) < n {
		t.Fatalf("%s labels: bad IDX header %v (%v)", split, lh, err)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(labs, raw); err != nil {
		t.Fatal(err)
	}
	labels := make([]int, n)
	for i, b := range raw {
		labels[i] = int(b)
	}
	return out, labels
}

// batchInput preprocesses images into one NHWC batch.
func batchInput(imgs []*image.Gray, size int, mode string) []float32 {
	per := size * size * 3
	x := make([]float32, len(imgs)*per)
	for i, img := range imgs {
		if err := PreprocessInto(x[i*per:(i+1)*per], img, size, mode); err != nil {
			panic(err)
		}
	}
	return x
}

// solveRidge solves (AᵀA + λI) W = AᵀY for W (d×k) by Gaussian elimination
// with partial pivoting; A is n×d, Y is n×k, both row-major.
func solveRidge(a []float64, n, d int, y []float64, k int, lambda float64) []float64 {
	m := make([]float64, d*(d+k)) // [AᵀA + λI | AᵀY]
	w := d + k
	for r := 0; r < n; r++ {
		ar, yr := a[r*d:(r+1)*d], y[r*k:(r+1)*k]
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				m[i*w+j] += ar[i] * ar[j]
			}
			for j := 0; j < k; j++ {
				m[i*w+d+j] += ar[i] * yr[j]
			}
		}
	}
	for i := 0; i < d; i++ {
		m[i*w+i] += lambda
	}
	for c := 0; c < d; c++ {
		p := c
		for r := c + 1; r < d; r++ {
			if math.Abs(m[r*w+c]) > math.Abs(m[p*w+c]) {
				p = r
			}
		}
		for j := 0; j < w; j++ {
			m[c*w+j], m[p*w+j] = m[p*w+j], m[c*w+j]
		}
		for r := 0; r < d; r++ {
			if r == c {
				continue
			}
			f := m[r*w+c] / m[c*w+c]
			for j := c; j < w; j++ {
				m[r*w+j] -= f * m[c*w+j]
			}
		}
	}
	out := make([]float64, d*k)
	for i := 0; i < d; i++ {
		for j := 0; j < k; j++ {
			out[i*k+j] = m[i*w+d+j] / m[i*w+i]
		}
	}
	return out
}

// quantCase is one classifier for the quantization agreement test: the
// Fashion-MNIST labels it keeps (class i of the model is label keep[i]).
type quantCase struct {
	name    string
	keep    []int
	minInt8 float64 // required int8 top-1 agreement with float32
	minAcc  float64 // required float32 accuracy: the classifier means something
}

// readIDXSubset returns the first n images of split whose labels are in
// keep, relabelled to their index in keep, reading at most limit images.
func readIDXSubset(t testing.TB, split string, keep []int, n, limit int) ([]*image.Gray, []int) {
	imgs, labels := readIDXImages(t, split, limit)
	index := map[int]int{}
	for i, l := range keep {
		index[l] = i
	}
	var outI []*image.Gray
	var outL []int
	for i, img := range imgs {
		if c, ok := index[labels[i]]; ok && len(outI) < n {
			outI = append(outI, img)
			outL = append(outL, c)
		}
	}
	if len(outI) < n {
		t.Fatalf("%s: only %d images with labels %v in the first %d", split, len(outI), keep, limit)
	}
	return outI, outL
}

// Quantized models against float32 on 300 real Fashion-MNIST test images.
//
// The model: the width/16 VGG16 of testdata/vgg16_div16.pth (random
// weights) at input 32 with a GAP head whose hidden Dense 32→256 ReLU is
// random and whose output Dense 256→n is fitted by ridge least squares to
// one-hot labels of 1000 training images. Without the fit, a random net's
// outputs are near ties and agreement would measure noise; with it the
// classifier is a real one, whose accuracy the test reports and bounds.
// Each model goes through WriteModelFile and ReadModelFile, so the file's
// own (de)quantization is what is tested.
//
// Measured (see the test log): int8 weights perturb every layer's
// activations by about 1.5-2 % rms, which does not grow with depth. On all
// 10 classes a random conv base separates the classes only weakly (about
// 55 % accuracy): about 9 % of the images lie within that noise of a
// decision boundary, and int8 agrees with float32 on about 91 % of them
// (float16: 100 %). On classes the random features do separate, int8
// agrees on 99.7 %; see quantCases.
//
// Issue 3's requirement (≥ 99 % agreement on all 10 classes) is checked on
// a trained model by train's TestTrainedInt8AgreesWithFloat32: a width/8
// VGG16 trained on real Fashion-MNIST, where int8 agrees with float32 on
// 99.7 % of 1,000 test images. The random-net checks here stay as a fast
// check of the file's (de)quantization and of the per-layer error.
func TestQuantizedModelsAgreeWithFloat32OnFashionMNIST(t *testing.T) {
	for _, qc := range quantCases {
		t.Run(qc.name, func(t *testing.T) { checkQuantCase(t, qc) })
	}
}

// quantCases: all 10 classes, where the random base is a weak classifier,
// and trouser vs bag, which its features separate (93 % accuracy). Measured
// when written (float32 accuracy / int8 agreement / float16 agreement):
//
//	all 10 classes                   55.0 % / 91.0 % / 100 %
//	trouser, bag                     93.3 % / 99.7 % / 100 %
//	trouser, sandal, bag, boot       83.7 % / 97.3 % / 99.7 %
//	T-shirt, trouser, sneaker, bag   86.7 % / 97.3 % / 100 %
//	sandal, sneaker, boot            76.3 % / 96.3 % / 100 %
//
// Agreement tracks how well the features separate the classes, not the
// quantization itself (the same 1.5-2 % activation error in every case).
// Only the first two run here, to keep the package's tests fast. The
// 10-class bound is 85 % because the base is random; the ≥ 99 % bound on
// 10 classes is train's TestTrainedInt8AgreesWithFloat32, on a trained base.
var quantCases = []quantCase{
	{name: "all 10 classes", keep: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, minInt8: 0.85, minAcc: 0.40},
	{name: "trouser vs bag", keep: []int{1, 8}, minInt8: 0.99, minAcc: 0.85},
}

func checkQuantCase(t *testing.T, qc quantCase) {
	const size, hidden = 32, 256
	const nTrain, nTest = 1000, 300
	classes := len(qc.keep)
	base := loadHWIOBase(t)
	feat, err := NewFeatureNet(base, size)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, 42))
	c := base.Arch.Channels()
	d1 := randomDenseParams(rng, c, hidden)

	// Fit the output layer on hidden activations of the training images.
	trainImgs, trainLabels := readIDXSubset(t, "train", qc.keep, nTrain, 10000)
	gap := feat.PooledFeatures(nTrain, batchInput(trainImgs, size, PreprocessCaffe))
	a := make([]float64, nTrain*(hidden+1)) // hidden activations and a 1 for the bias
	y := make([]float64, nTrain*classes)
	for i := 0; i < nTrain; i++ {
		row := a[i*(hidden+1) : (i+1)*(hidden+1)]
		for o := 0; o < hidden; o++ {
			s := float64(d1.Bias[o])
			for k := 0; k < c; k++ {
				s += float64(gap[i*c+k]) * float64(d1.Kernel[k*hidden+o])
			}
			row[o] = math.Max(s, 0)
		}
		row[hidden] = 1
		y[i*classes+trainLabels[i]] = 1
	}
	// A strong ridge (λ a tenth of the mean squared activation, times n):
	// the 256 hidden units are random ReLUs of only 32 features, so AᵀA is
	// nearly singular, and an unregularised fit leans on directions of tiny
	// variance that any weight rounding swamps.
	meanSq := 0.0
	for _, v := range a {
		meanSq += v * v
	}
	meanSq /= float64(len(a))
	w := solveRidge(a, nTrain, hidden+1, y, classes, 0.1*meanSq*nTrain)
	d2 := DenseParams{In: hidden, Out: classes, Kernel: make([]float32, hidden*classes), Bias: make([]float32, classes)}
	for i := range d2.Kernel {
		d2.Kernel[i] = float32(w[i] * 10) // ×10: sharper softmax, same argmax
	}
	for j := range d2.Bias {
		d2.Bias[j] = float32(w[hidden*classes+j] * 10)
	}
	names := make([]string, classes)
	for i, l := range qc.keep {
		names[i] = fmt.Sprint("label", l)
	}
	m := &Model{
		Info: Info{Arch: "vgg16", InputSize: size, WidthDiv: 16, Head: HeadGAP, Classes: names, Preprocess: PreprocessCaffe},
		Base: *base,
		Head: Head{Kind: HeadGAP, Dense: []DenseParams{d1, d2}},
	}

	dir := t.TempDir()
	nets := map[string]*Net{}
	for _, dtype := range []string{DTypeFloat32, DTypeFloat16, DTypeInt8} {
		path := filepath.Join(dir, dtype+".safetensors")
		if err := WriteModelFile(path, m, dtype); err != nil {
			t.Fatal(err)
		}
		read, err := ReadModelFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if nets[dtype], err = NewNet(read); err != nil {
			t.Fatal(err)
		}
	}

	testImgs, testLabels := readIDXSubset(t, "t10k", qc.keep, nTest, 10000)
	x := batchInput(testImgs, size, PreprocessCaffe)
	pf := nets[DTypeFloat32].Forward(nTest, x)
	correct := 0
	for i := 0; i < nTest; i++ {
		if rank.Best(pf[i*classes:(i+1)*classes]) == testLabels[i] {
			correct++
		}
	}
	t.Logf("float32 accuracy %d/%d = %.1f %% (chance %.0f %%)", correct, nTest, 100*float64(correct)/nTest, 100/float64(classes))
	if float64(correct) < qc.minAcc*nTest {
		t.Errorf("float32 accuracy %d/%d, want >= %.0f %%: the fitted classifier is not meaningful", correct, nTest, 100*qc.minAcc)
	}
	for _, q := range []struct {
		dtype    string
		minAgree float64
	}{{DTypeFloat16, 0.99}, {DTypeInt8, qc.minInt8}} {
		pq := nets[q.dtype].Forward(nTest, x)
		agree, correctQ := 0, 0
		for i := 0; i < nTest; i++ {
			aq := rank.Best(pq[i*classes : (i+1)*classes])
			if aq == rank.Best(pf[i*classes:(i+1)*classes]) {
				agree++
			}
			if aq == testLabels[i] {
				correctQ++
			}
		}
		t.Logf("%s: top-1 agreement with float32 %d/%d = %.1f %%, accuracy %.1f %%",
			q.dtype, agree, nTest, 100*float64(agree)/nTest, 100*float64(correctQ)/nTest)
		if float64(agree) < q.minAgree*nTest {
			t.Errorf("%s agrees with float32 on %d/%d images, want >= %.0f %%", q.dtype, agree, nTest, 100*q.minAgree)
		}
	}

	// The int8 error per layer, relative rms over the test images.
	q, err := ReadModelFile(filepath.Join(dir, DTypeInt8+".safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	featQ, err := NewFeatureNet(&q.Base, size)
	if err != nil {
		t.Fatal(err)
	}
	for _, layer := range []int{0, 4, 8, 12} {
		af, aq := feat.ForwardTo(nTest, x, layer), featQ.ForwardTo(nTest, x, layer)
		num, den := 0.0, 0.0
		for i := range af {
			d := float64(af[i] - aq[i])
			num += d * d
			den += float64(af[i]) * float64(af[i])
		}
		rel := math.Sqrt(num / den)
		t.Logf("int8: activation error after layer %d: %.2f %% rms", layer, 100*rel)
		if rel > 0.03 {
			t.Errorf("int8 activation error after layer %d is %.2f %% rms, want <= 3 %%", layer, 100*rel)
		}
	}
}

// An int8 model file is at most 26 % of the float32 one. At width/16 the
// file's fixed part (JSON header, float32 biases and scales) is a sizeable
// share, so the bound is checked at width/4 (0.9 M conv weights), where
// the weights dominate as they do at full width; width/16 is reported.
func TestInt8ModelFileSize(t *testing.T) {
	dir := t.TempDir()
	for _, div := range []int{16, 4} {
		m := randomNetModel(rand.New(rand.NewPCG(3, uint64(div))), div, 32, HeadGAP, 10)
		sizes := map[string]int64{}
		for _, dtype := range []string{DTypeFloat32, DTypeInt8} {
			path := filepath.Join(dir, fmt.Sprintf("div%d_%s.safetensors", div, dtype))
			if err := WriteModelFile(path, m, dtype); err != nil {
				t.Fatal(err)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			sizes[dtype] = st.Size()
		}
		ratio := float64(sizes[DTypeInt8]) / float64(sizes[DTypeFloat32])
		t.Logf("width/%d: int8 %d B, float32 %d B: %.1f %%", div, sizes[DTypeInt8], sizes[DTypeFloat32], 100*ratio)
		if div == 4 && ratio > 0.26 {
			t.Errorf("width/4: int8 file is %.1f %% of float32, want <= 26 %%", 100*ratio)
		}
	}
}
