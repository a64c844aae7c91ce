package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestFirstVisit walks the classify page as a first-time visitor: the
// headline and what the default model knows (from its file's
// description; that it averages each picture with its mirror image), a clicked sample's result scrolled into view with the
// picture the model saw, the page at 1280x800 in the light and the dark
// theme, then on a 390x844 phone in both with no element overflowing, no
// stray "%", no Ctrl+V hint and pinch zoom allowed; everywhere, text
// readable against its background (WCAG AA contrast).
func TestFirstVisit(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	run(t, ctx, 10*time.Second, chromedp.EmulateViewport(1280, 800))
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/"))
	if got := waitModel(t, ctx, "fashion-mnist-vgg16"); got != "network" {
		t.Fatalf("default model: %q", got)
	}
	about := evalString(t, ctx, `document.querySelector("#headline").textContent + "|" + document.querySelector("#model-about").textContent`)
	for _, w := range []string{"VGG16", "Trained on: Fashion-MNIST", "light on a black background", "Knows 10 classes: T-shirt/top", "32×32 pixels", "as it is and mirrored"} {
		if !strings.Contains(about, w) {
			t.Errorf("headline and model description %q lack %q", about, w)
		}
	}

	// A sample clicked at the top of the page: its result comes into view.
	run(t, ctx, 10*time.Second, chromedp.Click(chromedp.CSS(`button.sample[data-sample="test-01002-sandal.png"]`)))
	rs := results(t, ctx, 1)
	if rs[0].State != "done" || rs[0].Class != "Sandal" {
		t.Fatalf("sample: %+v", rs[0])
	}
	var card struct {
		Top, Bottom, Viewport float64
		Natural, Shown        int
		Rendering, Caption    string
	}
	raw := waitFor(t, ctx, "the result card in view", `(() => {
		const a = document.querySelector("#results article.result");
		const r = a.getBoundingClientRect();
		const zoom = a.querySelector("img.input-zoom");
		if (!zoom || !zoom.complete) return null;
		return JSON.stringify({top: r.top, bottom: r.bottom, viewport: innerHeight, natural: zoom.naturalWidth,
			shown: zoom.width, rendering: getComputedStyle(zoom).imageRendering,
			caption: a.querySelector(".model-input figcaption").textContent}); })()`, 10*time.Second)
	var s string
	json.Unmarshal(raw, &s)
	json.Unmarshal([]byte(s), &card)
	if card.Top < 0 || card.Bottom > card.Viewport+1 { // +1: sub-pixel layout
		t.Errorf("the result card is at %.0f..%.0f px, outside the %.0f px viewport", card.Top, card.Bottom, card.Viewport)
	}
	if card.Natural != 32 || card.Shown != 128 || card.Rendering != "pixelated" || !strings.Contains(card.Caption, "32×32") {
		t.Errorf("the model's input picture: %+v, want 32 px shown at 128 px, pixelated", card)
	}
	t.Logf("result card at %.0f..%.0f of %.0f px", card.Top, card.Bottom, card.Viewport)

	// Back at the top, a picked file and then a pasted one: each new card
	// comes first and in view.
	for i, how := range []string{"picked", "pasted"} {
		run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		if how == "picked" {
			upload(t, ctx, "gradient.png")
		} else {
			data, err := os.ReadFile(fixture.images["fashion-0.png"])
			if err != nil {
				t.Fatal(err)
			}
			run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
				const dt = new DataTransfer();
				dt.items.add(new File([Uint8Array.from(atob(%q), c => c.charCodeAt(0))], "pasted.png", {type: "image/png"}));
				document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true})); })()`,
				base64.StdEncoding.EncodeToString(data))))
		}
		want := map[string]string{"picked": "gradient.png", "pasted": "pasted.png"}[how]
		if rs := results(t, ctx, 2+i); rs[0].Name != want {
			t.Errorf("%s: the first card is %q, want the newest, %q", how, rs[0].Name, want)
		}
		raw := waitFor(t, ctx, "the "+how+" card in view", `(() => {
			const r = document.querySelector("#results article.result").getBoundingClientRect();
			return r.top >= 0 && r.bottom <= innerHeight + 1 ? r.top + ".." + r.bottom : null; })()`, 10*time.Second)
		t.Logf("%s: newest card first, at %s px", how, raw)
	}

	// The contrast check finds low contrast where there is some.
	run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](`(() => { const p = document.createElement("p");
		p.id = "grey-on-grey"; p.textContent = "faint"; p.style.cssText = "color: #999; background: #aaa";
		document.querySelector("main").append(p); })()`))
	if low := evalString(t, ctx, lowContrastJS); !strings.Contains(low, "grey-on-grey") {
		t.Errorf("the contrast check missed #999 on #aaa: %s", low)
	}
	run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](`document.querySelector("#grey-on-grey").remove()`))

	// Desktop, light then dark: no sideways scrolling, the Ctrl+V hint is
	// there (a keyboard), every text is readable.
	for _, theme := range []string{"light", "dark"} {
		setTheme(t, ctx, theme)
		checkReadable(t, ctx, "1280x800 "+theme)
		if s := evalString(t, ctx, `(document.documentElement.scrollWidth > document.documentElement.clientWidth ? "sideways scrolling; " : "") +
			([...document.querySelectorAll("p")].some(p => p.offsetParent !== null && p.textContent.includes("Ctrl+V")) ? "" : "no paste hint")`); s != "" {
			t.Errorf("1280x800 %s: %s", theme, s)
		}
		screenshot(t, ctx, "visit-desktop-"+theme+".png")
	}

	// Phone, light then dark.
	run(t, ctx, 10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	for _, theme := range []string{"light", "dark"} {
		setTheme(t, ctx, theme)
		run(t, ctx, 10*time.Second, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
		checkPhoneLayout(t, ctx, theme)
		checkReadable(t, ctx, "390x844 "+theme)
		screenshot(t, ctx, "visit-phone-"+theme+".png")
	}
}

// setTheme makes the page see prefers-color-scheme: theme.
func setTheme(t testing.TB, ctx context.Context, theme string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: theme}},
	}); err != nil {
		t.Fatal(err)
	}
}

// lowContrastJS lists every visible element with text of its own whose
// colour has less than the WCAG AA contrast against the background it is
// drawn on (the first opaque background of it or an ancestor): 4.5:1, or
// 3:1 for large text (24 px, or 18.66 px bold). Disabled controls are
// exempt, as WCAG exempts them.
const lowContrastJS = `(() => {
	const rgba = (c) => (c.match(/[\d.]+/g) || []).map(Number);
	const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
	const background = (e) => { for (; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
		if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c.slice(0, 3); } return [255, 255, 255]; };
	const out = [];
	for (const e of document.querySelectorAll("body *")) {
		if (e.offsetParent === null || e.disabled || e.closest("[disabled]")) continue;
		if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
		const st = getComputedStyle(e);
		if (st.visibility === "hidden" || +st.opacity === 0) continue;
		const fg = rgba(st.color), bg = background(e);
		const a = fg.length === 4 ? fg[3] : 1;
		const mixed = [0, 1, 2].map(i => fg[i] * a + bg[i] * (1 - a));
		const l1 = lum(mixed), l2 = lum(bg);
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(st.fontSize), bold = +st.fontWeight >= 700;
		const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
		if (ratio < need) out.push(e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + '  "' + e.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2) + ":1 (" + st.color + " on rgb(" + bg.join(", ") + "))");
	}
	return JSON.stringify(out); })()`

// checkReadable fails for every text below the WCAG AA contrast.
func checkReadable(t testing.TB, ctx context.Context, where string) {
	t.Helper()
	var low []string
	if err := json.Unmarshal([]byte(evalString(t, ctx, lowContrastJS)), &low); err != nil {
		t.Fatal(err)
	}
	for _, l := range low {
		t.Errorf("%s: low contrast: %s", where, l)
	}
}

// checkPhoneLayout fails for anything a phone visitor would trip over:
// an element wider than the screen or clipping its text, a "%" on a line
// of its own, the Ctrl+V hint on a touch device, a viewport that forbids
// zooming.
func checkPhoneLayout(t testing.TB, ctx context.Context, theme string) {
	t.Helper()
	var got struct {
		Width, PageWidth int
		Overflowing      []string
		WrappedPct       []string
		Touch, CtrlV     bool
		Viewport         string
	}
	s := evalString(t, ctx, `JSON.stringify({
		width: innerWidth, pageWidth: document.documentElement.scrollWidth,
		overflowing: [...document.querySelectorAll("body *")].filter(e => e.offsetParent !== null &&
			e.clientWidth > 1 && !e.matches(".skip:not(:focus)") &&
			(e.getBoundingClientRect().right > innerWidth + 1 || e.getBoundingClientRect().left < -1 ||
			 (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== "auto" && e.tagName !== "SELECT")))
			.map(e => e.tagName + (e.id ? "#" + e.id : "") + "." + e.className + ": " + e.textContent.slice(0, 40)),
		wrappedPct: [...document.querySelectorAll(".pct")].filter(e => e.getClientRects().length !== 1 ||
			e.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(e).lineHeight)).map(e => e.textContent),
		touch: matchMedia("(hover: none) and (pointer: coarse)").matches,
		ctrlV: [...document.querySelectorAll("p")].some(p => p.offsetParent !== null && p.textContent.includes("Ctrl+V")),
		viewport: document.querySelector('meta[name="viewport"]').content})`)
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		t.Fatal(err)
	}
	if got.PageWidth > got.Width || len(got.Overflowing) > 0 {
		t.Errorf("%s: page %d px wide on a %d px screen; overflowing: %q", theme, got.PageWidth, got.Width, got.Overflowing)
	}
	if len(got.WrappedPct) > 0 {
		t.Errorf("%s: percentages wrap: %q", theme, got.WrappedPct)
	}
	if !got.Touch || got.CtrlV {
		t.Errorf("%s: touch device %v, Ctrl+V hint shown %v", theme, got.Touch, got.CtrlV)
	}
	if strings.Contains(got.Viewport, "user-scalable") || strings.Contains(got.Viewport, "maximum-scale") {
		t.Errorf("viewport %q forbids pinch zoom", got.Viewport)
	}
	// The select shows the whole model name.
	if sel := evalString(t, ctx, `(() => { const s = document.querySelector("#model-select");
		const c = document.createElement("canvas").getContext("2d"); c.font = getComputedStyle(s).font;
		const text = s.options[s.selectedIndex].text;
		return c.measureText(text).width + 40 > s.clientWidth ? "cut off: " + text + " in " + s.clientWidth + " px" : ""; })()`); sel != "" {
		t.Errorf("%s: model picker %s", theme, sel)
	}
}

// evalString evaluates a JavaScript expression that gives a string.
func evalString(t testing.TB, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return s
}

// TestBenchPageFirstVisit opens /bench as a visitor would: before a run it
// shows no table and no frame count; during the run a progress bar and
// "Running: …" text; afterwards a table whose columns are named in plain
// words.
func TestBenchPageFirstVisit(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/bench?sizes=64,32&width=16&warmup=1&runs=3"))
	waitFor(t, ctx, "the run button", `(() => { const b = document.querySelector("#bench-start"); return b && !b.disabled; })()`, 60*time.Second)
	if before := evalString(t, ctx, `["#bench-table", "#bench-frames", "#bench-progress", "#bench-progress-text"]
		.filter(s => document.querySelector(s)).join(" ") + (document.querySelector("main").textContent.includes("frames") ? " frames" : "")`); before != "" {
		t.Errorf("before any run the page shows %q", before)
	}
	// Record what the page shows while it runs, then start.
	run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](`(() => {
		window.seen = {bar: false, text: ""};
		new MutationObserver(() => {
			if (document.querySelector("#bench-progress")) window.seen.bar = true;
			const p = document.querySelector("#bench-progress-text");
			if (p && p.textContent.startsWith("Running")) window.seen.text = p.textContent;
		}).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
		document.querySelector("#bench-start").click(); })()`))
	waitFor(t, ctx, "the run's end", `(() => { const t = document.querySelector("#bench-table"); return t && t.dataset.state === "done"; })()`, 120*time.Second)
	var got struct {
		Seen struct {
			Bar  bool
			Text string
		}
		Headers []string
		Done    string
	}
	s := evalString(t, ctx, `JSON.stringify({seen: window.seen,
		headers: [...document.querySelectorAll("#bench-table th")].map(th => th.textContent),
		done: document.querySelector("#bench-progress-text").textContent})`)
	if err := json.Unmarshal([]byte(s), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Seen.Bar || !strings.HasPrefix(got.Seen.Text, "Running: ") {
		t.Errorf("during the run: progress bar %v, text %q", got.Seen.Bar, got.Seen.Text)
	}
	if !strings.HasPrefix(got.Done, "Finished 2 image size") {
		t.Errorf("after the run: %q", got.Done)
	}
	for _, h := range got.Headers {
		if strings.ContainsAny(h, "/_") || strings.Contains(strings.ToLower(h), "width") {
			t.Errorf("column %q is not plain words", h)
		}
	}
	if len(got.Headers) < 3 {
		t.Errorf("table columns %q", got.Headers)
	}
	t.Logf("during: %q; after: %q; columns %q", got.Seen.Text, got.Done, got.Headers)
	screenshot(t, ctx, "bench-first-visit.png")
}
