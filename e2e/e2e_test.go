package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestClassifyOnlineOfflineAndErrors is the main journey: first visit
// downloads the model and classifies like the native code; with the server
// stopped a reload still classifies (service worker + model cache); a
// corrupt file and a non-image show errors while the page keeps working;
// the benchmark page runs offline too.
func TestClassifyOnlineOfflineAndErrors(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)

	goodSHA := indexSHA(t, srv, "fashion16")
	tamperedSHA := indexSHA(t, srv, "tampered")
	tamperModel(t, filepath.Join(fixture.modelsDir, "tampered.vggo.safetensors"))

	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/"))
	waitFor(t, ctx, "the first model", modelReadyExpr, 60*time.Second)

	// A download whose bytes do not match the index's SHA-256 is refused and
	// not cached; the page names the problem.
	if got := selectModel(t, ctx, "tampered", tamperedSHA); !strings.Contains(got, "integrity check failed") || !strings.Contains(got, "tampered") {
		t.Fatalf("tampered model: page says %q, want an integrity error naming it", got)
	}
	cached := waitFor(t, ctx, "the model cache", `caches.open("vggo-models-v1").then(c => c.keys()).then(ks => JSON.stringify(ks.map(k => k.url)))`, 10*time.Second)
	if strings.Contains(string(cached), "tampered") {
		t.Fatalf("the tampered model was cached: %s", cached)
	}
	screenshot(t, ctx, "integrity-error.png")

	if got := selectModel(t, ctx, "fashion16", goodSHA); got != "network" && got != "cache" {
		t.Fatalf("fashion16: %q", got)
	}
	// The service worker must be active (everything pre-cached) before going offline.
	waitFor(t, ctx, "the service worker", `navigator.serviceWorker.ready.then(r => !!r.active)`, 30*time.Second)

	// Installable as a PWA: chromium finds no problem with the manifest,
	// icons and service worker.
	inst, err := chromedp.Call(ctx, page.GetInstallabilityErrors, cdp.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range inst.InstallabilityErrors {
		t.Errorf("not installable: %s %v", e.ErrorID, e.ErrorArguments)
	}
	t.Logf("installability errors reported by chromium: %d", len(inst.InstallabilityErrors))

	upload(t, ctx, "fashion-0.png", "gradient.png")
	rs := results(t, ctx, 2)
	byName := map[string]pageResult{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	checkAgainstNative(t, byName["fashion-0.png"], fixture.images["fashion-0.png"])
	checkAgainstNative(t, byName["gradient.png"], fixture.images["gradient.png"])
	screenshot(t, ctx, "classify-online.png")

	// Offline: stop the server, reload.
	srv.stop()
	run(t, ctx, 30*time.Second, chromedp.Reload())
	if src := string(waitFor(t, ctx, "the model offline", modelReadyExpr, 60*time.Second)); src != `"cache"` {
		t.Fatalf("offline: model source %s, want cache", src)
	}
	if name, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#model-status").dataset.model`)); name != "fashion16" {
		t.Fatalf("offline: the page loaded %q, want the model picked before (fashion16)", name)
	}
	upload(t, ctx, "fashion-0.png")
	checkAgainstNative(t, results(t, ctx, 1)[0], fixture.images["fashion-0.png"])
	// The samples are cached with the app: one clicked offline classifies.
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`button.sample[data-sample="test-01012-trouser.png"]`)))
	if r := results(t, ctx, 2)[0]; r.Name != "test-01012-trouser.png" || r.State != "done" {
		t.Fatalf("a sample clicked offline: %+v", r)
	}
	if broken := evalString(t, ctx, `[...document.querySelectorAll("img")].filter(i => i.complete && i.naturalWidth === 0).map(i => i.src).join(" ")`); broken != "" {
		t.Errorf("offline, broken images: %s", broken)
	}

	// Errors: a corrupt image and a text file, then a good image again.
	upload(t, ctx, "corrupt.png", "notes.txt", "huge.jpg")
	rs = results(t, ctx, 5)
	for _, r := range rs[:3] {
		if r.State != "error" || !strings.Contains(r.Error, r.Name) {
			t.Errorf("%s: state %q, error %q; want an error naming the file", r.Name, r.State, r.Error)
		}
	}
	upload(t, ctx, "gradient.png")
	rs = results(t, ctx, 6)
	checkAgainstNative(t, rs[0], fixture.images["gradient.png"])
	screenshot(t, ctx, "classify-offline-errors.png")

	// Phone width.
	run(t, ctx, 10*time.Second, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	screenshot(t, ctx, "classify-phone.png")
	run(t, ctx, 10*time.Second, chromedp.EmulateViewport(1200, 900))

	// The benchmark page, still offline, at 1/16 width so it stays quick.
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/bench?sizes=224,32&width=16&warmup=1&runs=5&auto=1"))
	raw := waitFor(t, ctx, "the benchmark", `(() => { const t = document.querySelector("#bench-table");
		if (!t || t.dataset.state === "running" || t.dataset.state === "idle") return null;
		const e = document.querySelector("#bench-error");
		return JSON.stringify({state: t.dataset.state, error: e ? e.textContent : "",
			rows: [...t.querySelectorAll("tbody tr")].map(r => ({size: +r.dataset.size, median: +r.dataset.median})),
			frames: +document.querySelector("#bench-frames").dataset.frames,
			gap: +document.querySelector("#bench-frames").dataset.longestGap,
			runMs: +document.querySelector("#bench-frames").dataset.runMs}); })()`, 90*time.Second)
	var s string
	json.Unmarshal(raw, &s)
	var bench struct {
		State, Error string
		Rows         []struct {
			Size   int
			Median float64
		}
		Frames int
		Gap    float64
		RunMs  float64
	}
	if err := json.Unmarshal([]byte(s), &bench); err != nil {
		t.Fatal(err)
	}
	if bench.State != "done" || len(bench.Rows) != 2 || bench.Rows[0].Size != 224 || bench.Rows[1].Size != 32 {
		t.Fatalf("bench: %+v", bench)
	}
	for _, r := range bench.Rows {
		if r.Median <= 0 {
			t.Errorf("bench row %+v", r)
		}
	}
	t.Logf("bench (1/16 width, in the worker): 224px %.2f ms, 32px %.2f ms median; run %.0f ms with %d page frames, longest gap %.0f ms",
		bench.Rows[0].Median, bench.Rows[1].Median, bench.RunMs, bench.Frames, bench.Gap)
	// The forward passes run in the worker, so the page keeps drawing frames
	// (its spinner animates) all through the run. Were they on the page's
	// thread, there would be almost no frames and one gap as long as the
	// run. The bounds are loose because this machine's 2 shared cores can
	// starve chromium for a second or more at a time.
	if bench.Frames < 5 || bench.Gap > 0.9*bench.RunMs {
		t.Errorf("page frames during the benchmark: %d, longest gap %.0f ms of a %.0f ms run: the page was blocked", bench.Frames, bench.Gap, bench.RunMs)
	}
	screenshot(t, ctx, "bench.png")
}

// slowBody hands out a response body in small pieces with pauses, so a
// model download lasts long enough for the page to show its progress. With
// cutAfter > 0 it fails after that many bytes, like a dropped connection.
type slowBody struct {
	io.ReadCloser
	cutAfter int
	sent     int
}

func (b *slowBody) Read(p []byte) (int, error) {
	time.Sleep(150 * time.Millisecond)
	if b.cutAfter > 0 && b.sent >= b.cutAfter {
		return 0, fmt.Errorf("connection dropped by the test proxy after %d bytes", b.sent)
	}
	n, err := b.ReadCloser.Read(p[:min(len(p), 8<<10)])
	b.sent += n
	return n, err
}

// throttlingProxy serves the server through a reverse proxy that slows the
// test's own model files down (8 KB per 150 ms; an embedded default model
// may be big), drops the connection halfway through
// truncated.vggo.safetensors, and passes everything else through.
func throttlingProxy(t testing.TB, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if p := resp.Request.URL.Path; strings.HasPrefix(p, "/models/") && fileExists(filepath.Join(fixture.modelsDir, path.Base(p))) {
			body := &slowBody{ReadCloser: resp.Body}
			if strings.Contains(resp.Request.URL.Path, "truncated") {
				body.cutAfter = 16 << 10
			}
			resp.Body = body
		}
		return nil
	}
	return serveHTTP(t, proxy)
}

// TestProgressIntakeAccessibility checks the download progress bar (over a
// throttled link), drag and drop, paste and camera capture (chromium's fake
// camera), that every control has an accessible name, and the dark theme.
func TestProgressIntakeAccessibility(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	site := throttlingProxy(t, srv.url)
	ctx := newBrowser(t, "use-fake-device-for-media-stream", "use-fake-ui-for-media-stream")

	run(t, ctx, 30*time.Second, chromedp.Navigate(site+"/"))
	waitFor(t, ctx, "the first model", modelReadyExpr, 60*time.Second)
	// slow16 is 62 KB: about 8 pieces of 8 KB, 150 ms apart.
	pickModel(t, ctx, indexSHA(t, srv, "slow16"))
	raw := waitFor(t, ctx, "the download progress", `(() => { const p = document.querySelector("#model-progress");
		const txt = document.querySelector("#model-progress-text");
		return p && p.value > 0 && p.value < 100 ? JSON.stringify({value: p.value, text: txt ? txt.textContent : ""}) : null; })()`, 30*time.Second)
	var js string
	json.Unmarshal(raw, &js)
	var progress struct {
		Value float64
		Text  string
	}
	json.Unmarshal([]byte(js), &progress)
	if !strings.Contains(progress.Text, "KB of ") || !strings.Contains(progress.Text, "%") {
		t.Errorf("progress text %q, want bytes and a percentage", progress.Text)
	}
	t.Logf("download progress seen: %.1f%% (%q)", progress.Value, progress.Text)
	screenshot(t, ctx, "download-progress.png")
	if src := waitModel(t, ctx, "slow16"); src != "network" {
		t.Fatalf("slow16: %q, want downloaded", src)
	}
	if src := selectModel(t, ctx, "fashion16", indexSHA(t, srv, "fashion16")); src != "network" && src != "cache" {
		t.Fatalf("fashion16: %q", src)
	}

	// A download cut off halfway is an error, is not cached, and the
	// previous model comes back when picked again.
	got := selectModel(t, ctx, "truncated", indexSHA(t, srv, "truncated"))
	if !strings.HasPrefix(got, "error: ") || !strings.Contains(got, "truncated") {
		t.Fatalf("truncated download: page says %q, want an error naming the model", got)
	}
	t.Logf("truncated download: %s", got)
	cached := waitFor(t, ctx, "the model cache", `caches.open("vggo-models-v1").then(c => c.keys()).then(ks => JSON.stringify(ks.map(k => k.url)))`, 10*time.Second)
	if strings.Contains(string(cached), "truncated") || !strings.Contains(string(cached), "fashion16") {
		t.Fatalf("model cache after a dropped download: %s", cached)
	}
	if got := selectModel(t, ctx, "fashion16", indexSHA(t, srv, "fashion16")); got != "cache" {
		t.Fatalf("fashion16 again: %q, want it from the cache", got)
	}

	// Drag and drop, then paste: the same Fashion-MNIST image as a File.
	png, err := os.ReadFile(fixture.images["fashion-0.png"])
	if err != nil {
		t.Fatal(err)
	}
	makeTransfer := fmt.Sprintf(`const bytes = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		const dt = new DataTransfer();`, base64.StdEncoding.EncodeToString(png))
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {`+makeTransfer+`
		dt.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
		const zone = document.querySelector("#dropzone");
		zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
		zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true})); })()`))
	checkAgainstNative(t, results(t, ctx, 1)[0], fixture.images["fashion-0.png"])
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {`+makeTransfer+`
		dt.items.add(new File([bytes], "pasted.png", {type: "image/png"}));
		document.body.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true})); })()`))
	rs := results(t, ctx, 2)
	if rs[0].Name != "pasted.png" || rs[1].Name != "dropped.png" {
		t.Fatalf("gallery = %s, %s; want pasted.png, dropped.png", rs[0].Name, rs[1].Name)
	}
	checkAgainstNative(t, rs[0], fixture.images["fashion-0.png"])

	// Live camera: chromium's fake device is classified frame after frame,
	// with a frame rate; a hidden tab pauses it; one frame is kept.
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("camera-button")))
	waitFor(t, ctx, "the camera picture", `(() => { const v = document.querySelector("#camera-video"); return v && v.videoWidth > 0 && v.readyState >= 2; })()`, 20*time.Second)
	waitFor(t, ctx, "three live frames classified", `(() => { const l = document.querySelector("#live");
		return l && +l.dataset.frames >= 3 && +l.dataset.fps > 0 && l.querySelectorAll(".top5 li").length === 5; })()`, 30*time.Second)
	t.Logf("live camera: %s", evalString(t, ctx, `document.querySelector("#live-fps").textContent`))
	screenshot(t, ctx, "camera-live.png")
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		Object.defineProperty(document, "hidden", {value: true, configurable: true});
		document.dispatchEvent(new Event("visibilitychange", {bubbles: true})); })()`))
	waitFor(t, ctx, "the live view paused", `document.querySelector("#live").dataset.state === "paused"`, 5*time.Second)
	time.Sleep(500 * time.Millisecond) // a frame in flight may still land
	before := evalString(t, ctx, `document.querySelector("#live").dataset.frames`)
	time.Sleep(2 * time.Second)
	if after := evalString(t, ctx, `document.querySelector("#live").dataset.frames`); after != before {
		t.Errorf("hidden tab: live frames went from %s to %s, want a pause", before, after)
	}
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		Object.defineProperty(document, "hidden", {value: false, configurable: true});
		document.dispatchEvent(new Event("visibilitychange", {bubbles: true})); })()`))
	waitFor(t, ctx, "the live view running again", fmt.Sprintf(`+document.querySelector("#live").dataset.frames > %s`, before), 20*time.Second)
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("capture-button")))
	rs = results(t, ctx, 3)
	if !strings.HasPrefix(rs[0].Name, "camera-") || rs[0].State != "done" || len(rs[0].Probs) != len(fashionClasses) {
		t.Fatalf("camera capture: %+v", rs[0])
	}
	sum := 0.0
	for _, p := range rs[0].Probs {
		sum += p
	}
	if math.Abs(sum-1) > 1e-3 {
		t.Errorf("camera capture: probabilities sum to %v", sum)
	}
	screenshot(t, ctx, "camera.png")

	// Accessibility basics: every control has an accessible name, images
	// have alt text, the page has a language and a main landmark.
	raw = waitFor(t, ctx, "the accessibility check", `JSON.stringify({
		unnamed: [...document.querySelectorAll("input, select, button")].filter(e =>
			!((e.labels && e.labels.length) || e.getAttribute("aria-label") || e.textContent.trim())).map(e => e.id || e.outerHTML.slice(0, 60)),
		noAlt: [...document.querySelectorAll("img")].filter(i => !i.hasAttribute("alt")).map(i => i.src),
		lang: document.documentElement.lang, main: !!document.querySelector("main")})`, 10*time.Second)
	json.Unmarshal(raw, &js)
	var a11y struct {
		Unnamed, NoAlt []string
		Lang           string
		Main           bool
	}
	json.Unmarshal([]byte(js), &a11y)
	if len(a11y.Unnamed) > 0 || len(a11y.NoAlt) > 0 || a11y.Lang != "en" || !a11y.Main {
		t.Errorf("accessibility: %+v", a11y)
	}

	// Keyboard: Tab reaches the file picker (visually hidden input, visible label).
	waitFor(t, ctx, "keyboard focus", `(() => { document.querySelector("#model-select").focus(); return true; })()`, 5*time.Second)
	run(t, ctx, 10*time.Second, chromedp.KeyEvent("\t"))
	if id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.id`)); id != "file-input" {
		t.Errorf("Tab from the model picker focuses %q, want file-input", id)
	}
	// Its visible label shows the focus.
	if outline, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("label[for=file-input]")).outlineStyle`)); outline != "solid" {
		t.Errorf("focused file input: its label's outline is %q, want solid", outline)
	}

	// Dark theme.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	bg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
	if bg != "rgb(17, 21, 26)" {
		t.Errorf("dark theme: body background %s, want rgb(17, 21, 26)", bg)
	}
	screenshot(t, ctx, "classify-dark.png")
}
