package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vggo/model"
	"vggo/train/checkpoint"
	"vggo/train/report"
)

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

// fitArgs are a small fit run's flags, then extra ones.
func fitArgs(dataDir, out, cacheDir string, epochs int, extra ...string) []string {
	return append([]string{"-data", dataDir, "-out", out, "-cache", cacheDir, "-from-scratch", "-fine-tune", strconv.Itoa(model.ConvLayers), "-width-div", "8",
		"-input-size", "32", "-batch", "16", "-epochs", strconv.Itoa(epochs), "-patience", "0", "-train-per-class", "24", "-quiet", "-threads", "1"}, extra...)
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
// batch, saves, exits with status 130, and a resume completes the run. The
// run uses random erasing and label smoothing, whose draws and targets
// must continue exactly too.
func TestInterruptSavesAndResumes(t *testing.T) {
	dir := t.TempDir()
	out, cacheDir := filepath.Join(dir, "run"), filepath.Join(dir, "cache")
	const epochs = 6
	extra := []string{"-erase", "0.5", "-label-smoothing", "0.1", "-aug-copies", "2"}
	cmd, log := startCommand(t, fitArgs(fixture, out, cacheDir, epochs, extra...)...)
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
	if code := run(append([]string{"fit"}, append(fitArgs(fixture, out, cacheDir, epochs, extra...), "-resume")...), &resumed, io.Discard); code != 0 {
		t.Fatalf("resume exit %d:\n%s", code, resumed.String())
	}
	if want := fmt.Sprintf("resuming after epoch %d (batch %d)", st.Epoch, st.Batch); !strings.Contains(resumed.String(), want) {
		t.Fatalf("resume output lacks %q:\n%s", want, resumed.String())
	}
	// Resuming mid-epoch ends with exactly the weights of an uninterrupted run.
	checkSameAsUninterrupted(t, fixture, out, filepath.Join(dir, "reference"), cacheDir, epochs, extra...)
	// Either setting changed is refused.
	for _, changed := range [][]string{{"-erase", "0.4", "-label-smoothing", "0.1"}, {"-erase", "0.5", "-label-smoothing", "0"}} {
		args := append(fitArgs(fixture, out, cacheDir, epochs, append(changed, "-aug-copies", "2")...), "-resume")
		var errOut bytes.Buffer
		if code := run(append([]string{"fit"}, args...), io.Discard, &errOut); code == 0 || !strings.Contains(errOut.String(), "different settings") {
			t.Errorf("resume with %v: exit %d, %s", changed, code, errOut.String())
		}
	}
}

// checkSameAsUninterrupted runs fit without interruption into ref and
// checks that every tensor of the resumed run's checkpoint in out is
// bit-identical to it.
func checkSameAsUninterrupted(t *testing.T, data, out, ref, cacheDir string, epochs int, extra ...string) {
	t.Helper()
	if code := run(append([]string{"fit"}, fitArgs(data, ref, cacheDir, epochs, extra...)...), io.Discard, io.Discard); code != 0 {
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
		if !slices.Equal(resumedState.Tensors[name], v) {
			t.Errorf("tensor %s differs between the resumed and the uninterrupted run", name)
		}
	}
}

// TestSnapshots: -snapshots writes every epoch's weights; the best epoch's
// snapshot holds exactly the weights of the final model file, and a
// snapshot lost between an epoch's checkpoint and its write (a kill) is
// written again, the same, by -resume.
func TestSnapshots(t *testing.T) {
	dir := t.TempDir()
	out, cacheDir := filepath.Join(dir, "run"), filepath.Join(dir, "cache")
	const epochs = 2
	args := fitArgs(fixture, out, cacheDir, epochs, "-snapshots", "-export", "float32", "-ood-per-class", "0")
	var log bytes.Buffer
	if code := run(append([]string{"fit"}, args...), &log, io.Discard); code != 0 {
		t.Fatalf("fit failed:\n%s", log.String())
	}
	snaps := make([]*model.Model, epochs+1)
	for e := 1; e <= epochs; e++ {
		p := filepath.Join(out, fmt.Sprintf("epoch-%d.safetensors", e))
		if !strings.Contains(log.String(), "snapshot "+p+"\n") {
			t.Errorf("the log does not name snapshot %s:\n%s", p, log.String())
		}
		m, err := model.ReadModelFile(p)
		if err != nil {
			t.Fatal(err)
		}
		snaps[e] = m
	}
	var h report.History
	raw, err := os.ReadFile(filepath.Join(out, "history.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	final, err := model.ReadModelFile(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if h.BestEpoch < 1 || h.BestEpoch > epochs {
		t.Fatalf("best epoch %d", h.BestEpoch)
	}
	if !sameWeights(snaps[h.BestEpoch], final) {
		t.Errorf("snapshot of the best epoch %d differs from model.safetensors", h.BestEpoch)
	}
	if sameWeights(snaps[1], snaps[2]) {
		t.Errorf("epochs 1 and 2 have the same weights: the snapshots are not per epoch")
	}

	lost := filepath.Join(out, fmt.Sprintf("epoch-%d.safetensors", epochs))
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if code := run(append([]string{"fit"}, append(args, "-resume")...), &log, io.Discard); code != 0 {
		t.Fatalf("resume failed:\n%s", log.String())
	}
	again, err := model.ReadModelFile(lost)
	if err != nil {
		t.Fatalf("the lost snapshot was not written again on -resume: %v\n%s", err, log.String())
	}
	if !sameWeights(again, snaps[epochs]) {
		t.Errorf("the snapshot written on -resume differs from the one lost")
	}
}

// sameWeights reports whether two models have bit-identical weights.
func sameWeights(a, b *model.Model) bool {
	for i := range a.Base.Layers {
		if !slices.Equal(a.Base.Layers[i].Kernel, b.Base.Layers[i].Kernel) || !slices.Equal(a.Base.Layers[i].Bias, b.Base.Layers[i].Bias) {
			return false
		}
	}
	if len(a.Head.Dense) != len(b.Head.Dense) {
		return false
	}
	for i := range a.Head.Dense {
		if !slices.Equal(a.Head.Dense[i].Kernel, b.Head.Dense[i].Kernel) || !slices.Equal(a.Head.Dense[i].Bias, b.Head.Dense[i].Bias) {
			return false
		}
	}
	return true
}

// TestFitFlipAverage: -flip-average marks the exported model file, and
// the log says the exported model's test accuracy is flip-averaged while
// the graph's is not (model's TestFlipAverage checks what a marked model
// computes).
func TestFitFlipAverage(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	var log bytes.Buffer
	if code := run(append([]string{"fit"}, fitArgs(fixture, out, filepath.Join(dir, "cache"), 1, "-flip-average", "-ood-per-class", "0")...), &log, io.Discard); code != 0 {
		t.Fatalf("fit failed:\n%s", log.String())
	}
	info, err := model.ReadInfo(filepath.Join(out, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if !info.FlipAverage {
		t.Errorf("the exported model does not average mirror images")
	}
	if !strings.Contains(log.String(), "(int8, each image averaged with its mirror image; the graph's figure is without): test accuracy") {
		t.Errorf("the log does not say the exported model's test accuracy is flip-averaged:\n%s", log.String())
	}
}
