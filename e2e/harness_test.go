package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vggo/internal/headless"
	"vggo/model"
)

// indexSHA returns the SHA-256 the server's /models lists for a model name.
func indexSHA(t testing.TB, srv *server, name string) string {
	t.Helper()
	resp, err := http.Get(srv.url + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var idx struct {
		Models []struct{ Name, SHA256 string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&idx); err != nil {
		t.Fatal(err)
	}
	for _, m := range idx.Models {
		if m.Name == name {
			return m.SHA256
		}
	}
	t.Fatalf("/models lists no %q", name)
	return ""
}

// waitListed polls the server's /models until it lists file, which it does
// once background hashing of the file has finished, and returns the model's
// name. A listed entry with an error fails the test.
func waitListed(t testing.TB, srv *server, file string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var idx struct {
			Models []struct{ Name, File, Error string }
		}
		resp, err := http.Get(srv.url + "/models")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&idx)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET /models: %v", err)
		}
		for _, e := range idx.Models {
			if e.File == file {
				if e.Error != "" {
					t.Fatalf("vggo-server refuses %s: %s", file, e.Error)
				}
				return e.Name
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("vggo-server -models does not list %s after %v: %+v", file, timeout, idx.Models)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pickModel chooses a model in the page's model picker by its SHA-256, as a
// user would (change event).
func pickModel(t testing.TB, ctx context.Context, sha string) {
	t.Helper()
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector("#model-select");
		s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sha)))
}

// waitModel waits until the page reports the named model ready or failed;
// it returns "network", "cache" or "error: ...".
func waitModel(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	expr := fmt.Sprintf(`(() => { const s = document.querySelector("#model-status");
		if (s && s.dataset.state === "ready" && s.dataset.model === %q) return s.dataset.source;
		if (s && s.dataset.state === "error" && s.dataset.model === %q) return "error: " + s.textContent;
		return null; })()`, name, name)
	var v string
	json.Unmarshal(waitFor(t, ctx, "model "+name, expr, 60*time.Second), &v)
	return v
}

// selectModel picks a model and waits for the outcome (see waitModel).
func selectModel(t testing.TB, ctx context.Context, name, sha string) string {
	t.Helper()
	pickModel(t, ctx, sha)
	return waitModel(t, ctx, name)
}

// server is a running vggo-server process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

// startServer starts vggo-server on port with the fixture models and any
// extra flags.
func startServer(t testing.TB, port int, flags ...string) *server {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &server{url: "http://" + addr, logs: new(bytes.Buffer)}
	s.cmd = exec.Command(fixture.server, append([]string{"-addr", addr, "-models", fixture.modelsDir}, flags...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				if idx, err := http.Get(s.url + "/models"); err == nil {
					body, _ := io.ReadAll(idx.Body)
					idx.Body.Close()
					var compact bytes.Buffer
					json.Compact(&compact, body)
					t.Logf("GET /models: %.600s", compact.String())
				}
				return s
			}
		}
		if time.Now().After(deadline) {
			s.stop()
			t.Fatalf("server did not become healthy: %v\n%s", err, s.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) stop() {
	if s.cmd.Process == nil || s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serveHTTP serves h on a new port of 127.0.0.1 (its own origin) until
// the test ends, and returns its URL.
func serveHTTP(t testing.TB, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	return "http://" + l.Addr().String()
}

// newBrowser starts chromium with a fresh profile and logs the page's
// console and exceptions into the test log.
func newBrowser(t testing.TB, extraFlags ...string) context.Context {
	t.Helper()
	ctx, _ := newBrowserIn(t, t.TempDir(), extraFlags...)
	return ctx
}

// newBrowserIn is newBrowser on the given profile directory, so a second
// browser can find what a first one stored; quit ends the browser (the
// test's end does too).
func newBrowserIn(t testing.TB, profile string, extraFlags ...string) (ctx context.Context, quit func()) {
	t.Helper()
	opts := append(headless.Options(chromium, profile, extraFlags...), chromedp.WindowSize(1200, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	quit = func() { cancel(); cancelAlloc() }
	t.Cleanup(quit)
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatal(err)
	}
	headless.LogPage(ctx, false, t.Logf)
	return ctx, quit
}

// run runs browser actions with a deadline.
func run(t testing.TB, ctx context.Context, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// waitFor polls a JavaScript expression until it is truthy and returns its
// value as JSON.
func waitFor(t testing.TB, ctx context.Context, what, expr string, timeout time.Duration) []byte {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Poll[[]byte](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		status, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("#model-status")||{}).textContent || document.body.innerText.slice(0, 500)`))
		t.Fatalf("waiting for %s: %v (page says: %q)", what, err, status)
	}
	return v
}

func screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(fixture.artifacts, name)
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Error(err)
	}
	t.Logf("screenshot: %s", p)
}

// pageResult is one gallery entry as the page shows it.
type pageResult struct {
	Name  string    `json:"name"`
	State string    `json:"state"`
	Class string    `json:"class"`
	Probs []float64 `json:"probs"`
	Error string    `json:"error"`
}

// results waits until n gallery entries are settled (not pending) and
// returns them, newest first.
func results(t testing.TB, ctx context.Context, n int) []pageResult {
	t.Helper()
	expr := fmt.Sprintf(`(() => {
		const arts = [...document.querySelectorAll("#results article.result")];
		if (arts.length < %d || arts.some(a => a.dataset.state === "pending")) return null;
		return JSON.stringify(arts.map(a => ({
			name: a.dataset.name, state: a.dataset.state, class: a.dataset.class || "",
			probs: a.dataset.probs ? JSON.parse(a.dataset.probs) : null,
			error: (a.querySelector(".result-error") || {}).textContent || ""})));
	})()`, n)
	raw := waitFor(t, ctx, fmt.Sprintf("%d settled results", n), expr, 30*time.Second)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	var rs []pageResult
	if err := json.Unmarshal([]byte(s), &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

// checkAgainstNative compares a page result with the native classifier on
// the same file: same best class, every probability within 1e-3.
func checkAgainstNative(t testing.TB, r pageResult, file string) {
	t.Helper()
	if r.State != "done" {
		t.Fatalf("%s: state %q, error %q", r.Name, r.State, r.Error)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := model.DecodeImage(f, file)
	if err != nil {
		t.Fatal(err)
	}
	native := fixture.net.Classify(img)
	if r.Class != native[0].Class {
		t.Errorf("%s: browser says %q, native classify %q", r.Name, r.Class, native[0].Class)
	}
	if len(r.Probs) != len(native) {
		t.Fatalf("%s: %d probabilities, native %d", r.Name, len(r.Probs), len(native))
	}
	worst := 0.0
	for _, p := range native {
		worst = math.Max(worst, math.Abs(r.Probs[p.Index]-float64(p.Prob)))
	}
	if worst > 1e-3 {
		t.Errorf("%s: probabilities differ from native by up to %g (tolerance 1e-3)", r.Name, worst)
	}
	t.Logf("%s: %s (p=%.4f), max |browser-native| = %.2g", r.Name, r.Class, native[0].Prob, worst)
}

func upload(t testing.TB, ctx context.Context, names ...string) {
	t.Helper()
	var files []string
	for _, n := range names {
		files = append(files, fixture.images[n])
	}
	run(t, ctx, 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), files))
}

const modelReadyExpr = `(() => { const s = document.querySelector("#model-status");
	return s && s.dataset.state === "ready" ? s.dataset.source : (s && s.dataset.state === "error" ? "error: " + s.textContent : null); })()`

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
