package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vggo/model"
	"vggo/train/report"
)

// TestMain lets the test binary act as the train command: with
// VGGO_TRAIN_AS_COMMAND=1 it runs main's dispatcher on its arguments.
// The resume tests start it as a subprocess and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("VGGO_TRAIN_AS_COMMAND") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

const fixture = "../testdata/train/fmnist4"

// copyTree copies the fixture so tests can add files to it.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// smallFit is a fast configuration on the 4-class Fashion-MNIST fixture:
// 32x32 inputs, width/8, conv layers 1-9 frozen and cached, the last four
// and a GAP head trained from a random (He) start.
func smallFit(dataDir, out, cacheDir string, epochs int) *fitConfig {
	c := &fitConfig{Data: dataDir, ValFraction: 0.2, Seed: 1, FromScratch: true, Head: "gap", InputSize: 32, WidthDiv: 8,
		FineTune: 4, Optimizer: "adam", LR: 0.001, Batch: 16, Epochs: epochs, Patience: 0, Dropout: 0.2, AugCopies: 1,
		Out: out, CacheDir: cacheDir, Export: "int8", Quiet: true, OOD: oodSettings{PerClass: 20, Quantile: defaultOODQuantile}}
	if err := c.validate(); err != nil {
		panic(err)
	}
	return c
}

// fitAllCached runs c and fails unless every feature or input it needs
// comes from the cache: a rerun must compute nothing.
func fitAllCached(t *testing.T, c *fitConfig) {
	t.Helper()
	res, err := fit(context.Background(), c, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.CacheComputed != 0 {
		t.Errorf("%s: computed %d cache entries, want 0 (all cached)", c.Out, res.CacheComputed)
	}
}

// TestEndToEnd trains on a few hundred real Fashion-MNIST images and checks
// that the loss falls, accuracy beats chance (25 %) clearly, the run folder
// is complete, the exported int8 model loads and classifies with the same
// accuracy through `evaluate`, and the feature cache is used: every
// training read after the first pass is a hit, and a second run computes
// nothing.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	var log bytes.Buffer
	res, err := fit(context.Background(), smallFit(fixture, filepath.Join(dir, "run"), cacheDir, 6), &log, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Logf("\n%s", log.String())
	ep := res.History.Epochs
	if len(ep) != 6 {
		t.Fatalf("%d epochs", len(ep))
	}
	if !(ep[len(ep)-1].TrainLoss < 0.7*ep[0].TrainLoss) {
		t.Errorf("training loss %g → %g: did not fall by 30%%", ep[0].TrainLoss, ep[len(ep)-1].TrainLoss)
	}
	if res.TestAccuracy < 0.6 {
		t.Errorf("test accuracy %g, want ≥ 0.6 (chance 0.25)", res.TestAccuracy)
	}
	if res.ExportAccuracy < 0.6 || res.ExportAccuracy < res.TestAccuracy-0.05 {
		t.Errorf("exported int8 accuracy %g vs float32 %g", res.ExportAccuracy, res.TestAccuracy)
	}
	// 300 images, each computed once; every epoch reads each of the 160
	// training features from the cache.
	if res.CacheComputed != 300 {
		t.Errorf("%d features computed, want 300", res.CacheComputed)
	}
	for i, h := range res.EpochHits {
		if h != 160 {
			t.Errorf("epoch %d: %d cache hits, want 160", i+1, h)
		}
	}
	for _, f := range []string{"history.json", "curves.png", "confusion.png", "metrics.txt", "model.safetensors", "checkpoint.ckpt"} {
		if st, err := os.Stat(filepath.Join(dir, "run", f)); err != nil || st.Size() == 0 {
			t.Errorf("run folder: %s missing or empty", f)
		}
	}
	var h report.History
	b, _ := os.ReadFile(filepath.Join(dir, "run", "history.json"))
	if err := json.Unmarshal(b, &h); err != nil || h.Test == nil || len(h.Test.PerClass) != 4 || h.Test.ExportedDType != "int8" {
		t.Errorf("history.json: %v %+v", err, h.Test)
	}

	// evaluate and classify on the exported file.
	var out, errOut bytes.Buffer
	modelPath := filepath.Join(dir, "run", "model.safetensors")
	if m, err := model.ReadModelFile(modelPath); err != nil || m.OOD == nil || len(m.OOD.Layers) != len(model.OODLayers) || m.OOD.Quantile != defaultOODQuantile {
		t.Errorf("exported model: error %v, OOD statistics %+v; want them for layers %v at quantile %g", err, m.OOD, model.OODLayers, defaultOODQuantile)
	}
	if code := run([]string{"evaluate", "-model", modelPath, "-data", fixture}, &out, &errOut); code != 0 {
		t.Fatalf("evaluate: %d %s", code, errOut.String())
	}
	if want := fmt.Sprintf("100 images, accuracy %.4f", res.ExportAccuracy); !strings.Contains(out.String(), want) {
		t.Errorf("evaluate says %q, want %q", out.String(), want)
	}
	out.Reset()
	img := filepath.Join(fixture, "test", "1_trouser")
	if code := run([]string{"classify", "-model", modelPath, "-k", "2", img}, &out, &errOut); code != 0 {
		t.Fatalf("classify: %d %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	top := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 5 {
			t.Fatalf("classify line %q: want file and two class/probability pairs", l)
		}
		if f[1] == "1_trouser" {
			top++
		}
	}
	if len(lines) != 25 || top < 15 {
		t.Errorf("classify: %d lines, %d with trouser on top", len(lines), top)
	}

	// A second run with the same cache computes no features.
	fitAllCached(t, smallFit(fixture, filepath.Join(dir, "run2"), cacheDir, 1))
}

// TestUnreadableImages: a corrupt file is skipped with a warning naming it
// and counted; a class whose only images are corrupt is an error before
// training starts; so is an empty class folder.
func TestUnreadableImages(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	copyTree(t, fixture, data)
	bad := filepath.Join(data, "train", "8_bag", "broken.png")
	os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nthis is not a png"), 0o644)
	var log, warn bytes.Buffer
	res, err := fit(context.Background(), smallFit(data, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 1), &log, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 1 || !strings.Contains(warn.String(), "skipping "+bad) || !strings.Contains(log.String(), "1 unreadable image(s) skipped") {
		t.Errorf("skipped %d\nwarnings: %s\nlog: %s", res.Skipped, warn.String(), log.String())
	}

	tests := []struct {
		name  string
		setup func(root string)
		want  string
	}{
		{"class with only corrupt images", func(root string) {
			os.MkdirAll(filepath.Join(root, "train", "9_ankle_boot"), 0o755)
			os.MkdirAll(filepath.Join(root, "test", "9_ankle_boot"), 0o755)
			for i := 0; i < 3; i++ {
				os.WriteFile(filepath.Join(root, "train", "9_ankle_boot", fmt.Sprintf("%d.jpg", i)), []byte("garbage"), 0o644)
			}
			os.WriteFile(filepath.Join(root, "test", "9_ankle_boot", "x.jpg"), []byte("garbage"), 0o644)
		}, `class "9_ankle_boot" has too few readable images to give the train split one (4 unreadable image(s) skipped, named above): it needs at least 2 good images`},
		{"empty class folder", func(root string) {
			os.MkdirAll(filepath.Join(root, "train", "5_sandal"), 0o755)
		}, `class "5_sandal" has no images in the train split`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "data")
			copyTree(t, fixture, root)
			tc.setup(root)
			var log bytes.Buffer
			_, err := fit(context.Background(), smallFit(root, filepath.Join(t.TempDir(), "run"), filepath.Join(dir, "cache"), 1), &log, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if strings.Contains(log.String(), "epoch 1") {
				t.Errorf("training started before the error:\n%s", log.String())
			}
		})
	}
}

// TestConvertIDXCommand converts the system Fashion-MNIST (Debian's
// dataset-fashion-mnist) with a small per-class limit and checks the tree.
func TestConvertIDXCommand(t *testing.T) {
	const src = "/usr/share/datasets/fashion-mnist"
	if _, err := os.Stat(src); err != nil {
		t.Fatal("dataset-fashion-mnist is not installed (scripts/deps.sh installs it: apt-get install dataset-fashion-mnist)")
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"convert-idx", "-in", src, "-out", out, "-per-class", "3", "-test-per-class", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, tc := range []struct {
		split string
		n     int
	}{{"train", 3}, {"test", 2}} {
		dirs, _ := os.ReadDir(filepath.Join(out, tc.split))
		if len(dirs) != 10 {
			t.Fatalf("%s: %d class folders", tc.split, len(dirs))
		}
		for _, d := range dirs {
			files, _ := os.ReadDir(filepath.Join(out, tc.split, d.Name()))
			if len(files) != tc.n {
				t.Errorf("%s/%s: %d images, want %d", tc.split, d.Name(), len(files), tc.n)
			}
		}
	}
	if code := run([]string{"convert-idx", "-in", t.TempDir(), "-out", out}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "train-images-idx3-ubyte(.gz) not found") {
		t.Errorf("missing files: exit %d, %s", code, stderr.String())
	}
}

// TestNoValidationNoTestSplit runs the class-folder layout with --val 0
// --test 0: early stopping watches the training loss instead, and the run
// still exports a model.
func TestNoValidationNoTestSplit(t *testing.T) {
	dir := t.TempDir()
	c := smallFit(filepath.Join(fixture, "train"), filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 3)
	c.ValFraction, c.TestFraction, c.Patience = 0, 0, 1
	var log bytes.Buffer
	res, err := fit(context.Background(), c, &log, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if res.History.StoppedEarly && res.History.BestEpoch == 1 {
		t.Errorf("stopped after epoch 1 although the training loss fell:\n%s", log.String())
	}
	if !strings.Contains(log.String(), "no test split") {
		t.Errorf("log:\n%s", log.String())
	}
	if _, err := os.Stat(res.ModelPath); err != nil {
		t.Error(err)
	}
}

// TestFood101Tree trains on a Food-101-shaped tree (images/<class>/<id>.jpg,
// meta/{classes,train,test}.txt) built from the fixture's real images,
// taking the first 3 classes as --classes 3 does.
func TestFood101Tree(t *testing.T) {
	root := filepath.Join(t.TempDir(), "food-101")
	classes := []string{"0_tshirt_top", "1_trouser", "7_sneaker", "8_bag"}
	var classLines, trainLines, testLines []string
	for _, c := range classes {
		classLines = append(classLines, c)
		for _, split := range []string{"train", "test"} {
			files, err := os.ReadDir(filepath.Join(fixture, split, c))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				id := strings.TrimSuffix(f.Name(), ".png")
				b, _ := os.ReadFile(filepath.Join(fixture, split, c, f.Name()))
				os.MkdirAll(filepath.Join(root, "images", c), 0o755)
				// Food-101 ids name .jpg files; the decoder goes by content.
				os.WriteFile(filepath.Join(root, "images", c, id+".jpg"), b, 0o644)
				if split == "train" {
					trainLines = append(trainLines, c+"/"+id)
				} else {
					testLines = append(testLines, c+"/"+id)
				}
			}
		}
	}
	os.MkdirAll(filepath.Join(root, "meta"), 0o755)
	os.WriteFile(filepath.Join(root, "meta", "classes.txt"), []byte(strings.Join(classLines, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(root, "meta", "train.txt"), []byte(strings.Join(trainLines, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(root, "meta", "test.txt"), []byte(strings.Join(testLines, "\n")+"\n"), 0o644)
	dir := t.TempDir()
	c := smallFit(root, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 2)
	c.Classes = 3
	var log bytes.Buffer
	res, err := fit(context.Background(), c, &log, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "(food101 layout): 3 classes, 120 train / 30 validation / 75 test images") {
		t.Errorf("log:\n%s", log.String())
	}
	m, err := model.ReadModelFile(res.ModelPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Info.Classes, ",") != "0_tshirt_top,1_trouser,7_sneaker" {
		t.Errorf("model classes %v", m.Info.Classes)
	}
}
