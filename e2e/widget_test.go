package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// hostPage is the second HTTP server of the widget test: another origin
// (http://localhost:PORT, another site than the vggo server's
// http://127.0.0.1:PORT) serving a page that embeds two widgets, the test
// images, and /evil, a page that the host page frames from yet another
// origin (http://127.0.0.1:PORT) to forge messages.
type hostPage struct {
	url  string // http://localhost:PORT
	evil string // http://127.0.0.1:PORT/evil
}

// hostHTML embeds two widgets with different settings. Its own CSS and
// scripts try to disturb them: a rule for every iframe, a global named Go
// (the name Go's wasm_exec.js defines), and it records every widget event.
const hostHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A host page</title>
<style>
  body { font-family: serif; background: #fdf6e3; margin: 1rem; }
  iframe { height: 10px !important; border: 6px solid red; }
  * { color: #b58900; }
  vggo-classifier { max-width: 420px; margin: 1rem 0; }
  #evil { width: 200px; height: 40px; border: 1px dashed gray; }
</style>
<script>
  window.Go = "the host page's own Go";
  window.events = [];
  for (const type of ["vggo-ready", "vggo-result", "vggo-error"]) {
    document.addEventListener(type, (e) => window.events.push({type: e.type, widget: e.target.id, detail: e.detail}));
  }
</script>
<script src="%s/embed.js" defer></script>
</head><body>
<h1>A blog post about clothes</h1>
<p>Try the classifier on your own photo:</p>
<vggo-classifier id="a" model="fashion16" top="3" theme="light"></vggo-classifier>
<p>And here is a second one, dark, showing five classes:</p>
<vggo-classifier id="b" model="fashion16" top="5" theme="dark"></vggo-classifier>
<iframe id="evil" src="%s"></iframe>
</body></html>`

func startHostPage(t testing.TB, vggoURL string) *hostPage {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	h := &hostPage{url: fmt.Sprintf("http://localhost:%d", port), evil: fmt.Sprintf("http://127.0.0.1:%d/evil", port)}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, hostHTML, vggoURL, h.evil)
	})
	// The same widget in a cross-origin isolated page (COOP + COEP
	// require-corp): embed.js and the frame must opt in with CORP.
	mux.HandleFunc("/isolated", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		fmt.Fprintf(w, `<!doctype html><title>isolated host</title><script>
			window.events = [];
			document.addEventListener("vggo-ready", (e) => window.events.push({type: e.type, widget: e.target.id, detail: e.detail}));
		</script><script src="%s/embed.js" defer></script><vggo-classifier id="iso" model="fashion16"></vggo-classifier>`, vggoURL)
	})
	mux.HandleFunc("/evil", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><title>evil</title><p>another origin</p>`)
	})
	mux.HandleFunc("/img/{name}", func(w http.ResponseWriter, r *http.Request) {
		p, ok := fixture.images[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, p)
	})
	hs := &http.Server{Handler: mux}
	go hs.Serve(l)
	t.Cleanup(func() { hs.Close() })
	return h
}

// frameContext attaches to the out-of-process iframe whose URL contains
// part (cross-site frames are targets of their own in chromium). With
// chromedp v0.23.0 such a context answers one Run only (later ones hang),
// so every use attaches afresh: see inFrame.
func frameContext(t testing.TB, ctx context.Context, part string) context.Context {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, info := range infos {
			if info.Type == "iframe" && strings.Contains(info.URL, part) {
				fctx, cancel := chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				return fctx
			}
			seen = append(seen, info.Type+" "+info.URL)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no iframe target with %q among %q", part, seen)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// inFrame runs one action in the iframe whose URL contains part.
func inFrame[T any](t testing.TB, ctx context.Context, part string, timeout time.Duration, action chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(frameContext(t, ctx, part), timeout)
	defer cancel()
	v, err := chromedp.Run(c, action)
	if err != nil {
		t.Fatalf("in the frame %s: %v", part, err)
	}
	return v
}

// widgetEvent is one event the host page recorded.
type widgetEvent struct {
	Type   string `json:"type"`
	Widget string `json:"widget"`
	Detail struct {
		ID      int    `json:"id"`
		Name    string `json:"name"`
		Model   string `json:"model"`
		Message string `json:"message"`
		Classes []struct {
			Class string  `json:"class"`
			Index int     `json:"index"`
			Prob  float64 `json:"prob"`
		} `json:"classes"`
		Probs []float64 `json:"probs"`
		OOD   *struct {
			Flagged bool `json:"flagged"`
		} `json:"ood"`
		Timing struct {
			DecodeMillis, ForwardMillis, TotalMillis float64
		} `json:"timing"`
	} `json:"detail"`
}

// hostEvents returns every widget event the host page has seen.
func hostEvents(t testing.TB, ctx context.Context) []widgetEvent {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.events)`))
	if err != nil {
		t.Fatal(err)
	}
	var evs []widgetEvent
	if err := json.Unmarshal([]byte(s), &evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

// waitEvent waits for the n-th (from 1) event of a type from a widget.
func waitEvent(t testing.TB, ctx context.Context, widget, typ string, n int) widgetEvent {
	t.Helper()
	waitFor(t, ctx, fmt.Sprintf("%s event #%d from widget %s", typ, n, widget), fmt.Sprintf(
		`window.events && window.events.filter(e => e.widget === %q && e.type === %q).length >= %d`, widget, typ, n), 60*time.Second)
	var got []widgetEvent
	for _, e := range hostEvents(t, ctx) {
		if e.Widget == widget && e.Type == typ {
			got = append(got, e)
		}
	}
	return got[n-1]
}

// asPageResult turns a vggo-result event into what checkAgainstNative reads.
func asPageResult(e widgetEvent) pageResult {
	r := pageResult{Name: e.Detail.Name, State: "done", Probs: e.Detail.Probs}
	if e.Type != "vggo-result" {
		r.State, r.Error = "error", e.Detail.Message
	}
	if len(e.Detail.Classes) > 0 {
		r.Class = e.Detail.Classes[0].Class
	}
	return r
}

// TestEmbedWidget embeds two widgets in a page of another origin and
// checks: a file picked inside one frame and images handed to classify()
// give vggo-result events equal to native classification; the other widget
// stays untouched; forged messages in both directions are ignored; a
// non-image gives vggo-error; frames fit their content despite the host's
// CSS; and a widget works offline once used.
func TestEmbedWidget(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	host := startHostPage(t, srv.url)

	// What the host page downloads before the frames: embed.js alone.
	resp, err := http.Get(srv.url + "/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) >= 10<<10 || resp.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Fatalf("/embed.js: %d, %d bytes (budget 10240), CORP %q", resp.StatusCode, len(body), resp.Header.Get("Cross-Origin-Resource-Policy"))
	}
	t.Logf("embed.js: %d bytes uncompressed", len(body))

	ctx := newBrowser(t)

	// The server's own demo page frames the widget (CSP frame-src 'self').
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/embed-demo"))
	waitFor(t, ctx, "the demo widget", `document.querySelector("#demo-events").textContent.includes("vggo-ready: ")`, 60*time.Second)
	screenshot(t, ctx, "embed-demo.png")
	// A cross-origin isolated host page can embed it too.
	run(t, ctx, 30*time.Second, chromedp.Navigate(host.url+"/isolated"))
	waitEvent(t, ctx, "iso", "vggo-ready", 1)
	if iso, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`crossOriginIsolated`)); !iso {
		t.Errorf("the COEP host page is not cross-origin isolated: the check proves nothing")
	}

	run(t, ctx, 30*time.Second, chromedp.Navigate(host.url+"/"))
	waitEvent(t, ctx, "a", "vggo-ready", 1)
	waitEvent(t, ctx, "b", "vggo-ready", 1)
	const frameA, frameB = "theme=light", "theme=dark"

	// 1. The visitor picks a file inside widget a's frame.
	inFrame(t, ctx, frameA, 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{fixture.images["fashion-0.png"]}))
	ev := waitEvent(t, ctx, "a", "vggo-result", 1)
	if ev.Detail.Model != "fashion16" || ev.Detail.ID != 0 || len(ev.Detail.Classes) != len(fashionClasses) {
		t.Errorf("file input result: %+v", ev.Detail)
	}
	for i := 1; i < len(ev.Detail.Classes); i++ {
		if ev.Detail.Classes[i].Prob > ev.Detail.Classes[i-1].Prob {
			t.Errorf("classes not ranked: %+v", ev.Detail.Classes)
		}
	}
	if ev.Detail.Timing.ForwardMillis <= 0 || ev.Detail.Timing.TotalMillis < ev.Detail.Timing.ForwardMillis {
		t.Errorf("timing %+v", ev.Detail.Timing)
	}
	checkAgainstNative(t, asPageResult(ev), fixture.images["fashion-0.png"])
	// The frame shows the top 3 classes.
	shown := inFrame(t, ctx, frameA, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("#embed-result .top5 li").length`))
	if shown != 3 {
		t.Errorf("widget a shows %d classes, want 3 (top=3)", shown)
	}

	// 2. classify() with a URL the host page fetches, and with a Blob.
	res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("a").classify("/img/gradient.png").then(d => JSON.stringify(d))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	var byURL widgetEvent
	byURL.Type = "vggo-result"
	if err := json.Unmarshal([]byte(res), &byURL.Detail); err != nil {
		t.Fatal(err)
	}
	checkAgainstNative(t, asPageResult(byURL), fixture.images["gradient.png"])
	if ev := waitEvent(t, ctx, "a", "vggo-result", 2); ev.Detail.ID != byURL.Detail.ID || ev.Detail.Name != "gradient.png" {
		t.Errorf("classify(url): promise gave id %d, event %+v", byURL.Detail.ID, ev.Detail)
	}
	run(t, ctx, 20*time.Second, chromedp.Evaluate[chromedp.Void](`fetch("/img/fashion-0.png").then(r => r.blob()).then(b => { document.getElementById("a").classify(b, "blob.png"); })`, chromedp.EvalAwaitPromise))
	ev = waitEvent(t, ctx, "a", "vggo-result", 3)
	if ev.Detail.Name != "blob.png" {
		t.Errorf("classify(blob): name %q", ev.Detail.Name)
	}
	checkAgainstNative(t, asPageResult(ev), fixture.images["fashion-0.png"])

	// 3. A non-image, through classify() and through the file input.
	msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("a").classify("/img/notes.txt").then(() => "resolved?!", e => e.message)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	ev = waitEvent(t, ctx, "a", "vggo-error", 1)
	if !strings.Contains(msg, "notes.txt") || ev.Detail.Message != msg {
		t.Errorf("classify(non-image): promise %q, event %+v; want an error naming notes.txt", msg, ev.Detail)
	}
	inFrame(t, ctx, frameA, 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{fixture.images["corrupt.png"]}))
	if ev := waitEvent(t, ctx, "a", "vggo-error", 2); !strings.Contains(ev.Detail.Message, "corrupt.png") {
		t.Errorf("corrupt image: %+v", ev.Detail)
	}
	t.Logf("non-image error: %q", msg)

	// 4. Forged messages. Host side: the /evil frame (another origin)
	// posts a result, a size and a hello to the host page. Frame side: the
	// evil frame posts a classify to every frame it can reach, and widget
	// a's frame gets a synthetic message naming another origin.
	png, err := os.ReadFile(fixture.images["fashion-0.png"])
	if err != nil {
		t.Fatal(err)
	}
	reached := inFrame(t, ctx, "/evil", 10*time.Second, chromedp.Evaluate[int](fmt.Sprintf(`(() => {
		const fake = JSON.stringify({id: 0, name: "forged.png", model: "forged", classes: [{class: "forged", index: 0, prob: 1}], probs: [1]});
		parent.postMessage({vggo: "result", detail: fake}, "*");
		parent.postMessage({vggo: "size", height: 3}, "*");
		parent.postMessage({vggo: "ready"}, "*");
		const blob = new Blob([Uint8Array.from(atob(%q), c => c.charCodeAt(0))], {type: "image/png"});
		for (let i = 0; i < parent.frames.length; i++) {
			try { parent.frames[i].postMessage({vggo: "init"}, "*"); parent.frames[i].postMessage({vggo: "classify", id: 77, name: "forged.png", blob}, "*"); } catch (e) {}
		}
		return parent.frames.length; })()`, base64.StdEncoding.EncodeToString(png))))
	inFrame(t, ctx, frameA, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const blob = new Blob([Uint8Array.from(atob(%q), c => c.charCodeAt(0))], {type: "image/png"});
		window.dispatchEvent(new MessageEvent("message", {data: {vggo: "classify", id: 78, name: "forged.png", blob}, origin: "http://evil.example", source: window.parent}));
		window.dispatchEvent(new MessageEvent("message", {data: {vggo: "classify", id: 79, name: "forged.png", blob}, origin: %q, source: null}));
	})()`, base64.StdEncoding.EncodeToString(png), host.url)))
	// A real request after the forgeries, then a pause: a forged classify
	// that got through would have its result by then (one worker, in order).
	run(t, ctx, 20*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById("a").classify("/img/fashion-0.png", "after-forgery.png")`, chromedp.EvalAwaitPromise))
	waitEvent(t, ctx, "a", "vggo-result", 4)
	time.Sleep(500 * time.Millisecond)
	for _, e := range hostEvents(t, ctx) {
		if e.Detail.Name == "forged.png" || e.Detail.Model == "forged" || e.Detail.ID >= 77 {
			t.Errorf("a forged message got through: %+v", e)
		}
	}
	t.Logf("the evil frame could address %d frames of the host page; nothing it sent was taken", reached)

	// Drag and drop onto widget a's drop zone.
	inFrame(t, ctx, frameA, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([Uint8Array.from(atob(%q), c => c.charCodeAt(0))], "dropped.png", {type: "image/png"}));
		const zone = document.querySelector("#embed-drop");
		zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
		zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true})); })()`, base64.StdEncoding.EncodeToString(png))))
	ev = waitEvent(t, ctx, "a", "vggo-result", 5)
	if ev.Detail.Name != "dropped.png" {
		t.Errorf("drop: result for %q", ev.Detail.Name)
	}
	checkAgainstNative(t, asPageResult(ev), fixture.images["fashion-0.png"])

	// Themes: a is light and b dark whatever the visitor's setting.
	for _, c := range []struct{ frame, want string }{{frameA, "rgb(255, 255, 255)"}, {frameB, "rgb(17, 21, 26)"}} {
		if bg := inFrame(t, ctx, c.frame, 5*time.Second, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".embed")).backgroundColor`)); bg != c.want {
			t.Errorf("frame %s: background %s, want %s", c.frame, bg, c.want)
		}
	}

	// A model the server does not have: vggo-error naming it.
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		const w = document.createElement("vggo-classifier");
		w.id = "missing"; w.setAttribute("model", "no-such-model");
		document.body.appendChild(w); })()`))
	if ev := waitEvent(t, ctx, "missing", "vggo-error", 1); !strings.Contains(ev.Detail.Message, "no-such-model") {
		t.Errorf("missing model: %+v", ev.Detail)
	}
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById("missing").remove()`))

	// A host calling classify() 200 times at once: the widget holds the
	// requests back (a few at a time with the worker, whose queue takes 64),
	// so every promise resolves with its own image's result.
	many, cancel := context.WithTimeout(ctx, 3*time.Minute)
	got, err := chromedp.Run(many, chromedp.Evaluate[int](`fetch("/img/fashion-0.png").then(r => r.blob()).then(b =>
		Promise.all(Array.from({length: 200}, (_, i) => document.getElementById("a").classify(b, "many-" + i))))
		.then(rs => rs.filter((r, i) => r.name === "many-" + i && r.probs.length === 10).length)`, chromedp.EvalAwaitPromise))
	cancel()
	if err != nil || got != 200 {
		t.Errorf("200 classify() calls at once: %d resolved with their result (%v)", got, err)
	}

	// 5. Widget b saw nothing but its own ready event, and shows no result.
	for _, e := range hostEvents(t, ctx) {
		if e.Widget == "b" && e.Type != "vggo-ready" {
			t.Errorf("widget b got %s: %+v", e.Type, e.Detail)
		}
	}
	if n := inFrame(t, ctx, frameB, 10*time.Second, chromedp.Evaluate[int](`document.querySelectorAll("#embed-result").length`)); n != 0 {
		t.Errorf("widget b shows %d results, want none", n)
	}

	// 6. Sizes: each frame is as tall as its content, whatever the host's
	// CSS says about iframes; the host's global Go is untouched.
	for _, c := range []struct {
		id, frame string
	}{{"a", frameA}, {"b", frameB}} {
		inner := fmt.Sprint(inFrame(t, ctx, c.frame, 5*time.Second, chromedp.Evaluate[int](`Math.ceil(document.querySelector(".embed").getBoundingClientRect().height)`)))
		outer := string(waitFor(t, ctx, "iframe height", fmt.Sprintf(`(() => { const want = %s + 2;
			const h = document.getElementById(%q).shadowRoot.querySelector("iframe").getBoundingClientRect().height;
			return Math.abs(h - want) <= 2 ? h : null; })()`, inner, c.id), 10*time.Second))
		t.Logf("widget %s: content %s px, iframe %s px", c.id, inner, outer)
	}
	if g, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`String(window.Go)`)); g != "the host page's own Go" {
		t.Errorf("host page's window.Go = %q", g)
	}
	screenshot(t, ctx, "embed-host.png")

	// 7. Offline: the vggo server goes away; a widget added now still
	// starts (service worker) and classifies (cached model).
	if !inFrame(t, ctx, frameA, 30*time.Second, chromedp.Evaluate[bool](`navigator.serviceWorker.ready.then(r => !!r.active)`, chromedp.EvalAwaitPromise)) {
		t.Fatal("the frame's service worker is not active")
	}
	srv.stop()
	run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		const w = document.createElement("vggo-classifier");
		w.id = "c"; w.setAttribute("model", "fashion16"); w.setAttribute("theme", "auto");
		document.body.appendChild(w); })()`))
	waitEvent(t, ctx, "c", "vggo-ready", 1)
	run(t, ctx, 20*time.Second, chromedp.Evaluate[chromedp.Void](`document.getElementById("c").classify("/img/fashion-0.png")`, chromedp.EvalAwaitPromise))
	checkAgainstNative(t, asPageResult(waitEvent(t, ctx, "c", "vggo-result", 1)), fixture.images["fashion-0.png"])
	screenshot(t, ctx, "embed-host-offline.png")
}
