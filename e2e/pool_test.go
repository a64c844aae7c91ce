package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vggo/model"
)

// poolState is what a page's pool line (#model-workers, #embed-workers,
// #bench-workers) says: its workers and their exchange mode.
type poolState struct {
	Workers string `json:"workers"`
	Mode    string `json:"mode"`
	Text    string `json:"text"`
}

// poolLineExpr reads the pool line with the given id as JSON.
func poolLineExpr(id string) string {
	return fmt.Sprintf(`(() => { const p = document.querySelector("#%s");
		return p ? JSON.stringify({workers: p.dataset.workers, mode: p.dataset.mode, text: p.textContent}) : null; })()`, id)
}

func readPool(t testing.TB, raw []byte) poolState {
	t.Helper()
	var s string
	json.Unmarshal(raw, &s)
	var p poolState
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("pool line %s: %v", raw, err)
	}
	return p
}

// nativeProbs is the native engine's probabilities for a test image.
func nativeProbs(t testing.TB, file string) []float32 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := model.DecodeImage(f, file)
	if err != nil {
		t.Fatal(err)
	}
	return fixture.net.Forward(1, model.Preprocess(img, fixture.net.InputSize(), fixture.net.PreprocessMode()))
}

// maxDiff is max |a[i]-b[i]|.
func maxDiff(a []float64, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-float64(b[i])))
	}
	return d
}

// TestPoolAgreesWithNative: the app with 1 and 2 inference workers (the
// SharedArrayBuffer exchange, the app being cross-origin isolated) and 2
// workers forced to the message exchange gives every sample the native
// engine's top class and probabilities within 1e-5, and the three give
// the same probabilities bit for bit; the page says which mode runs.
func TestPoolAgreesWithNative(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	samples, err := filepath.Glob(filepath.Join(root, "web", "static", "samples", "*.png"))
	if err != nil || len(samples) < 10 {
		t.Fatalf("samples: %v, %v", samples, err)
	}
	paths := map[string]string{}
	for _, p := range samples {
		paths[filepath.Base(p)] = p
	}
	var first map[string][]float64
	for _, c := range []struct{ query, workers, mode string }{
		{"threads=1", "1", "single"},
		{"threads=2", "2", "shared"},
		{"threads=2&exchange=message", "2", "message"},
		{"threads=3", "3", "shared"},
	} {
		t.Run(c.query, func(t *testing.T) {
			run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/?"+c.query))
			if got := waitFor(t, ctx, "the model", modelReadyExpr, 60*time.Second); strings.Contains(string(got), "error") {
				t.Fatalf("model: %s", got)
			}
			p := readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
			if p.Workers != c.workers || p.Mode != c.mode {
				t.Errorf("pool line %+v, want %s workers in mode %s", p, c.workers, c.mode)
			}
			run(t, ctx, 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), samples))
			rs := results(t, ctx, len(samples))
			got := map[string][]float64{}
			for _, r := range rs[:len(samples)] {
				checkAgainstNative(t, r, paths[r.Name])
				if d := maxDiff(r.Probs, nativeProbs(t, paths[r.Name])); d > 1e-5 {
					t.Errorf("%s: probabilities differ from the native forward pass by %g (tolerance 1e-5)", r.Name, d)
				}
				got[r.Name] = r.Probs
			}
			if first == nil {
				first = got
				return
			}
			for name, probs := range got {
				if !slices.Equal(probs, first[name]) {
					t.Errorf("%s: probabilities %v, with one worker %v", name, probs, first[name])
				}
			}
		})
	}
}

// TestPoolWorkerKilled: killing a worker of a 2-worker pool while images
// are on their way (through the page's test hook, window.vggoPool.kill,
// which terminates it as a crash would) loses none: every image still
// gets its result, matching the native engine, the page says the pool
// shrank, and it keeps classifying; killing the last worker brings a
// fresh one.
func TestPoolWorkerKilled(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/?threads=2"))
	waitFor(t, ctx, "the model", modelReadyExpr, 60*time.Second)
	files := []string{"fashion-0.png", "gradient.png", "fashion-0.png"}
	upload(t, ctx, files...)
	run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](`window.vggoPool.kill(1)`))
	for _, r := range results(t, ctx, len(files)) {
		checkAgainstNative(t, r, fixture.images[r.Name])
	}
	p := readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
	if p.Workers != "1" || !strings.Contains(p.Text, "stopped") {
		t.Errorf("after the kill the pool line says %+v, want 1 worker and why", p)
	}
	// The last worker killed mid-run: a fresh one takes the image.
	upload(t, ctx, "fashion-0.png")
	run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](`window.vggoPool.kill(0)`))
	rs := results(t, ctx, len(files)+1)
	checkAgainstNative(t, rs[0], fixture.images["fashion-0.png"])
	p = readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
	if p.Workers != "1" || !strings.Contains(p.Text, "fresh worker") {
		t.Errorf("after killing the last worker the pool line says %+v", p)
	}
}

// TestPoolWidgetFallback: a widget with threads="2" on a host page that is
// not cross-origin isolated (no SharedArrayBuffer) runs its two workers
// through the message exchange, says so, and classifies as the native
// engine does.
func TestPoolWidgetFallback(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	host := servePage(t, eventRecorder+fmt.Sprintf(`<script src="%s/embed.js" defer></script>
<vggo-classifier id="w" model="fashion16" threads="2"></vggo-classifier></body></html>`, srv.url))
	ctx := newBrowser(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(host))
	waitEvent(t, ctx, "w", "vggo-ready", 1)
	if iso, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`crossOriginIsolated`)); iso {
		t.Fatal("the host page is cross-origin isolated: the test proves nothing")
	}
	raw := inFrame(t, ctx, "threads=2", 10*time.Second, chromedp.Evaluate[[]byte](poolLineExpr("embed-workers")))
	if p := readPool(t, raw); p.Workers != "2" || p.Mode != "message" {
		t.Errorf("widget pool line %+v, want 2 workers passing messages", p)
	}
	inFrame(t, ctx, "threads=2", 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{fixture.images["fashion-0.png"]}))
	ev := waitEvent(t, ctx, "w", "vggo-result", 1)
	checkAgainstNative(t, asPageResult(ev), fixture.images["fashion-0.png"])
}

// TestPoolBench: /bench?threads=N runs the split pass at 1, 2 and 4
// workers (4 on this 2-core machine must still finish) and in the message
// mode; every row says its workers, mode and memory.
func TestPoolBench(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	for _, c := range []struct{ query, workers, mode string }{
		{"&threads=1", "1", "single"},
		{"&threads=2", "2", "shared"},
		{"&threads=4", "4", "shared"},
		{"&threads=2&exchange=message", "2", "message"},
	} {
		t.Run(c.query, func(t *testing.T) {
			_, medians := benchBuild(t, srv, "", c.query)
			if len(medians) != 1 || !(medians[0] > 0) {
				t.Errorf("bench rows %v, want one positive median", medians)
			}
		})
	}
}
