//go:build browser

package main

// An opt-in check in a real browser (needs Debian's chromium and the built
// wasm in web/static, i.e. scripts/build-wasm.sh first):
//
//	go test -tags browser -run TestBrowser -v ./server
//
// It serves the embedded tree, loads the app in headless chromium and
// asserts that the security headers do not break it: no Content-Security-
// Policy violation is reported, the page is cross-origin isolated (COOP +
// COEP, so SharedArrayBuffer is available), app.wasm starts and the
// inference worker loads the embedded default model.

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"vggo/internal/headless"

	"vggo/web"
)

func TestBrowserSecurityHeadersKeepTheAppWorking(t *testing.T) {
	chromium := headless.DefaultPath
	if p := os.Getenv("VGGO_CHROMIUM"); p != "" {
		chromium = p
	}
	if _, err := web.FS.Open("static/app.wasm"); err != nil {
		t.Fatalf("web/static/app.wasm is not built (run scripts/build-wasm.sh): %v", err)
	}
	ts := httptest.NewServer(newHandler(config{WebFS: web.FS}))
	defer ts.Close()

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), headless.Options(chromium, t.TempDir())...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelT()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	var violations []string
	record := func(source, text string) {
		if strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Cross-Origin") || source == "security" {
			mu.Lock()
			violations = append(violations, text)
			mu.Unlock()
		}
	}
	logs := chromedp.Events(ctx, cdplog.EntryAdded)
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			t.Logf("log [%s/%s] %s", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text)
			record(string(ev.Entry.Source), ev.Entry.Text)
		}
	}()
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, strings.TrimSpace(string(a.Value)+" "+a.Description))
			}
			text := strings.Join(parts, " ")
			t.Logf("console.%s %s", ev.Type, text)
			record("console", text)
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			text := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				text += " " + ev.ExceptionDetails.Exception.Description
			}
			t.Logf("exception %s", text)
			record("exception", text)
		}
	}()

	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, cdplog.Enable, cdp.Empty{})
			return err
		}),
		chromedp.Navigate(ts.URL+"/"),
	)
	if err != nil {
		t.Fatal(err)
	}
	// go-app removes its loader once app.wasm runs.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("app-wasm-loader") === null`,
		chromedp.WithPollingTimeout(90*time.Second))); err != nil {
		t.Fatalf("app.wasm did not start: %v", err)
	}
	// The worker (worker.js + worker.wasm) fetches /models and the default
	// model; the UI then says the model is ready.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`/ready/.test(document.body.innerText)`,
		chromedp.WithPollingTimeout(60*time.Second))); err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("the default model did not become ready: %v\npage text: %s", err, text)
	}
	isolated, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`self.crossOriginIsolated && typeof SharedArrayBuffer === "function"`))
	if err != nil || !isolated {
		t.Errorf("page not cross-origin isolated (%v)", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, v := range violations {
		t.Errorf("security violation: %s", v)
	}
}
