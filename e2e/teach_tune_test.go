package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	fmnist "vggo/internal/fixture"
	"vggo/model"
)

// TestTeachFineTuneLastConv teaches the default base the three hard
// Fashion-MNIST classes in Chromium twice in one session, head only and
// then with "also fine-tune the last conv layer", and logs the cost of
// each (features and training, the page's clocks). The fine-tuned model
// classifies the 150 held-out images on the page; its exported file holds
// a last conv layer that differs from the base's, and train evaluate on it
// agrees with the page's accuracy (within 2 images).
func TestTeachFineTuneLastConv(t *testing.T) {
	dir := t.TempDir()
	trainFiles, testFiles := teachImages(t, filepath.Join(dir, "data"))
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	openTeach(t, ctx, srv, "fashion-mnist-vgg16")
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("add-class")))
	waitFor(t, ctx, "the third class", `document.querySelectorAll("#teach-classes .teach-class").length === 3`, 10*time.Second)
	for k, c := range fmnist.HardClasses {
		run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const in_ = document.querySelectorAll("#teach-classes .teach-class")[%d].querySelector("input.class-name");
			in_.value = %q; in_.dispatchEvent(new Event("change", {bubbles: true})); })()`, k, c.Name)))
		addToClass(t, ctx, k, trainFiles[k])
	}
	waitFor(t, ctx, "60 images", teachCounts+` === "20,20,20"`, 30*time.Second)

	type cost struct{ features, worker, train, usable float64 }
	train := func(tune bool) cost {
		run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const c = document.querySelector("#teach-tune-conv");
			if (c.checked !== %v) c.click(); })()`, tune)))
		waitFor(t, ctx, "the setting", fmt.Sprintf(`document.querySelector("#teach-tune-conv").checked === %v`, tune), 10*time.Second)
		run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
		// The page drops the last run's result when it takes the click (the
		// features of 60 images then take seconds): only then wait for the new one.
		waitFor(t, ctx, "the last result gone", `!document.querySelector("#teach-result")`, 30*time.Second)
		waitFor(t, ctx, "the evaluated model", `(() => { const r = document.querySelector("#teach-result");
			const e = document.querySelector("#teach-error"); if (e) throw new Error(e.textContent);
			return r && r.dataset.state === "ready" && r.dataset.evaluated === "true" && !!document.querySelector("#teach-export"); })()`, 300*time.Second)
		num := func(attr string) float64 {
			v, _ := strconv.ParseFloat(evalString(t, ctx, `document.querySelector("#teach-result").dataset.`+attr), 64)
			return v
		}
		c := cost{num("featuresMs"), num("featuresWorkerMs"), num("trainMs"), num("usableMs")}
		t.Logf("fine-tune last conv %v: click to usable %.2f s; features of 60 images %.2f s (worker %.2f s); training %.2f s; the page's evaluation %s",
			tune, c.usable/1000, c.features/1000, c.worker/1000, c.train/1000, evalString(t, ctx, `document.querySelector("#teach-result").dataset.accuracy`))
		return c
	}
	head := train(false)
	tuned := train(true)
	t.Logf("fine-tuning the last conv layer costs %.1fx the head's training time and %.2fx its feature time (same session)", tuned.train/head.train, tuned.features/head.features)

	// The fine-tuned model on the held-out images, on the page.
	correct, held := tryHeldOut(t, ctx, testFiles)
	pageAcc := float64(correct) / float64(held)

	// The exported file, as the browser saved it.
	file := savedExport(t, ctx)
	exported := filepath.Join(dir, "tuned.vggo.safetensors")
	if err := os.WriteFile(exported, file, 0o644); err != nil {
		t.Fatal(err)
	}
	taught, err := model.ReadModelFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	base, err := model.ReadModelFile(filepath.Join(root, "web", "models", "fashion-mnist-vgg16.vggo.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	last := base.Base.Arch.Depth() - 1
	moved := 0.0
	for j, w := range taught.Base.Layers[last].Kernel {
		moved = max(moved, float64(abs32(w-base.Base.Layers[last].Kernel[j])))
	}
	if moved < 1e-4 || taught.Info.Provenance["fine_tuned"] != "the base's last conv layer and the head" {
		t.Errorf("exported file: the last conv layer moved by %.3g from the base's, provenance %q", moved, taught.Info.Provenance["fine_tuned"])
	}

	trainBin := filepath.Join(dir, "train")
	if out, err := exec.Command("go", "build", "-C", root, "-o", trainBin, "./train").CombinedOutput(); err != nil {
		t.Fatalf("building train: %v\n%s", err, out)
	}
	out, err := exec.Command(trainBin, "evaluate", "-model", exported, "-data", filepath.Join(dir, "data")).CombinedOutput()
	if err != nil {
		t.Fatalf("train evaluate: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`accuracy ([0-9.]+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("train evaluate: %s", out)
	}
	native, _ := strconv.ParseFloat(m[1], 64)
	t.Logf("fine-tuned model on the 150 held-out images: %.1f %% on the page, train evaluate %.1f %%; its last conv layer moved up to %.3g from the base's", 100*pageAcc, 100*native, moved)
	if d := native - pageAcc; d > 2.0/150 || d < -2.0/150 {
		t.Errorf("train evaluate %.4f and the page %.4f disagree by more than 2 images", native, pageAcc)
	}
	if pageAcc < 0.8 {
		t.Errorf("held-out accuracy %.1f %%, want ≥ 80 %%", 100*pageAcc)
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
