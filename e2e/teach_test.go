package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	fmnist "vggo/internal/fixture"
	"vggo/model"
)

// teachImages writes the teach task's images: DIR/train/<class>/ (20 per
// class, what the page is taught with) and DIR/test/<class>/ (50 per
// class, held out), Fashion-MNIST test images as PNG.
func teachImages(t testing.TB, dir string) (train, test [][]string) {
	t.Helper()
	imgs, labels, err := fmnist.FashionMNISTTest(1000)
	if err != nil {
		t.Fatal(err)
	}
	trainIdx, heldIdx := fmnist.TeachSplit(labels, 20, 50)
	write := func(split string, k int, idx []int) []string {
		d := filepath.Join(dir, split, fmnist.HardClasses[k].Name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, i := range idx {
			var buf bytes.Buffer
			png.Encode(&buf, imgs[i])
			p := filepath.Join(d, fmt.Sprintf("c%d-test%05d.png", k, i))
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
		}
		return paths
	}
	for k := range fmnist.HardClasses {
		train = append(train, write("train", k, trainIdx[k]))
		test = append(test, write("test", k, heldIdx[k]))
	}
	return train, test
}

// requestLog returns the server's request log lines (method, path) since
// the first `from` lines.
func requestLog(t *testing.T, srv *server, from int) (lines []string, n int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(srv.logs.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct{ Msg, Method, Path string }
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Msg != "request" {
			continue
		}
		if n >= from {
			lines = append(lines, l.Method+" "+l.Path)
		}
		n++
	}
	return lines, n
}

// TestTeachFashionMNIST teaches the app three hard Fashion-MNIST classes in
// Chromium, from 20 images each, as a user would: rename and add classes,
// pick the images, train; then checks the held-out accuracy of the model
// (50 other images per class, tried on the page), that nothing but the
// app's files and the base model was requested meanwhile, that the classes
// and images survive a reload, and that the exported file is accepted by
// train evaluate, train fit -weights (warm start), vggo-server -models and
// the widget. It logs the click-to-usable-model time and the native
// from-scratch baseline on the same 60 images.
func TestTeachFashionMNIST(t *testing.T) {
	dir := t.TempDir()
	trainFiles, testFiles := teachImages(t, filepath.Join(dir, "data"))
	srv := startServer(t, freePort(t), "-log-format", "json")
	defer srv.stop()
	ctx := newBrowser(t)
	baseSHA := indexSHA(t, srv, "fashion-mnist-vgg16")

	_, logStart := requestLog(t, srv, 0)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/teach"))
	waitFor(t, ctx, "the classes", `document.querySelectorAll("#teach-classes .teach-class").length === 2`, 60*time.Second)
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector("#teach-base-select");
		s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, baseSHA)))
	waitFor(t, ctx, "the base model", `(document.querySelector("#teach-base-status")||{}).dataset?.state === "ready"`, 90*time.Second)

	// Problems are named before anything is trained.
	problems := evalString(t, ctx, `document.querySelector("#teach-problems").textContent`)
	if !strings.Contains(problems, `"Class 1" has no images`) {
		t.Errorf("with two empty classes the page says %q", problems)
	}
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("add-class")))
	waitFor(t, ctx, "the third class", `document.querySelectorAll("#teach-classes .teach-class").length === 3`, 10*time.Second)
	rename := func(i int, name string) {
		run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			const in_ = document.querySelectorAll("#teach-classes .teach-class")[%d].querySelector("input.class-name");
			in_.value = %q; in_.dispatchEvent(new Event("change", {bubbles: true})); })()`, i, name)))
	}
	// Duplicate names are refused until fixed.
	rename(0, "Shirt")
	rename(1, "shirt")
	waitFor(t, ctx, "the duplicate-name message", `document.querySelector("#teach-problems").textContent.includes("Two classes are named")`, 10*time.Second)
	for k, c := range fmnist.HardClasses {
		rename(k, c.Name)
	}
	// A text file is refused with its name; the images are added.
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("not an image"), 0o644)
	for k := range fmnist.HardClasses {
		files := trainFiles[k]
		if k == 0 {
			files = append([]string{notes}, files...)
		}
		sel := fmt.Sprintf(`#teach-classes .teach-class[data-class-index="%d"] input.class-files`, k)
		run(t, ctx, 20*time.Second, chromedp.SetUploadFiles(chromedp.CSS(sel), files))
	}
	waitFor(t, ctx, "60 images", `[...document.querySelectorAll("#teach-classes .count")].map(c => c.dataset.count).join() === "20,20,20"`, 30*time.Second)
	if msg := evalString(t, ctx, `(document.querySelector(".class-notice")||{}).textContent||""`); !strings.Contains(msg, "notes.txt: not an image") {
		t.Errorf("a text file among the images: the page says %q, want a message naming notes.txt and why", msg)
	}

	// Train, timed from the click to a loaded model.
	start := time.Now()
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
	waitFor(t, ctx, "the trained model", `(() => { const r = document.querySelector("#teach-result");
		if (r && r.dataset.state === "ready") return true;
		const e = document.querySelector("#teach-error") || (r && r.dataset.state === "error" && r);
		if (e) throw new Error(e.textContent); return false; })()`, 120*time.Second)
	wall := time.Since(start)
	usableMs, _ := strconv.ParseFloat(evalString(t, ctx, `document.querySelector("#teach-result").dataset.usableMs`), 64)
	waitFor(t, ctx, "the evaluation", `document.querySelector("#teach-result").dataset.evaluated === "true"`, 120*time.Second)
	pageAcc := evalString(t, ctx, `document.querySelector("#teach-result").dataset.accuracy`)
	featuresMs, _ := strconv.ParseFloat(evalString(t, ctx, `document.querySelector("#teach-result").dataset.featuresMs`), 64)
	trainMs, _ := strconv.ParseFloat(evalString(t, ctx, `document.querySelector("#teach-result").dataset.trainMs`), 64)
	workerMs, _ := strconv.ParseFloat(evalString(t, ctx, `document.querySelector("#teach-result").dataset.featuresWorkerMs`), 64)
	t.Logf("click on Train to usable model: %.2f s by the page's clock (features of 60 images %.2f s, of which the worker computed %.2f s; training %.2f s in the worker; %.2f s polled by the test); the page's own evaluation: %s (%s)",
		usableMs/1000, featuresMs/1000, workerMs/1000, trainMs/1000, wall.Seconds(), pageAcc, evalString(t, ctx, `document.querySelector("#teach-result .note").textContent`))
	if !strings.Contains(evalString(t, ctx, `document.querySelector("#teach-confusion").textContent`), "Pullover") {
		t.Error("no confusion matrix naming the classes")
	}
	screenshot(t, ctx, "teach-trained.png")

	// Try it on the 150 held-out images.
	correct, held := tryHeldOut(t, ctx, testFiles)
	acc := float64(correct) / float64(held)
	t.Logf("held-out accuracy in Chromium: %.1f %% (%d of %d)", 100*acc, correct, held)
	if acc < 0.8 {
		t.Errorf("held-out accuracy %.1f %%, want ≥ 80 %%", 100*acc)
	}

	// Privacy: the session asked the server for the app's files and the
	// base model only, and sent nothing (GET alone).
	reqs, _ := requestLog(t, srv, logStart)
	allowed := regexp.MustCompile(`^GET (/teach|/|/bench|/embed|/app\.js|/app-worker\.js|/wasm_exec\.js|/manifest\.webmanifest|/app\.css|/models|/models/fashion-mnist-vgg16\.vggo\.safetensors|/web/static/[A-Za-z0-9._-]+|/web/[A-Za-z0-9._/-]+)$`)
	for _, r := range reqs {
		if !allowed.MatchString(r) {
			t.Errorf("request during the teach session: %s", r)
		}
	}
	t.Logf("requests during the teach session: %d, all app files or the base model", len(reqs))

	// The export link offers the file the browser saved (the page's CSP
	// lets no script fetch a blob: URL, so the test reads the saved copy).
	waitFor(t, ctx, "the saved model", `!!document.querySelector("#teach-export")`, 60*time.Second)
	if href := evalString(t, ctx, `document.querySelector("#teach-export").href`); !strings.HasPrefix(href, "blob:") {
		t.Errorf("export link %q, want a blob: URL", href)
	}
	file := savedExport(t, ctx)
	name := evalString(t, ctx, `document.querySelector("#teach-export").getAttribute("download")`)
	if !strings.HasSuffix(name, ".vggo.safetensors") {
		t.Errorf("export file name %q", name)
	}
	exportDir := filepath.Join(dir, "exported")
	os.MkdirAll(exportDir, 0o755)
	exported := filepath.Join(exportDir, name)
	if err := os.WriteFile(exported, file, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := model.ReadInfo(exported)
	if err != nil {
		t.Fatal(err)
	}
	if info.DType != model.DTypeInt8 || strings.Join(info.Classes, ",") != "Pullover,Shirt,T-shirt" || info.Provenance["made_by"] == "" {
		t.Errorf("exported file: dtype %s, classes %v, provenance %v", info.DType, info.Classes, info.Provenance)
	}

	// After a reload, the classes and images are still there, and the model
	// is in the classify page's picker, loaded from the browser's cache.
	run(t, ctx, 30*time.Second, chromedp.Reload())
	waitFor(t, ctx, "the restored images", `[...document.querySelectorAll("#teach-classes .count")].map(c => c.dataset.count).join() === "20,20,20"`, 30*time.Second)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/"))
	waitFor(t, ctx, "the first model", modelReadyExpr, 60*time.Second)
	if got := selectModel(t, ctx, strings.Join(info.Classes, " vs "), fmt.Sprintf("%x", sha256.Sum256(file))); got != "cache" {
		t.Errorf("the saved model on the classify page: %q, want it loaded from the cache", got)
	}

	roundTrip(t, dir, exported)
}

// tryHeldOut classifies the held-out images (testFiles[k]: class k of
// fmnist.HardClasses) with the page's "try it" and returns how many it got
// right, of how many.
func tryHeldOut(t *testing.T, ctx context.Context, testFiles [][]string) (correct, n int) {
	t.Helper()
	var held []string
	for _, fs := range testFiles {
		held = append(held, fs...)
	}
	run(t, ctx, 20*time.Second, chromedp.SetUploadFiles(chromedp.ID("try-input"), held))
	raw := waitFor(t, ctx, fmt.Sprintf("%d tried images", len(held)), fmt.Sprintf(`(() => { const li = [...document.querySelectorAll("#try-results li")];
		if (li.length < %d || li.some(l => l.dataset.state === "pending")) return null;
		return JSON.stringify(li.map(l => [l.dataset.name, l.dataset.class, l.dataset.state])); })()`, len(held)), 120*time.Second)
	var s string
	json.Unmarshal(raw, &s)
	var tried [][3]string
	json.Unmarshal([]byte(s), &tried)
	for _, r := range tried {
		k, _ := strconv.Atoi(r[0][1:2]) // c<k>-test<i>.png
		if r[2] != "done" {
			t.Errorf("%s: state %s", r[0], r[2])
		}
		if r[1] == fmnist.HardClasses[k].Name {
			correct++
		}
	}
	return correct, len(held)
}

// savedExport returns the model file the export link offers, as the
// browser saved it (the page's CSP lets no script fetch a blob: URL, so
// the test reads the saved copy).
func savedExport(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	b64 := waitFor(t, ctx, "the exported file", `caches.open("vggo-models-v1").then(c => c.match("/local-models/" + document.querySelector("#teach-export").getAttribute("download") + "?sha256=" + document.querySelector("#teach-result").dataset.sha)).then(r => r.arrayBuffer()).then(b => {
		const u = new Uint8Array(b); let s = ""; for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000)); return btoa(s); })`, 60*time.Second)
	var enc string
	json.Unmarshal(b64, &enc)
	file, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// roundTrip checks that the native tools and the server take an exported
// file, and logs the native from-scratch baseline on the same images.
func roundTrip(t *testing.T, dir, exported string) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	trainBin := filepath.Join(dir, "train")
	if out, err := exec.Command("go", "build", "-C", root, "-o", trainBin, "./train").CombinedOutput(); err != nil {
		t.Fatalf("building train: %v\n%s", err, out)
	}
	runTrain := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(trainBin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("train %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	data := filepath.Join(dir, "data")
	out := runTrain("evaluate", "-model", exported, "-data", data)
	m := regexp.MustCompile(`accuracy ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("train evaluate: %s", out)
	}
	t.Logf("train evaluate on the 150 held-out images: accuracy %s", m[1])
	if a, _ := strconv.ParseFloat(m[1], 64); a < 0.8 {
		t.Errorf("train evaluate: accuracy %s, want ≥ 0.8", m[1])
	}
	out = runTrain("fit", "-data", data, "-weights", exported, "-fine-tune", "0", "-head", "gap", "-input-size", "32",
		"-epochs", "1", "-val", "0", "-ood-per-class", "0", "-quiet", "-out", filepath.Join(dir, "warm"), "-cache", filepath.Join(dir, "cache"))
	if !strings.Contains(out, "head: continues from") {
		t.Errorf("train fit -weights with the exported file did not continue its head:\n%s", out)
	}
	out = runTrain("fit", "-data", data, "-from-scratch", "-head", "gap", "-input-size", "32", "-epochs", "10", "-val", "0",
		"-ood-per-class", "0", "-quiet", "-out", filepath.Join(dir, "scratch"), "-cache", filepath.Join(dir, "cache"))
	if m := regexp.MustCompile(`test \(float32.*accuracy ([0-9.]+)`).FindStringSubmatch(out); m != nil {
		t.Logf("native from-scratch baseline (VGG16, 10 epochs) on the same 60 training images: test accuracy %s on the 150 held-out", m[1])
	} else {
		t.Errorf("from-scratch fit printed no test accuracy:\n%s", out)
	}

	// The server serves it from -models, and the widget uses it.
	srv2 := startServer(t, freePort(t), "-models", filepath.Dir(exported))
	defer srv2.stop()
	// The server lists a file once it has hashed it in the background.
	modelName := waitListed(t, srv2, filepath.Base(exported), 60*time.Second)
	ctx := newBrowser(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv2.url+"/embed?model="+modelName))
	waitFor(t, ctx, "the widget's model", `(document.querySelector("#model-status")||{}).dataset?.state === "ready"`, 60*time.Second)
	img := filepath.Join(data, "test", "Shirt")
	entries, _ := os.ReadDir(img)
	run(t, ctx, 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{filepath.Join(img, entries[0].Name())}))
	waitFor(t, ctx, "the widget's answer", `(document.querySelector("#embed-result")||{}).dataset?.state === "done"`, 30*time.Second)
	t.Logf("the widget classifies with the exported model %s", modelName)
}
