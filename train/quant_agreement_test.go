package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"vggo/model"
	"vggo/model/rank"
)

// TestTrainedInt8AgreesWithFloat32 is issue 3's requirement measured on a
// trained model: a width/8 VGG16 at 32x32, trained end to end (all 13 conv
// layers and the GAP head, from a He start, seed 1) on 800 real
// Fashion-MNIST training images of all 10 classes (200 more for
// validation), exported as float32 by the trainer and written again as
// int8 from the same weights, then run through model.NewNet on the first
// 100 test images of each class (1,000 images of t10k, none seen in
// training). int8 must give the same top-1 as float32 on ≥ 99 % of them,
// and its file must be ≤ 26 % of the float32 one.
//
// Measured when written (2 busy cores, ~35 s): 997/1000 = 99.7 %
// agreement, float32 accuracy 74.2 % (int8 74.1 %); with seeds 3 and 4,
// 99.6 % both (accuracy 76.5 % and 76.4 %). The int8 weights perturb
// activations by 0.5-1.5 % rms (largest in blocks 2-3, 0.65 % after the
// last conv), and each of the 3 images that flip is a near tie in float32:
// its two top classes are within 0.015 of probability (e.g. 0.347 vs
// 0.342). model/'s random-base net agrees only on ~91 % of 10-class images
// because a random base leaves many images that close to a decision
// boundary; a trained one pushes most of them away.
//
// Size: at width/8 the int8 file is 25.8 % of float32 (biases, scales and
// the JSON header are float32 or text, and at this width they add ~0.8
// points over the weights' 25 %); model/'s TestInt8ModelFileSize checks
// the same bound at width/4, and TestModelFileSizeFullWidth (model/) at
// full width.
func TestTrainedInt8AgreesWithFloat32(t *testing.T) {
	const src = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(src); err != nil {
		t.Fatal("dataset-fashion-mnist is not installed (scripts/deps.sh installs it: apt-get install dataset-fashion-mnist)")
	}
	if testing.Short() {
		t.Skip("trains a 10-class model (~35 s); skipped with -short")
	}
	start := time.Now()
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	const trainPerClass, testPerClass = 100, 100
	var errOut bytes.Buffer
	if code := run([]string{"convert-idx", "-in", src, "-out", dataDir, "-per-class", strconv.Itoa(trainPerClass),
		"-test-per-class", strconv.Itoa(testPerClass)}, io.Discard, &errOut); code != 0 {
		t.Fatalf("convert-idx: exit %d: %s", code, errOut.String())
	}

	// Train: smallFit's settings (width/8, 32x32, adam 1e-3, batch 16,
	// seed 1), but every conv layer trains: a random frozen base is the
	// weak classifier this test is meant to get away from. Early stopping
	// is off; the best validation epoch is exported.
	c := smallFit(dataDir, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 10)
	c.FineTune, c.Export = model.ConvLayers, model.DTypeFloat32
	c.OOD.PerClass = 0 // the file size ratio below is about the weights alone
	var log bytes.Buffer
	res, err := fit(context.Background(), c, &log, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	trained := time.Since(start)

	// The same trained weights as float32 (the trainer's file) and int8.
	f32Path, i8Path := res.ModelPath, filepath.Join(dir, "int8.safetensors")
	m, err := model.ReadModelFile(f32Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := model.WriteModelFile(i8Path, m, model.DTypeInt8); err != nil {
		t.Fatal(err)
	}
	nets := map[string]*model.Net{}
	for dtype, path := range map[string]string{model.DTypeFloat32: f32Path, model.DTypeInt8: i8Path} {
		mm, err := model.ReadModelFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if mm.Info.DType != dtype {
			t.Fatalf("%s: weights %s, want %s", path, mm.Info.DType, dtype)
		}
		if nets[dtype], err = model.NewNet(mm); err != nil {
			t.Fatal(err)
		}
	}

	// The test images, decoded and preprocessed as `classify` does.
	var x []float32
	var labels []int
	for ci, name := range m.Info.Classes {
		files, err := imageFiles([]string{filepath.Join(dataDir, "test", name)})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			fh, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			img, err := model.DecodeImage(fh, f)
			fh.Close()
			if err != nil {
				t.Fatal(err)
			}
			x = append(x, model.Preprocess(img, m.Info.InputSize, m.Info.Preprocess)...)
			labels = append(labels, ci)
		}
	}
	n, k := len(labels), len(m.Info.Classes)
	if k != 10 || n != 10*testPerClass {
		t.Fatalf("%d classes, %d test images", k, n)
	}
	pf := nets[model.DTypeFloat32].Forward(n, x)
	pq := nets[model.DTypeInt8].Forward(n, x)
	agree, correctF, correctQ := 0, 0, 0
	for i := 0; i < n; i++ {
		f, q := pf[i*k:(i+1)*k], pq[i*k:(i+1)*k]
		af, aq := rank.Best(f), rank.Best(q)
		if af == aq {
			agree++
		} else {
			t.Logf("flip: test image %d (%s): float32 says %s p=%.3f, int8 says %s (float32 p=%.3f, int8 p=%.3f)",
				i, m.Info.Classes[labels[i]], m.Info.Classes[af], f[af], m.Info.Classes[aq], f[aq], q[aq])
		}
		if af == labels[i] {
			correctF++
		}
		if aq == labels[i] {
			correctQ++
		}
	}
	pct := func(a int) float64 { return 100 * float64(a) / float64(n) }
	t.Logf("%d test images, 10 classes: int8 top-1 agrees with float32 on %d = %.1f %%; accuracy float32 %.1f %%, int8 %.1f %% (training took %.1fs)",
		n, agree, pct(agree), pct(correctF), pct(correctQ), trained.Seconds())
	if float64(correctF) < 0.6*float64(n) {
		t.Errorf("float32 accuracy %.1f %%, want ≥ 60 %% (chance 10 %%): the model is not trained enough for the agreement to mean much\n%s",
			pct(correctF), log.String())
	}
	if float64(agree) < 0.99*float64(n) {
		t.Errorf("int8 agrees with float32 on %d/%d = %.1f %% of the test images, want ≥ 99 %%", agree, n, pct(agree))
	}

	// Where the int8 error comes from: activations after some conv
	// layers, relative rms over the test images.
	for _, layer := range []int{0, 4, 8, 12} {
		af := nets[model.DTypeFloat32].ForwardTo(n, x, layer)
		aq := nets[model.DTypeInt8].ForwardTo(n, x, layer)
		num, den := 0.0, 0.0
		for i := range af {
			d := float64(af[i] - aq[i])
			num += d * d
			den += float64(af[i]) * float64(af[i])
		}
		t.Logf("int8 activation error after conv layer %d: %.2f %% rms", layer+1, 100*math.Sqrt(num/den))
	}

	sizes := map[string]int64{}
	for dtype, path := range map[string]string{model.DTypeFloat32: f32Path, model.DTypeInt8: i8Path} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes[dtype] = st.Size()
	}
	ratio := float64(sizes[model.DTypeInt8]) / float64(sizes[model.DTypeFloat32])
	t.Logf("model files at width/8: float32 %d B, int8 %d B = %.1f %% (total %.1fs)",
		sizes[model.DTypeFloat32], sizes[model.DTypeInt8], 100*ratio, time.Since(start).Seconds())
	if ratio > 0.26 {
		t.Errorf("int8 file is %.1f %% of the float32 one, want ≤ 26 %%", 100*ratio)
	}
}
