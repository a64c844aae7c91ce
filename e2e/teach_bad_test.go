package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	fmnist "vggo/internal/fixture"
)

// teachCounts is the page's image count per class, joined by commas.
const teachCounts = `[...document.querySelectorAll("#teach-classes .count")].map(c => c.dataset.count).join()`

// teachReadyExpr is true once the taught model is ready, and throws the
// page's error when training failed.
const teachReadyExpr = `(() => { const r = document.querySelector("#teach-result");
	if (r && r.dataset.state === "ready") return true;
	const e = document.querySelector("#teach-error"); if (e) throw new Error(e.textContent); return false; })()`

// openTeach opens the teach page, picks the base named base from the
// server's index and waits until it is ready and the classes are shown.
func openTeach(t testing.TB, ctx context.Context, srv *server, base string) {
	t.Helper()
	sha := indexSHA(t, srv, base)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/teach"))
	waitFor(t, ctx, "the classes and the base", fmt.Sprintf(`document.querySelectorAll("#teach-classes .teach-class").length >= 1 &&
		!!document.querySelector('#teach-base-select option[value=%q]')`, sha), 60*time.Second)
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector("#teach-base-select");
		s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sha)))
	waitFor(t, ctx, "the base model", fmt.Sprintf(`(() => { const s = document.querySelector("#teach-base-status");
		return s && s.dataset.state === "ready" && document.querySelector("#teach-base-select").value === %q; })()`, sha), 90*time.Second)
}

// setEpochs types n into the Epochs setting.
func setEpochs(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const in_ = document.querySelector("#teach-epochs");
		in_.value = "%d"; in_.dispatchEvent(new Event("change", {bubbles: true})); })()`, n)))
	waitFor(t, ctx, "the epochs setting", fmt.Sprintf(`document.querySelector("#teach-epochs").value === "%d"`, n), 10*time.Second)
}

// addToClass picks files for class k with its file input.
func addToClass(t *testing.T, ctx context.Context, k int, files []string) {
	t.Helper()
	sel := fmt.Sprintf(`#teach-classes .teach-class[data-class-index="%d"] input.class-files`, k)
	run(t, ctx, 60*time.Second, chromedp.SetUploadFiles(chromedp.CSS(sel), files))
}

// storedImages is how many images the page's IndexedDB holds.
const storedImages = `new Promise((ok, fail) => { const r = indexedDB.open("vggo-teach");
	r.onsuccess = () => { const q = r.result.transaction("images").objectStore("images").count();
		q.onsuccess = () => { ok(q.result); r.result.close(); }; q.onerror = () => fail(q.error); };
	r.onerror = () => fail(r.error); })`

// waitStored waits until IndexedDB holds n images.
func waitStored(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(`+storedImages+`).then(String)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("counting the stored images: %v", err)
		}
		if got == strconv.Itoa(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("IndexedDB holds %s images, want %d", got, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTeachStop stops a long training run from the page: it stops within
// a few epochs, says so (the model is the best epoch so far, no accuracy
// measured), keeps every class and image, and a second run trains to the
// end and is evaluated.
func TestTeachStop(t *testing.T) {
	trainFiles, _ := teachImages(t, t.TempDir())
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	openTeach(t, ctx, srv, "fashion16")
	for k := 0; k < 2; k++ {
		addToClass(t, ctx, k, trainFiles[k][:12])
	}
	waitFor(t, ctx, "24 images", teachCounts+` === "12,12"`, 30*time.Second)
	const epochs = 1000
	setEpochs(t, ctx, epochs)
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
	waitFor(t, ctx, "a few epochs", `(() => { const p = document.querySelector("#teach-progress");
		return p && p.dataset.phase === "training" && p.value >= 3; })()`, 60*time.Second)
	atStop := evalString(t, ctx, `String(document.querySelector("#teach-progress").value)`)
	start := time.Now()
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("stop-button")))
	waitFor(t, ctx, "the stopped model", teachReadyExpr, 30*time.Second)
	took := time.Since(start)
	ran, _ := strconv.Atoi(evalString(t, ctx, `document.querySelector("#teach-result").dataset.epochs`))
	t.Logf("stop clicked when the page showed epoch %s of %d: the run ended after epoch %d, %.2f s after the click (polled by the test)", atStop, epochs, ran, took.Seconds())
	if ran >= epochs || ran < 3 {
		t.Errorf("the stopped run has %d epochs, want at least 3 and fewer than %d", ran, epochs)
	}
	if took > 10*time.Second {
		t.Errorf("the page took %v to stop, want a prompt stop (an epoch here takes milliseconds)", took)
	}
	if msg := evalString(t, ctx, `document.querySelector("#teach-accuracy").textContent`); !strings.Contains(msg, "Training was stopped: the model is the best epoch reached") || !strings.Contains(msg, "Accuracy not measured") {
		t.Errorf("after Stop the page says %q", msg)
	}
	if got := evalString(t, ctx, teachCounts); got != "12,12" {
		t.Errorf("after Stop the classes hold %s images, want 12,12", got)
	}
	if p := evalString(t, ctx, `(document.querySelector("#teach-progress")||{}).dataset?.phase || ""`); p != "" {
		t.Errorf("a progress bar (%s) still shows after Stop", p)
	}

	// Train again, to the end.
	setEpochs(t, ctx, 5)
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
	waitFor(t, ctx, "the evaluated second model", `(() => { const r = document.querySelector("#teach-result");
		const e = document.querySelector("#teach-error"); if (e) throw new Error(e.textContent);
		return r && r.dataset.state === "ready" && r.dataset.evaluated === "true" && r.dataset.stopped === "false"; })()`, 60*time.Second)
	if ran := evalString(t, ctx, `document.querySelector("#teach-result").dataset.epochs`); ran != "5" {
		t.Errorf("the second run has %s epochs, want 5", ran)
	}
	if msg := evalString(t, ctx, `document.querySelector("#teach-accuracy").textContent`); !strings.Contains(msg, "Accuracy on images it did not train on") {
		t.Errorf("after the second run the page says %q", msg)
	}
}

// newTab opens a new tab in browser's window.
func newTab(t testing.TB, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil { // open it now, without a deadline (one would close it)
		t.Fatal(err)
	}
	return tab
}

// TestTeachClosedTab closes the tab while a model trains: a new tab finds
// every class (with its name) and image again, and trains.
func TestTeachClosedTab(t *testing.T) {
	trainFiles, _ := teachImages(t, t.TempDir())
	srv := startServer(t, freePort(t))
	defer srv.stop()
	browser := newBrowser(t)
	tab := newTab(t, browser)
	openTeach(t, tab, srv, "fashion16")
	run(t, tab, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		const in_ = document.querySelectorAll("#teach-classes .teach-class")[0].querySelector("input.class-name");
		in_.value = "tops"; in_.dispatchEvent(new Event("change", {bubbles: true})); })()`))
	for k := 0; k < 2; k++ {
		addToClass(t, tab, k, trainFiles[k][:10])
	}
	waitFor(t, tab, "20 images", teachCounts+` === "10,10"`, 30*time.Second)
	waitStored(t, tab, 20)
	setEpochs(t, tab, 1000)
	run(t, tab, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
	waitFor(t, tab, "training", `(() => { const p = document.querySelector("#teach-progress"); return p && p.dataset.phase === "training" && p.value >= 2; })()`, 60*time.Second)
	if err := chromedp.Cancel(tab); err != nil { // closes the tab mid-run
		t.Fatal(err)
	}

	again := newTab(t, browser)
	openTeach(t, again, srv, "fashion16")
	waitFor(t, again, "the kept images", teachCounts+` === "10,10"`, 30*time.Second)
	if names := evalString(t, again, `[...document.querySelectorAll("#teach-classes input.class-name")].map(i => i.value).join()`); names != "tops,Class 2" {
		t.Errorf("class names after the closed tab: %q, want tops,Class 2", names)
	}
	setEpochs(t, again, 5)
	run(t, again, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
	waitFor(t, again, "the trained model", teachReadyExpr, 60*time.Second)
}

// TestTeachQuotaFull comes back to the teach page with the site's storage
// quota full for real (the DevTools protocol's
// Storage.overrideQuotaForOrigin, set before the page opens: Chromium's
// IndexedDB reads the quota once per browser session): the images stored
// before are there, images added now stay on the page with a clear
// message, a model trained meanwhile is usable and exportable though the
// browser cannot save it, which the page says; with room again, a reload
// still shows the images stored before.
func TestTeachQuotaFull(t *testing.T) {
	trainFiles, _ := teachImages(t, t.TempDir())
	srv := startServer(t, freePort(t))
	defer srv.stop()
	profile := t.TempDir()
	first, quit := newBrowserIn(t, profile)
	openTeach(t, first, srv, "fashion16")
	addToClass(t, first, 0, trainFiles[0][:3])
	addToClass(t, first, 1, trainFiles[1][:3])
	waitFor(t, first, "6 images", teachCounts+` === "3,3"`, 30*time.Second)
	waitStored(t, first, 6)
	usage, err := chromedp.Call(first, storage.GetUsageAndQuota, storage.GetUsageAndQuotaParams{Origin: srv.url})
	if err != nil {
		t.Fatal(err)
	}
	quit()

	ctx, _ := newBrowserIn(t, profile)
	full := 1.0
	if _, err := chromedp.Call(ctx, storage.OverrideQuotaForOrigin, storage.OverrideQuotaForOriginParams{Origin: srv.url, QuotaSize: &full}); err != nil {
		t.Fatal(err)
	}
	t.Logf("site storage: %.0f bytes used of %.0f; quota now %g byte", usage.Usage, usage.Quota, full)
	openTeach(t, ctx, srv, "fashion16")
	waitFor(t, ctx, "the stored images", teachCounts+` === "3,3"`, 30*time.Second)
	addToClass(t, ctx, 0, trainFiles[0][3:6])
	waitFor(t, ctx, "the storage message", `!!document.querySelector("#teach-notice")`, 30*time.Second)
	msg := evalString(t, ctx, `document.querySelector("#teach-notice").textContent`)
	if !strings.Contains(msg, "Not saved in the browser: the browser's storage for this site is full") || !strings.Contains(msg, "stays on this page") {
		t.Errorf("with the quota full the page says %q", msg)
	}
	if got := evalString(t, ctx, teachCounts); got != "6,3" {
		t.Errorf("with the quota full the classes show %s images, want all 6,3", got)
	}

	// Training needs no storage; saving the model does, and says why not.
	setEpochs(t, ctx, 5)
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("train-button")))
	waitFor(t, ctx, "the trained model", teachReadyExpr, 60*time.Second)
	waitFor(t, ctx, "the export link", `!!document.querySelector("#teach-export")`, 60*time.Second)
	if msg := evalString(t, ctx, `(document.querySelector("#teach-save-error")||{}).textContent||""`); !strings.Contains(msg, "its storage is full") || !strings.Contains(msg, "Export the model as a file") {
		t.Errorf("saving the model with the quota full: the page says %q", msg)
	}
	screenshot(t, ctx, "teach-quota-full.png")

	// Room again: a reload shows the images stored before.
	if _, err := chromedp.Call(ctx, storage.OverrideQuotaForOrigin, storage.OverrideQuotaForOriginParams{Origin: srv.url}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, 30*time.Second, chromedp.Reload())
	waitFor(t, ctx, "the stored images after a reload", teachCounts+` === "3,3"`, 30*time.Second)
}

// TestTeachThousandImages adds 1,000 images to one class at once: all are
// added and stored (a reload shows them), the page keeps answering
// meanwhile, and it says what 1,000 images mean for training and for the
// balance between classes.
func TestTeachThousandImages(t *testing.T) {
	imgs, _, err := fmnist.FashionMNISTTest(1000)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var many []string
	for i, img := range imgs {
		var buf bytes.Buffer
		png.Encode(&buf, img)
		p := filepath.Join(dir, fmt.Sprintf("test%04d.png", i))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		many = append(many, p)
	}
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	openTeach(t, ctx, srv, "fashion16")
	addToClass(t, ctx, 1, many[:20])
	waitFor(t, ctx, "20 images", teachCounts+` === "0,20"`, 30*time.Second)
	// A 50 ms timer notes the longest gap between its ticks (how long the
	// page did not answer) and the class's image counts it saw: counts
	// between 0 and 1,000 mean the page answered while it took them.
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => { window.vggoLag = 0; window.vggoSeen = new Set(); let last = performance.now();
		const count = document.querySelectorAll("#teach-classes .count")[0];
		window.vggoTimer = setInterval(() => { const n = performance.now(); window.vggoLag = Math.max(window.vggoLag, n - last); last = n;
			window.vggoSeen.add(count.dataset.count); }, 50); })()`))
	start := time.Now()
	addToClass(t, ctx, 0, many)
	waitFor(t, ctx, "1,000 images", teachCounts+` === "1000,20"`, 120*time.Second)
	shown := time.Since(start)
	notes := evalString(t, ctx, `(document.querySelector("#teach-notes")||{}).textContent||""`)
	for _, want := range []string{`"Class 1" has 1000 images: all are kept`, `"Class 2" only 20: the model will lean towards "Class 1"`} {
		if !strings.Contains(notes, want) {
			t.Errorf("the page's notes %q lack %q", notes, want)
		}
	}
	thumbs := evalString(t, ctx, `String(document.querySelectorAll("#teach-classes .teach-class")[0].querySelectorAll(".thumb-item").length) + " " + document.querySelector(".show-all").textContent`)
	if thumbs != "100 Show all 1000 images (900 more)" {
		t.Errorf("the large class shows %q, want its first 100 thumbnails and a button for the other 900", thumbs)
	}
	// Still answering: a click adds a class at once.
	clicked := time.Now()
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("add-class")))
	waitFor(t, ctx, "the third class", `document.querySelectorAll("#teach-classes .teach-class").length === 3`, 30*time.Second)
	answer := time.Since(clicked)
	waitStored(t, ctx, 1020)
	stored := time.Since(start)
	lag, _ := strconv.ParseFloat(evalString(t, ctx, `String(window.vggoLag)`), 64)
	seen := evalString(t, ctx, `[...window.vggoSeen].join()`)
	t.Logf("1,000 images: shown after %.1f s, stored after %.1f s; longest pause of the page %.0f ms; counts seen meanwhile %s; a click then answered in %.2f s (polled by the test)", shown.Seconds(), stored.Seconds(), lag, seen, answer.Seconds())
	between := 0
	for _, c := range strings.Split(seen, ",") {
		if n, _ := strconv.Atoi(c); n > 0 && n < 1000 {
			between++
		}
	}
	if between < 3 {
		t.Errorf("the page's timer saw the counts %s while it took 1,000 images: it did not answer between chunks", seen)
	}
	run(t, ctx, 30*time.Second, chromedp.Reload())
	waitFor(t, ctx, "the 1,020 images after a reload", teachCounts+` === "1000,20,0"`, 60*time.Second)
}
