package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"vggo/wasm/ui"
)

// docsSnippet is the HTML snippet of docs/embed.md, as a page author
// copies it, pointed at the test's vggo server.
func docsSnippet(t testing.TB, vggoURL string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "embed.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```html\n(.*?)```").FindSubmatch(doc)
	if m == nil || !strings.Contains(string(m[1]), "https://VGGO-HOST") {
		t.Fatalf("docs/embed.md has no html snippet with https://VGGO-HOST")
	}
	return strings.ReplaceAll(string(m[1]), "https://VGGO-HOST", vggoURL)
}

// servePage serves html at / of a new origin (http://localhost:PORT,
// another site than the vggo servers' 127.0.0.1) and returns its URL.
func servePage(t testing.TB, html string) string {
	t.Helper()
	return servePageWithCSP(t, html, "")
}

// servePageWithCSP is servePage with a Content-Security-Policy header
// (none when csp is "").
func servePageWithCSP(t testing.TB, html, csp string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if csp != "" {
			w.Header().Set("Content-Security-Policy", csp)
		}
		fmt.Fprint(w, html)
	})}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	return fmt.Sprintf("http://localhost:%d/", l.Addr().(*net.TCPAddr).Port)
}

// eventRecorder records every widget event of the page in window.events.
const eventRecorder = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host</title><script>
  window.events = [];
  for (const type of ["vggo-ready", "vggo-result", "vggo-error"]) {
    document.addEventListener(type, (e) => window.events.push({type: e.type, widget: e.target.id, detail: e.detail}));
  }
</script></head><body>
`

// TestEmbedDocsSnippetAndFailures: the snippet of docs/embed.md, copied as
// written, shows a working widget; a model name the server lacks gives an
// error listing the ones it has; a widget that cannot start (the server
// does not let the page embed it, the page's CSP frame-src does not allow
// it, the server is down, the frame's app does not load) shows a message
// in the element saying why, fires vggo-error, and rejects classify(),
// within blockedWithin.
func TestEmbedDocsSnippetAndFailures(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)

	// The snippet as written; the recorder needs an id on the element.
	snippet := strings.Replace(docsSnippet(t, srv.url), "<vggo-classifier ", `<vggo-classifier id="doc" `, 1)
	page := eventRecorder + snippet + `<vggo-classifier id="wrong" model="fashion16-typo"></vggo-classifier></body></html>`
	run(t, ctx, 30*time.Second, chromedp.Navigate(servePage(t, page)))
	if ev := waitEvent(t, ctx, "doc", "vggo-ready", 1); ev.Detail.Model != "fashion-mnist-vgg16" {
		t.Fatalf("the docs snippet's widget loaded %q", ev.Detail.Model)
	}
	root, _ := repoRoot()
	sandal, err := os.ReadFile(filepath.Join(root, "web", "static", "samples", "test-01002-sandal.png"))
	if err != nil {
		t.Fatal(err)
	}
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const bytes = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		document.querySelector("#doc").classify(new Blob([bytes], {type: "image/png"}), "sandal.png"); })()`,
		base64.StdEncoding.EncodeToString(sandal))))
	if ev := waitEvent(t, ctx, "doc", "vggo-result", 1); len(ev.Detail.Classes) == 0 || ev.Detail.Classes[0].Class != "Sandal" ||
		ev.Detail.OOD == nil || ev.Detail.OOD.Flagged {
		t.Errorf("the docs snippet's widget classified the sandal sample as %+v, ood %+v (want Sandal, not flagged)", ev.Detail.Classes, ev.Detail.OOD)
	}
	// Noise: the event says the image is unlike the training images, and
	// the frame shows the app's note instead of presenting the top class.
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const bytes = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		document.querySelector("#doc").classify(new Blob([bytes], {type: "image/png"}), "noise.png"); })()`,
		base64.StdEncoding.EncodeToString(noisePNG(t)))))
	if ev := waitEvent(t, ctx, "doc", "vggo-result", 2); ev.Detail.OOD == nil || !ev.Detail.OOD.Flagged {
		t.Errorf("noise: vggo-result ood %+v, want flagged", ev.Detail.OOD)
	}
	note := inFrame(t, ctx, "model=fashion-mnist-vgg16", 10*time.Second, chromedp.Evaluate[string](`new Promise((done) => {
		const t0 = Date.now(), look = () => {
			const a = document.querySelector("#embed-result[data-name='noise.png'][data-state=done]");
			if (a) done((a.querySelector(".ood-note") || {}).textContent || "no note");
			else if (Date.now() - t0 > 5000) done("no result");
			else setTimeout(look, 100);
		};
		look(); })`, chromedp.EvalAwaitPromise))
	if note != ui.OODNote {
		t.Errorf("noise: the widget shows %q, want the note %q", note, ui.OODNote)
	}
	if ev := waitEvent(t, ctx, "wrong", "vggo-error", 1); !strings.Contains(ev.Detail.Message, `"fashion16-typo"`) ||
		!strings.Contains(ev.Detail.Message, `"fashion-mnist-vgg16"`) || !strings.Contains(ev.Detail.Message, `"fashion16"`) {
		t.Errorf("unknown model: %q, want the name asked for and the server's names", ev.Detail.Message)
	}
	screenshot(t, ctx, "widget-docs-snippet.png")

	// A server that lets only another site embed its widget.
	strict := startServer(t, freePort(t), "-embed-origins", "https://blog.example.com")
	defer strict.stop()
	checkBlocked(t, ctx, strict.url, "blocked", "", "-embed-origins")

	// A host page whose own CSP lets it frame only itself.
	checkBlocked(t, ctx, srv.url, "csp", "frame-src 'self'", "Content-Security-Policy (frame-src)")

	// A server whose page loads but whose app does not (its app.wasm fails):
	// the frame says hello, then that its app failed.
	checkBlocked(t, ctx, overridingProxy(t, srv.url, ui.AppWASM, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unavailable (e2e)", http.StatusServiceUnavailable)
	}), "noapp", "", "its app did not load")

	// A frame that says hello, then leaves the widget's page before its
	// app is ready (here go-app's loader script navigates it away).
	checkBlocked(t, ctx, overridingProxy(t, srv.url, "/app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		io.WriteString(w, `setTimeout(() => location.replace("about:blank"), 500);`)
	}), "left", "", "left the widget's page")

	// A server that goes down after the page loaded its embed.js.
	down := startServer(t, freePort(t))
	run(t, ctx, 30*time.Second, chromedp.Navigate(servePage(t, eventRecorder+`<script src="`+down.url+`/embed.js"></script></body></html>`)))
	waitFor(t, ctx, "embed.js", `!!customElements.get("vggo-classifier")`, 10*time.Second)
	down.stop()
	checkBlockedOn(t, ctx, down.url, "down", "did not answer")
}

// blockedWithin bounds how long a widget that cannot start takes to say so
// (embed.js: START_MS is 6 s, the other checks are quicker), with room for
// a loaded machine.
const blockedWithin = 9 * time.Second

// overridingProxy serves target through a reverse proxy (a new origin)
// that answers path with handler instead.
func overridingProxy(t testing.TB, target, path string, handler http.HandlerFunc) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	mux := http.NewServeMux()
	mux.HandleFunc(path, handler)
	mux.Handle("/", proxy)
	return serveHTTP(t, mux)
}

// checkBlocked opens a page (with Content-Security-Policy csp, if any)
// embedding a widget of vggoURL and checks that the widget reports itself
// blocked, with a reason containing why.
func checkBlocked(t testing.TB, ctx context.Context, vggoURL, name, csp, why string) {
	t.Helper()
	page := eventRecorder + `<script src="` + vggoURL + `/embed.js"></script></body></html>`
	run(t, ctx, 30*time.Second, chromedp.Navigate(servePageWithCSP(t, page, csp)))
	checkBlockedOn(t, ctx, vggoURL, name, why)
}

// checkBlockedOn adds a widget framing vggoURL/embed to the current page
// (whose embed.js may come from elsewhere) and checks, within
// blockedWithin: a vggo-error naming the server and containing why, the
// same message shown in the element, and classify() rejected with it.
func checkBlockedOn(t testing.TB, ctx context.Context, vggoURL, name, why string) {
	t.Helper()
	start := time.Now()
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const w = document.createElement("vggo-classifier"); w.id = %q; w.setAttribute("model", "fashion-mnist-vgg16");
		document.body.appendChild(w);
		window.rejected = null;
		customElements.whenDefined("vggo-classifier").then(() => w.classify(new Blob(["x"], {type: "image/png"}), "x.png")
			.then(() => { window.rejected = "resolved"; }, (e) => { window.rejected = e.message; })); })()`, name)))
	ev := waitEvent(t, ctx, name, "vggo-error", 1)
	raw := waitFor(t, ctx, "classify() rejected", `window.rejected`, blockedWithin)
	took := time.Since(start)
	shown := evalString(t, ctx, fmt.Sprintf(`(() => { const p = document.querySelector("#%s").shadowRoot.querySelector("p[role=alert]"); return p ? p.textContent : ""; })()`, name))
	if took > blockedWithin {
		t.Errorf("%s: took %v to report, want at most %v", name, took, blockedWithin)
	}
	if !strings.Contains(ev.Detail.Message, vggoURL) || !strings.Contains(ev.Detail.Message, why) || shown != ev.Detail.Message || !strings.Contains(string(raw), "cannot be shown") {
		t.Errorf("%s: vggo-error %q (want it to name %s and say %q), element shows %q, classify() rejected with %s", name, ev.Detail.Message, vggoURL, why, shown, raw)
	}
	t.Logf("%s: reported after %v: %s", name, took.Round(10*time.Millisecond), ev.Detail.Message)
	screenshot(t, ctx, "widget-"+name+".png")
}
