package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// benchBuild opens the benchmark page with query (a tiny run, auto-started)
// in a fresh browser that runs script (if any) before the page's own, and
// returns the worker build the page says it runs and the bench rows'
// medians, failing on a page error.
func benchBuild(t testing.TB, srv *server, script, query string) (string, []float64) {
	t.Helper()
	ctx := newBrowser(t)
	if script != "" {
		if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
			t.Fatal(err)
		}
	}
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/bench?sizes=32&width=16&warmup=0&runs=1&auto=1"+query))
	raw := waitFor(t, ctx, "the benchmark", `(() => { const t = document.querySelector("#bench-table");
		const e = document.querySelector("#bench-error"), b = document.querySelector("#bench-build");
		if (e) return JSON.stringify({error: e.textContent});
		if (!t || t.dataset.state !== "done" || !b) return null;
		return JSON.stringify({build: b.dataset.build, line: b.textContent,
			medians: [...t.querySelectorAll("tbody tr")].map(r => +r.dataset.median)}); })()`, 60*time.Second)
	var s string
	json.Unmarshal(raw, &s)
	var got struct {
		Build, Line, Error string
		Medians            []float64
	}
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		t.Fatal(err)
	}
	if got.Error != "" {
		t.Fatalf("bench%s: %s", query, got.Error)
	}
	t.Logf("bench%s: %q, 32px at 1/16 width %v ms", query, got.Line, got.Medians)
	return got.Build, got.Medians
}

// TestWorkerBuildSelection: Chromium, which ships relaxed SIMD, gets the
// relaxed worker build; where WebAssembly.validate refuses the page's
// relaxed-SIMD probe (a browser without relaxed SIMD, emulated by replacing
// validate: Chromium 156 has no switch to turn the feature off) the page
// falls back to the plain SIMD128 build; build=simd128 asks for the plain
// one. Every build computes.
func TestWorkerBuildSelection(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	for _, c := range []struct {
		name, script, query, want string
	}{
		{"chromium", "", "", "relaxed"},
		{"no-relaxed-simd", "WebAssembly.validate = () => false;", "", "simd128"},
		{"build=simd128", "", "&build=simd128", "simd128"},
	} {
		t.Run(c.name, func(t *testing.T) {
			build, medians := benchBuild(t, srv, c.script, c.query)
			if build != c.want {
				t.Errorf("page runs the %q build, want %q", build, c.want)
			}
			if len(medians) != 1 || !(medians[0] > 0) {
				t.Errorf("bench rows %v, want one positive median", medians)
			}
		})
	}
}
