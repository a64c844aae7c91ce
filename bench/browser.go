package main

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"vggo/internal/headless"
)

// isolatedHandler serves the benchmark page, the built vggo.wasm and ONNX
// file, the npm packages and Go's wasm_exec.js, with the headers that make
// the page cross-origin isolated (COOP/COEP), which SharedArrayBuffer and
// so the peers' wasm threads require.
// /web/static/ is the app's static folder (staticDir), for vggo's worker
// pool: worker.js and the worker wasm builds.
func isolatedHandler(benchDir, staticDir, wasmExec string) http.Handler {
	mime.AddExtensionType(".mjs", "text/javascript")
	mime.AddExtensionType(".wasm", "application/wasm")
	mux := http.NewServeMux()
	mux.Handle("/node_modules/", http.StripPrefix("/node_modules/", http.FileServer(http.Dir(filepath.Join(benchDir, "node_modules")))))
	mux.Handle("/build/", http.StripPrefix("/build/", http.FileServer(http.Dir(filepath.Join(benchDir, "build")))))
	mux.Handle("/web/static/", http.StripPrefix("/web/static/", http.FileServer(http.Dir(staticDir))))
	mux.HandleFunc("/wasm_exec.js", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, wasmExec) })
	mux.Handle("/", http.FileServer(http.Dir(filepath.Join(benchDir, "page"))))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Embedder-Policy", "require-corp")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

// serve starts the handler on 127.0.0.1 (a free port) and returns its base URL.
func serve(h http.Handler) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() { srv.Close() }, nil
}

// pageInfo is what the page reports once its engine is ready.
type pageInfo struct {
	Engine              string `json:"engine"`
	Threads             int    `json:"threads"`
	Version             string `json:"version"`
	CrossOriginIsolated bool   `json:"crossOriginIsolated"`
	HardwareConcurrency int    `json:"hardwareConcurrency"`
	UserAgent           string `json:"userAgent"`
}

// tab is one browser tab running one engine at one thread count.
type tab struct {
	label string // "vggo", "tfjs-wasm 1t", ...
	ctx   context.Context
	info  pageInfo
}

// startBrowser launches headless Chromium with a fresh profile and returns
// its context and version string.
func startBrowser(chromium string) (context.Context, func(), string, error) {
	profile, err := os.MkdirTemp("", "vggo-bench-chromium-")
	if err != nil {
		return nil, nil, "", err
	}
	// Every tab computes while only one is in front: no throttling.
	opts := headless.Options(chromium, profile,
		"disable-background-timer-throttling",
		"disable-renderer-backgrounding",
		"disable-backgrounding-occluded-windows")
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	stop := func() { cancel(); cancelAlloc(); os.RemoveAll(profile) }
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, "", fmt.Errorf("start %s: %w", chromium, err)
	}
	v, err := chromedp.CallBrowser(ctx, browser.GetVersion, cdp.Empty{})
	if err != nil {
		stop()
		return nil, nil, "", fmt.Errorf("%s: Browser.getVersion: %w", chromium, err)
	}
	return ctx, stop, v.Product, nil
}

// openTab opens url in a new tab of the browser and waits (up to timeout)
// for the page's engine to be ready.
func openTab(browserCtx context.Context, label, url string, timeout time.Duration) (*tab, error) {
	ctx, _ := chromedp.NewContext(browserCtx)
	if err := chromedp.Do(ctx); err != nil { // open the tab
		return nil, fmt.Errorf("%s: new tab: %w", label, err)
	}
	logPageProblems(ctx, label)
	t := &tab{label: label, ctx: ctx}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(tctx, chromedp.Navigate(url)); err != nil {
		return nil, fmt.Errorf("%s (%s): %w", label, url, err)
	}
	raw, err := chromedp.Run(tctx, chromedp.Evaluate[[]byte](`window.benchReady`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", label, url, err)
	}
	if err := json.Unmarshal(raw, &t.info); err != nil {
		return nil, fmt.Errorf("%s: page info %s: %w", label, raw, err)
	}
	return t, nil
}

// logPageProblems copies the tab's console errors and warnings and its
// uncaught exceptions to stderr.
func logPageProblems(ctx context.Context, label string) {
	headless.LogPage(ctx, true, func(format string, args ...any) {
		logf("  [%s] "+format, append([]any{label}, args...)...)
	})
}

// run times one forward pass of size×size, batch images in the tab's
// engine; the page measures it with performance.now().
func (t *tab) run(size, batch int, timeout time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(t.ctx, timeout)
	defer cancel()
	ms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf("window.benchRun(%d, %d)", size, batch), chromedp.EvalAwaitPromise))
	if err != nil {
		return 0, fmt.Errorf("%s %dx%d batch %d: %w", t.label, size, size, batch, err)
	}
	if ms <= 0 {
		return 0, fmt.Errorf("%s %dx%d batch %d: page reported %v ms", t.label, size, size, batch, ms)
	}
	return ms, nil
}
