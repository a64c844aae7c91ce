package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vggo/model"
	"vggo/train/checkpoint"
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
	res2, err := fit(context.Background(), smallFit(fixture, filepath.Join(dir, "run2"), cacheDir, 1), io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res2.CacheComputed != 0 {
		t.Errorf("second run computed %d features, want 0 (all cached)", res2.CacheComputed)
	}
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
		}, `class "9_ankle_boot" has no images in the`},
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

// startCommand runs the test binary as `train fit ...`.
func startCommand(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"fit"}, args...)...)
	cmd.Env = append(os.Environ(), "VGGO_TRAIN_AS_COMMAND=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// waitForCheckpoint polls until the run folder has a checkpoint.
func waitForCheckpoint(t *testing.T, path string, cmd *exec.Cmd, out *bytes.Buffer) *checkpoint.State {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if st, err := checkpoint.Load(path); err == nil {
			return st
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	t.Fatalf("no checkpoint after 60 s:\n%s", out.String())
	return nil
}

func fitArgs(dataDir, out, cacheDir string, epochs int) []string {
	return []string{"-data", dataDir, "-out", out, "-cache", cacheDir, "-from-scratch", "-fine-tune", strconv.Itoa(model.ConvLayers), "-width-div", "8",
		"-input-size", "32", "-batch", "16", "-epochs", strconv.Itoa(epochs), "-patience", "0", "-train-per-class", "24", "-quiet", "-threads", "1"}
}

var epochLine = regexp.MustCompile(`(?m)^epoch (\d+)/`)

// TestResumeAfterKill SIGKILLs a training process right after its first
// checkpoint, resumes it, and checks it continues from the saved epoch
// and finishes with a complete, consistent history.
func TestResumeAfterKill(t *testing.T) {
	dir := t.TempDir()
	out, cacheDir, data := filepath.Join(dir, "run"), filepath.Join(dir, "cache"), filepath.Join(dir, "data")
	copyTree(t, fixture, data)
	const epochs = 6
	cmd, log := startCommand(t, fitArgs(data, out, cacheDir, epochs)...)
	st := waitForCheckpoint(t, filepath.Join(out, "checkpoint.ckpt"), cmd, log)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// The kill may land after a few more checkpoints; read the last one.
	if st2, err := checkpoint.Load(filepath.Join(out, "checkpoint.ckpt")); err == nil {
		st = st2
	}
	if st.Epoch >= epochs {
		t.Fatalf("the run finished (epoch %d) before it was killed; make epochs slower", st.Epoch)
	}
	var resumed bytes.Buffer
	code := run(append([]string{"fit"}, append(fitArgs(data, out, cacheDir, epochs), "-resume")...), &resumed, io.Discard)
	if code != 0 {
		t.Fatalf("resume exit %d:\n%s", code, resumed.String())
	}
	if want := fmt.Sprintf("resuming after epoch %d", st.Epoch); !strings.Contains(resumed.String(), want) {
		t.Fatalf("resume output lacks %q:\n%s", want, resumed.String())
	}
	m := epochLine.FindAllStringSubmatch(resumed.String(), -1)
	if len(m) == 0 || m[0][1] != strconv.Itoa(st.Epoch+1) || len(m) != epochs-st.Epoch {
		t.Fatalf("resumed run printed epochs %v, want %d..%d", m, st.Epoch+1, epochs)
	}
	var h report.History
	b, _ := os.ReadFile(filepath.Join(out, "history.json"))
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	for i, e := range h.Epochs {
		if e.Epoch != i+1 {
			t.Fatalf("history epochs %+v are not 1..%d", h.Epochs, epochs)
		}
	}
	if len(h.Epochs) != epochs {
		t.Fatalf("history has %d epochs, want %d", len(h.Epochs), epochs)
	}
	// The killed-and-resumed run ends with exactly the weights of an
	// uninterrupted one: shuffling, dropout masks and optimizer state all
	// continue where they were.
	checkSameAsUninterrupted(t, data, out, filepath.Join(dir, "reference"), cacheDir, epochs)
	// A changed dataset is refused.
	os.Remove(filepath.Join(data, "train", "8_bag", "00023.png"))
	var errOut0 bytes.Buffer
	if code := run(append([]string{"fit"}, append(fitArgs(data, out, cacheDir, epochs), "-resume")...), io.Discard, &errOut0); code == 0 ||
		!strings.Contains(errOut0.String(), "images changed since the checkpoint") {
		t.Errorf("resume on a changed data folder: exit %d, %s", code, errOut0.String())
	}
	// A different setting is refused.
	args := append(fitArgs(data, out, cacheDir, epochs), "-resume", "-lr", "0.5")
	var errOut bytes.Buffer
	if code := run(append([]string{"fit"}, args...), io.Discard, &errOut); code == 0 || !strings.Contains(errOut.String(), "different settings") {
		t.Errorf("resume with another learning rate: exit %d, %s", code, errOut.String())
	}
}

// TestInterruptSavesAndResumes sends SIGINT: the process finishes its
// batch, saves, exits with status 130, and a resume completes the run.
func TestInterruptSavesAndResumes(t *testing.T) {
	dir := t.TempDir()
	out, cacheDir := filepath.Join(dir, "run"), filepath.Join(dir, "cache")
	const epochs = 6
	cmd, log := startCommand(t, fitArgs(fixture, out, cacheDir, epochs)...)
	waitForCheckpoint(t, filepath.Join(out, "checkpoint.ckpt"), cmd, log)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	st, lerr := checkpoint.Load(filepath.Join(out, "checkpoint.ckpt"))
	if lerr != nil {
		t.Fatal(lerr)
	}
	if st.Epoch >= epochs {
		// Nothing was interrupted, so nothing below would be tested.
		t.Fatalf("the run finished before the interrupt arrived:\n%s", log.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || !strings.Contains(log.String(), "checkpoint saved") {
		t.Fatalf("exit %v, output:\n%s", err, log.String())
	}
	var resumed bytes.Buffer
	if code := run(append([]string{"fit"}, append(fitArgs(fixture, out, cacheDir, epochs), "-resume")...), &resumed, io.Discard); code != 0 {
		t.Fatalf("resume exit %d:\n%s", code, resumed.String())
	}
	if want := fmt.Sprintf("resuming after epoch %d (batch %d)", st.Epoch, st.Batch); !strings.Contains(resumed.String(), want) {
		t.Fatalf("resume output lacks %q:\n%s", want, resumed.String())
	}
	// Resuming mid-epoch ends with exactly the weights of an uninterrupted run.
	checkSameAsUninterrupted(t, fixture, out, filepath.Join(dir, "reference"), cacheDir, epochs)
}

// checkSameAsUninterrupted runs fit without interruption into ref and
// checks that every tensor of the resumed run's checkpoint in out is
// bit-identical to it.
func checkSameAsUninterrupted(t *testing.T, data, out, ref, cacheDir string, epochs int) {
	t.Helper()
	if code := run(append([]string{"fit"}, fitArgs(data, ref, cacheDir, epochs)...), io.Discard, io.Discard); code != 0 {
		t.Fatalf("reference run exit %d", code)
	}
	resumedState, err1 := checkpoint.Load(filepath.Join(out, "checkpoint.ckpt"))
	refState, err2 := checkpoint.Load(filepath.Join(ref, "checkpoint.ckpt"))
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if len(refState.Tensors) == 0 || len(resumedState.Tensors) != len(refState.Tensors) {
		t.Fatalf("checkpoints hold %d (resumed) and %d (uninterrupted) tensors", len(resumedState.Tensors), len(refState.Tensors))
	}
	for name, v := range refState.Tensors {
		if !equalFloats(resumedState.Tensors[name], v) {
			t.Errorf("tensor %s differs between the resumed and the uninterrupted run", name)
		}
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
