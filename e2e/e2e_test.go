package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"vggo/internal/headless"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"vggo/model"
	"vggo/wasm/inference"
)

// Chromium is the browser the tests drive; VGGO_CHROMIUM overrides it.
var chromium = headless.DefaultPath

// fashionClasses are Fashion-MNIST's class names, in label order.
var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// fixture is what TestMain prepares for every test.
var fixture struct {
	dir       string // temporary directory for everything
	server    string // built vggo-server binary
	modelsDir string // -models directory with the fixture model
	modelPath string
	artifacts string            // screenshots
	images    map[string]string // name → path of test images
	net       *model.Net        // native reference
}

func TestMain(m *testing.M) {
	code, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		os.Exit(1)
	}
	if code == 0 {
		code = m.Run()
	}
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// setup builds the wasm programs into web/static (so the server embeds the
// fresh ones) and the server binary, and writes the fixture model and
// images. A missing chromium is an error: CI installs it.
func setup() (int, error) {
	if p := os.Getenv("VGGO_CHROMIUM"); p != "" {
		chromium = p
	}
	if _, err := os.Stat(chromium); err != nil {
		return 1, fmt.Errorf("chromium not found at %s (install Debian's chromium, or set VGGO_CHROMIUM): %v", chromium, err)
	}
	dir, err := os.MkdirTemp("", "vggo-e2e-")
	if err != nil {
		return 1, err
	}
	fixture.dir = dir
	root, err := repoRoot()
	if err != nil {
		return 1, err
	}
	start := time.Now()
	build := exec.Command("bash", "scripts/build-wasm.sh")
	build.Dir = root
	build.Env = append(os.Environ(), "BROTLI_QUALITY=4")
	if out, err := build.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("scripts/build-wasm.sh: %v\n%s", err, out)
	}
	fixture.server = filepath.Join(dir, "vggo-server")
	// VGGO_E2E_SERVER_PKG builds another package as the server (a local
	// variant while developing); the default is the real one.
	serverPkg := os.Getenv("VGGO_E2E_SERVER_PKG")
	if serverPkg == "" {
		serverPkg = "./server"
	}
	gobuild := exec.Command("go", "build", "-o", fixture.server, serverPkg)
	gobuild.Dir = root
	if out, err := gobuild.CombinedOutput(); err != nil {
		return 1, fmt.Errorf("go build %s: %v\n%s", serverPkg, err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built wasm and server in %v\n", time.Since(start).Round(time.Millisecond))

	fixture.artifacts = os.Getenv("VGGO_ARTIFACTS")
	if fixture.artifacts == "" {
		fixture.artifacts = filepath.Join(dir, "artifacts")
	}
	if err := os.MkdirAll(fixture.artifacts, 0o755); err != nil {
		return 1, err
	}
	fixture.modelsDir = filepath.Join(dir, "models")
	os.MkdirAll(fixture.modelsDir, 0o755)
	m := inference.RandomModel(32, 16, 42)
	m.Info.Classes = fashionClasses
	m.Info.Provenance = map[string]string{"dataset": "none: random weights for the e2e test"}
	fixture.modelPath = filepath.Join(fixture.modelsDir, "fashion16.vggo.safetensors")
	if err := model.WriteModelFile(fixture.modelPath, m, "int8"); err != nil {
		return 1, err
	}
	// A second model, tampered with after the server indexed it (see
	// tamperModel), stands for a corrupt download.
	m.Info.Classes = append([]string(nil), fashionClasses...)
	m.Info.Classes[0] = "tampered"
	if err := model.WriteModelFile(filepath.Join(fixture.modelsDir, "tampered.vggo.safetensors"), m, "int8"); err != nil {
		return 1, err
	}
	// One that is only ever downloaded through the throttling proxy, to
	// watch the progress bar.
	m.Info.Classes[0] = "slow"
	if err := model.WriteModelFile(filepath.Join(fixture.modelsDir, "slow16.vggo.safetensors"), m, "int8"); err != nil {
		return 1, err
	}
	// A fourth, which the throttling proxy cuts off halfway.
	m.Info.Classes[0] = "truncated"
	if err := model.WriteModelFile(filepath.Join(fixture.modelsDir, "truncated.vggo.safetensors"), m, "int8"); err != nil {
		return 1, err
	}
	back, err := model.ReadModelFile(fixture.modelPath)
	if err != nil {
		return 1, err
	}
	if fixture.net, err = model.NewNet(back); err != nil {
		return 1, err
	}
	return 0, writeImages(dir)
}

// writeImages writes the test images: a Fashion-MNIST test image as PNG
// (Debian's dataset-fashion-mnist), a synthetic colour photo, a corrupt PNG
// and a text file.
func writeImages(dir string) error {
	fixture.images = map[string]string{}
	write := func(name string, data []byte) error {
		p := filepath.Join(dir, name)
		fixture.images[name] = p
		return os.WriteFile(p, data, 0o644)
	}
	boot, err := fashionImage(0)
	if err != nil {
		return err
	}
	if err := write("fashion-0.png", boot); err != nil {
		return err
	}
	img := image.NewRGBA(image.Rect(0, 0, 120, 90))
	for y := 0; y < 90; y++ {
		for x := 0; x < 120; x++ {
			img.Set(x, y, color.RGBA{uint8(2 * x), uint8(255 - 2*y), uint8((x * y) % 256), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	photo := buf.Bytes()
	if err := write("gradient.png", photo); err != nil {
		return err
	}
	if err := write("corrupt.png", append(append([]byte(nil), photo[:40]...), bytes.Repeat([]byte{0xde, 0xad}, 50)...)); err != nil {
		return err
	}
	if err := write("notes.txt", []byte("these are notes, not an image\n")); err != nil {
		return err
	}
	// 65 MB, over the 64 MB limit on image files (sparse: nothing is written).
	huge := filepath.Join(dir, "huge.jpg")
	fixture.images["huge.jpg"] = huge
	f, err := os.Create(huge)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Truncate(65 << 20)
}

// tamperModel flips one byte near the end of a model file (tensor data) in
// place, keeping its size and modification time, so the server, which
// re-hashes a file only when those change, keeps announcing the old SHA-256
// while serving different bytes: exactly what a corrupted download looks
// like to the browser.
func tamperModel(t *testing.T, path string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-3] ^= 0x5a
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
}

// indexEntry returns the SHA-256 the server's /models lists for a model name.
func indexSHA(t *testing.T, srv *server, name string) string {
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

// pickModel chooses a model in the page's model picker by its SHA-256, as a
// user would (change event).
func pickModel(t *testing.T, ctx context.Context, sha string) {
	t.Helper()
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector("#model-select");
		s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sha)))
}

// waitModel waits until the page reports the named model ready or failed;
// it returns "network", "cache" or "error: ...".
func waitModel(t *testing.T, ctx context.Context, name string) string {
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
func selectModel(t *testing.T, ctx context.Context, name, sha string) string {
	t.Helper()
	pickModel(t, ctx, sha)
	return waitModel(t, ctx, name)
}

// fashionImage returns test image i of Fashion-MNIST as a PNG.
func fashionImage(i int) ([]byte, error) {
	const path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("Fashion-MNIST (Debian package dataset-fashion-mnist): %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r := bufio.NewReader(zr)
	header := make([]byte, 16)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := r.Discard(i * 28 * 28); err != nil {
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, 28, 28))
	if _, err := io.ReadFull(r, img.Pix); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var buf bytes.Buffer
	err = png.Encode(&buf, img)
	return buf.Bytes(), err
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// server is a running vggo-server process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

func startServer(t *testing.T, port int) *server {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &server{url: "http://" + addr, logs: new(bytes.Buffer)}
	s.cmd = exec.Command(fixture.server, "-addr", addr, "-models", fixture.modelsDir)
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

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newBrowser starts chromium with a fresh profile and logs the page's
// console and exceptions into the test log.
func newBrowser(t *testing.T, extraFlags ...string) context.Context {
	t.Helper()
	opts := append(headless.Options(chromium, t.TempDir(), extraFlags...), chromedp.WindowSize(1200, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // start the browser now
		t.Fatal(err)
	}
	headless.LogPage(ctx, false, t.Logf)
	return ctx
}

// run runs browser actions with a deadline.
func run(t *testing.T, ctx context.Context, timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// waitFor polls a JavaScript expression until it is truthy and returns its
// value as JSON.
func waitFor(t *testing.T, ctx context.Context, what, expr string, timeout time.Duration) []byte {
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

func screenshot(t *testing.T, ctx context.Context, name string) {
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
func results(t *testing.T, ctx context.Context, n int) []pageResult {
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
func checkAgainstNative(t *testing.T, r pageResult, file string) {
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

func upload(t *testing.T, ctx context.Context, names ...string) {
	t.Helper()
	var files []string
	for _, n := range names {
		files = append(files, fixture.images[n])
	}
	run(t, ctx, 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), files))
}

const modelReadyExpr = `(() => { const s = document.querySelector("#model-status");
	return s && s.dataset.state === "ready" ? s.dataset.source : (s && s.dataset.state === "error" ? "error: " + s.textContent : null); })()`

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

	// Errors: a corrupt image and a text file, then a good image again.
	upload(t, ctx, "corrupt.png", "notes.txt", "huge.jpg")
	rs = results(t, ctx, 4)
	for _, r := range rs[:3] {
		if r.State != "error" || !strings.Contains(r.Error, r.Name) {
			t.Errorf("%s: state %q, error %q; want an error naming the file", r.Name, r.State, r.Error)
		}
	}
	upload(t, ctx, "gradient.png")
	rs = results(t, ctx, 5)
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
func throttlingProxy(t *testing.T, target string) string {
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: proxy}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	return "http://" + l.Addr().String()
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

	// Camera: chromium's fake device; capture one frame.
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("camera-button")))
	waitFor(t, ctx, "the camera picture", `(() => { const v = document.querySelector("#camera-video"); return v && v.videoWidth > 0 && v.readyState >= 2; })()`, 20*time.Second)
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

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
