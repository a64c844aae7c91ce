package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestClassifyManyFiles drops 300 images on the classify page at once (the
// file picker's FileList, as a drop of a folder gives): the page must send
// them to the worker pool a few at a time, so the worker's bounded message
// queue never overflows (it used to: the Go worker program exited), and
// every one must be answered: the progress line counts 300 of 300, the
// shown cards are all done, and no worker stopped on the way.
func TestClassifyManyFiles(t *testing.T) {
	const n = 300
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	samples, err := filepath.Glob(filepath.Join(root, "web", "static", "samples", "*.png"))
	if err != nil || len(samples) == 0 {
		t.Fatalf("samples: %v, %v", samples, err)
	}
	dir := t.TempDir()
	var files []string
	for i := 0; i < n; i++ {
		data, err := os.ReadFile(samples[i%len(samples)])
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("image-%03d.png", i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/?threads=2"))
	if got := waitFor(t, ctx, "the model", modelReadyExpr, 60*time.Second); strings.Contains(string(got), "error") {
		t.Fatalf("model: %s", got)
	}
	run(t, ctx, 30*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), files))
	waitFor(t, ctx, "300 of 300 classified", fmt.Sprintf(`(() => { const p = document.querySelector("#classify-progress");
		return p && +p.dataset.done === %d && +p.dataset.total === %d ? p.textContent : null; })()`, n, n), 5*time.Minute)
	for _, r := range results(t, ctx, 12) {
		if r.State != "done" {
			t.Errorf("%s: state %q, error %q", r.Name, r.State, r.Error)
		}
	}
	p := readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
	if p.Workers != "2" || strings.Contains(p.Text, "stopped") {
		t.Errorf("pool line after %d images: %+v, want 2 workers and none stopped", n, p)
	}
}
