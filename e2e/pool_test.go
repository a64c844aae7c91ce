package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"vggo/model"
	"vggo/wasm/inference"
)

// poolState is what a page's pool line (#model-workers, #embed-workers,
// #bench-workers) says: its workers and their exchange mode.
type poolState struct {
	Workers    string `json:"workers"`
	Mode       string `json:"mode"`
	Text       string `json:"text"`
	WasmBytes  string `json:"wasmBytes"`
	SaveMemory string `json:"saveMemory"`
	Splits     string `json:"splits"` // protocol.Loaded.Splits, comma-separated
}

// poolLineExpr reads the pool line with the given id as JSON.
func poolLineExpr(id string) string {
	return fmt.Sprintf(`(() => { const p = document.querySelector("#%s");
		return p ? JSON.stringify({workers: p.dataset.workers, mode: p.dataset.mode, text: p.textContent,
			wasmBytes: p.dataset.wasmBytes, saveMemory: p.dataset.saveMemory, splits: p.dataset.splits}) : null; })()`, id)
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

// defaultNet is the native engine with the server's default model, the
// one the app loads first.
func defaultNet(t testing.TB) *model.Net {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.ReadModelFile(filepath.Join(root, "web", "models", defaultModelName+".vggo.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// nativeTol is how close the browser's probabilities stay to the native
// forward pass's with float32 weights.
const nativeTol = 1e-5

// appSamples are the app's sample pictures (web/static/samples), at
// least 10, and their paths by file name.
func appSamples(t testing.TB) ([]string, map[string]string) {
	t.Helper()
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
	return samples, paths
}

// checkNative checks a page result against the native engine on the same
// file: every probability within tol, and the same top 5 (classes whose
// native probabilities are closer than that may swap). It returns the
// largest difference.
func checkNative(t testing.TB, net *model.Net, r pageResult, file string, tol float64) float64 {
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
	native := net.Classify(img)
	if len(r.Probs) != len(native) {
		t.Fatalf("%s: %d probabilities, native %d", r.Name, len(r.Probs), len(native))
	}
	worst := 0.0
	for _, p := range native {
		worst = math.Max(worst, math.Abs(r.Probs[p.Index]-float64(p.Prob)))
	}
	if worst > tol {
		t.Errorf("%s: probabilities differ from the native forward pass by up to %.3g (tolerance %g)", r.Name, worst, tol)
	}
	order := make([]int, len(r.Probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(r.Probs[a], r.Probs[b]) })
	for i := 0; i < min(5, len(native)); i++ {
		if order[i] != native[i].Index && math.Abs(float64(native[i].Prob)-r.Probs[order[i]]) > tol {
			t.Errorf("%s: top %d is class %d (%.6f), native %s (%.6f)", r.Name, i+1, order[i], r.Probs[order[i]], native[i].Class, native[i].Prob)
		}
	}
	t.Logf("%s: %s %.4f, max |browser-native| = %.2g", r.Name, native[0].Class, native[0].Prob, worst)
	return worst
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestPoolAgreesWithNative: the app (its default model, full-width VGG16)
// with 1, 2 and 3 inference workers (the SharedArrayBuffer exchange, the
// app being cross-origin isolated) and 2 workers forced to the message
// exchange gives every sample the native engine's top 5 and probabilities
// within 1e-5, and all give the same probabilities bit for bit; the page
// says which mode runs. So do pools forced (?rows=N, ?images=N) to split
// their first blocks by rows or by images (model.ShardOptions; the
// default model averages each picture with its mirror image, so two
// workers choose blocks 1-2 by images on their own, three by channels),
// in both exchanges, three workers sharing two images among them, and
// the pool line says how.
func TestPoolAgreesWithNative(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	net := defaultNet(t)
	samples, paths := appSamples(t)
	var first map[string][]float64
	for _, c := range []struct{ query, workers, mode, splits, words string }{
		{"threads=1", "1", "single", "", ""},
		{"threads=2", "2", "shared", "images,images", "blocks 1-2 split by images"},
		{"threads=2&exchange=message", "2", "message", "images,images", "blocks 1-2 split by images"},
		{"threads=3", "3", "shared", "channels,channels", ""},
		{"threads=2&images=0", "2", "shared", "", ""},
		{"threads=2&rows=2", "2", "shared", "rows,rows", "blocks 1-2 split by rows"},
		{"threads=2&rows=3&exchange=message", "2", "message", "rows,rows,rows", "blocks 1-3 split by rows"},
		{"threads=3&rows=5", "3", "shared", "rows,rows,rows,rows,rows", "blocks 1-5 split by rows"},
		{"threads=3&images=3&exchange=message", "3", "message", "images,images,images", "blocks 1-3 split by images"},
	} {
		t.Run(c.query, func(t *testing.T) {
			run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/?"+c.query))
			if got := waitFor(t, ctx, "the model", modelReadyExpr, 60*time.Second); strings.Contains(string(got), "error") {
				t.Fatalf("model: %s", got)
			}
			p := readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
			if p.Workers != c.workers || p.Mode != c.mode || p.Splits != c.splits || (c.words != "") != strings.Contains(p.Text, "split by") || !strings.Contains(p.Text, c.words) {
				t.Errorf("pool line %+v, want %s workers in mode %s, blocks split by %q, saying %q", p, c.workers, c.mode, c.splits, c.words)
			}
			t.Logf("pool line: %s", p.Text)
			run(t, ctx, 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), samples))
			rs := results(t, ctx, len(samples))
			got := map[string][]float64{}
			for _, r := range rs[:len(samples)] {
				checkNative(t, net, r, paths[r.Name], nativeTol)
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

// TestPoolWorkerKilled: a worker of a 2-worker pool killed while an image
// is on its way (the page's test hook window.vggoPool.killOnNextRequest
// terminates it, as a crash would, right after the request goes out)
// loses nothing: every image gets its result, matching the native engine,
// the page says the pool shrank and that it sent the request again, and
// it keeps classifying; killing the last worker the same way brings a
// fresh one, which answers.
func TestPoolWorkerKilled(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	net := defaultNet(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/?threads=2"))
	waitFor(t, ctx, "the model", modelReadyExpr, 60*time.Second)
	kill := func(i int) {
		run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.vggoPool.killOnNextRequest(%d)`, i)))
	}
	kill(1)
	files := []string{"fashion-0.png", "gradient.png", "fashion-0.png"}
	upload(t, ctx, files...)
	for _, r := range results(t, ctx, len(files)) {
		checkNative(t, net, r, fixture.images[r.Name], nativeTol)
	}
	p := readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
	if p.Workers != "1" || !strings.Contains(p.Text, "stopped") || strings.Contains(p.Text, " 0 unanswered") {
		t.Errorf("after the kill the pool line says %+v, want 1 worker, why, and the request sent again", p)
	}
	t.Logf("pool line: %s", p.Text)
	kill(0)
	upload(t, ctx, "gradient.png")
	rs := results(t, ctx, len(files)+1)
	checkNative(t, net, rs[0], fixture.images["gradient.png"], nativeTol)
	p = readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
	if p.Workers != "1" || !strings.Contains(p.Text, "fresh worker") || strings.Contains(p.Text, " 0 unanswered") {
		t.Errorf("after killing the last worker the pool line says %+v", p)
	}
	t.Logf("pool line: %s", p.Text)
}

// saveMemoryTol bounds how far packing the weights to save memory
// (float16, F(2x2) in blocks 4 and 5) moves a probability:
// TestEngineSaveMemory measures 1e-4 on the samples natively.
const saveMemoryTol = 5e-3

// TestPoolSaveMemory: ?memory=save makes the app's two workers pack the
// model's weights (model.SaveMemory). With the default model every sample
// keeps the native top 5 with probabilities within saveMemoryTol, moved by
// more than 0 (the packed weights ran), and the pool line says so; with a
// full-width VGG16 at 224x224, where the transformed weights dominate, the
// two workers hold less than 0.65x the wasm memory of the float32 pool
// (measured 0.58x right after loading: the int8 file and the float32
// weights read before packing set the peak). The
// app's Memory setting does the same and survives a reload; automatic
// leaves the 32x32 default model in float32 and its label follows
// navigator.deviceMemory, and on a device that reports 2 GB it packs the
// 224x224 model; a widget's memory attribute reaches its frame.
func TestPoolSaveMemory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "models")
	os.MkdirAll(dir, 0o755)
	big := inference.RandomModel(224, 1, 5)
	big.Info.Description = "random full-width VGG16 at 224x224"
	if err := model.WriteModelFile(filepath.Join(dir, "vgg16-224.vggo.safetensors"), big, "int8"); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, freePort(t), "-models", dir)
	defer srv.stop()
	ctx := newBrowser(t)
	net := defaultNet(t)
	samples, paths := appSamples(t)
	pool := func(query string) poolState {
		t.Helper()
		run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/?"+query))
		if got := waitFor(t, ctx, "the model", modelReadyExpr, 90*time.Second); strings.Contains(string(got), "error") {
			t.Fatalf("%s: model: %s", query, got)
		}
		return readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
	}
	bytesOf := func(p poolState) int64 {
		n, err := strconv.ParseInt(p.WasmBytes, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("pool line %+v: no wasm memory", p)
		}
		return n
	}

	// The default model: the probabilities.
	saving := pool("threads=2&memory=save")
	if name, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#model-status").dataset.model`)); name != defaultModelName {
		t.Fatalf("the app loaded %q first, want %s", name, defaultModelName)
	}
	if saving.Workers != "2" || saving.SaveMemory != "true" || !strings.Contains(saving.Text, "packed to save memory") {
		t.Errorf("memory=save: pool line %+v, want 2 workers packing the weights", saving)
	}
	run(t, ctx, 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), samples))
	worst := 0.0
	for _, r := range results(t, ctx, len(samples)) {
		worst = math.Max(worst, checkNative(t, net, r, paths[r.Name], saveMemoryTol))
	}
	if worst == 0 {
		t.Errorf("saving memory gave the float32 probabilities bit for bit: the packed weights did not run")
	}

	// Full VGG16 at 224: the memory. The picked model stays picked over
	// the reload.
	normal := pool("threads=2&memory=normal")
	if normal.SaveMemory != "false" || strings.Contains(normal.Text, "save memory") {
		t.Errorf("memory=normal: pool line %+v", normal)
	}
	var idx struct {
		Models []struct{ Name, SHA256 string }
	}
	resp, err := http.Get(srv.url + "/models")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&idx)
	resp.Body.Close()
	if err != nil || len(idx.Models) != 2 || idx.Models[0].Name != defaultModelName || idx.Models[1].Name != "vgg16-224" {
		t.Fatalf("GET /models: %+v, %v", idx, err)
	}
	if got := selectModel(t, ctx, "vgg16-224", idx.Models[1].SHA256); got == "" || strings.HasPrefix(got, "error") {
		t.Fatalf("vgg16-224: %s", got)
	}
	normal = readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
	saving = pool("threads=2&memory=save")
	if name, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#model-status").dataset.model`)); name != "vgg16-224" || saving.SaveMemory != "true" {
		t.Fatalf("after the reload: model %q, pool line %+v", name, saving)
	}
	t.Logf("full VGG16 at 224, 2 workers after loading: %d bytes of wasm memory in float32, %d saving memory (%.2fx)",
		bytesOf(normal), bytesOf(saving), float64(bytesOf(saving))/float64(bytesOf(normal)))
	if float64(bytesOf(saving)) >= 0.65*float64(bytesOf(normal)) {
		t.Errorf("full VGG16 at 224: 2 workers hold %d bytes saving memory, %d in float32: want less than 0.65x", bytesOf(saving), bytesOf(normal))
	}

	// The app's setting: chosen, kept over a reload, and back to automatic.
	if got := selectModel(t, ctx, defaultModelName, idx.Models[0].SHA256); got == "" || strings.HasPrefix(got, "error") {
		t.Fatalf("%s: %s", defaultModelName, got)
	}
	pool("threads=2") // no memory query: the setting decides
	choose := func(v string) {
		t.Helper()
		run(t, ctx, 5*time.Second, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector("#memory-select");
			s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, v)))
	}
	settled := func(want string) poolState {
		t.Helper()
		expr := fmt.Sprintf(`(() => { const p = document.querySelector("#model-workers"), s = document.querySelector("#model-status");
			return p && s && s.dataset.state === "ready" && s.dataset.model === %q && p.dataset.saveMemory === %q && +p.dataset.wasmBytes > 0; })()`,
			defaultModelName, want)
		waitFor(t, ctx, "the default model with save-memory "+want, expr, 60*time.Second)
		return readPool(t, waitFor(t, ctx, "the pool line", poolLineExpr("model-workers"), 10*time.Second))
	}
	settled("false")
	choose(memorySave)
	if p := settled("true"); p.Workers != "2" {
		t.Errorf("after choosing save: %+v", p)
	}
	if p := pool("threads=2"); p.SaveMemory != "true" {
		t.Errorf("after a reload the pool line says %+v, want the saved setting in use", p)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#memory-select").value`)); v != memorySave {
		t.Errorf("after a reload the Memory setting shows %q", v)
	}
	choose("")
	settled("false") // automatic: 32x32 is below saveMemoryFromSize on any device
	gb, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`navigator.deviceMemory || 0`))
	if err != nil {
		t.Fatal(err)
	}
	label, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#memory-select option[value='']").textContent`))
	if (gb > 0 && gb <= 2) != strings.Contains(label, "saving for inputs of 64×64 and up") {
		t.Errorf("deviceMemory %g GB: the automatic choice says %q", gb, label)
	}
	t.Logf("deviceMemory %g GB: %q", gb, label)

	// Automatic on a device that reports 2 GB (navigator.deviceMemory
	// spoofed in a fresh browser, so nothing is stored): the 32x32 default
	// model stays float32, the 224x224 model is packed.
	low := newBrowser(t)
	if _, err := chromedp.Call(low, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `Object.defineProperty(Navigator.prototype, "deviceMemory", {get: () => 2})`}); err != nil {
		t.Fatal(err)
	}
	run(t, low, 30*time.Second, chromedp.Navigate(srv.url+"/?threads=2"))
	if got := waitModel(t, low, defaultModelName); got == "" || strings.HasPrefix(got, "error") {
		t.Fatalf("2 GB device, default model: %s", got)
	}
	if p := readPool(t, waitFor(t, low, "the pool line", poolLineExpr("model-workers"), 10*time.Second)); p.SaveMemory != "false" {
		t.Errorf("2 GB device, automatic, 32x32: pool line %+v, want float32", p)
	}
	if label, _ := chromedp.Run(low, chromedp.Evaluate[string](`document.querySelector("#memory-select option[value='']").textContent`)); !strings.Contains(label, "saving for inputs of 64×64 and up") {
		t.Errorf("2 GB device: the automatic choice says %q", label)
	}
	if got := selectModel(t, low, "vgg16-224", idx.Models[1].SHA256); got == "" || strings.HasPrefix(got, "error") {
		t.Fatalf("2 GB device, vgg16-224: %s", got)
	}
	if p := readPool(t, waitFor(t, low, "the pool line", poolLineExpr("model-workers"), 10*time.Second)); p.SaveMemory != "true" {
		t.Errorf("2 GB device, automatic, 224x224: pool line %+v, want the weights packed", p)
	}

	// A widget's memory attribute.
	host := servePage(t, eventRecorder+fmt.Sprintf(`<script src="%s/embed.js" defer></script>
<vggo-classifier id="w" memory="save"></vggo-classifier></body></html>`, srv.url))
	run(t, ctx, 30*time.Second, chromedp.Navigate(host))
	waitEvent(t, ctx, "w", "vggo-ready", 1)
	raw := inFrame(t, ctx, "memory=save", 10*time.Second, chromedp.Evaluate[[]byte](poolLineExpr("embed-workers")))
	if p := readPool(t, raw); p.SaveMemory != "true" {
		t.Errorf("widget with memory=\"save\": pool line %+v", p)
	}
	inFrame(t, ctx, "memory=save", 10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file-input"), []string{samples[0]}))
	ev := waitEvent(t, ctx, "w", "vggo-result", 1)
	checkNative(t, net, asPageResult(ev), samples[0], saveMemoryTol)
}

// memorySave is the app's value for saving memory (wasm/ui's memorySave).
const memorySave = "save"

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
// workers (4 on this 2-core machine must still finish), in the message
// mode and with the memory-saving weights; every row says its workers,
// mode and memory. In the shared mode the followers join the passes after
// the first from the control buffer, parked (ParkedPasses > 0); nowhere
// else. The shared-mode workers poll at the barriers when each can have
// a core (as many workers as navigator.hardwareConcurrency or fewer) or
// spin=1 says so, and then pass some barriers polling; they never poll
// otherwise. Rows say how the workers split the leading blocks: their
// own choice (model.ShardOptions), or ?rows=N and ?images=N.
func TestPoolBench(t *testing.T) {
	srv := startServer(t, freePort(t))
	defer srv.stop()
	ctx := newBrowser(t)
	run(t, ctx, 30*time.Second, chromedp.Navigate(srv.url+"/bench"))
	cores, err := chromedp.Run(ctx, chromedp.Evaluate[int](`navigator.hardwareConcurrency`))
	if err != nil || cores < 1 {
		t.Fatalf("navigator.hardwareConcurrency = %d, %v", cores, err)
	}
	for _, c := range []struct {
		query   string
		workers int
		mode    string
		spin    bool
		// At 32x32 and width 1/16 two workers split block 1 by rows for
		// one image and blocks 1-2 by images for two, on their own; three
		// or more hold blocks 1-2 whole for batches they divide, and
		// split one image's by channels.
		splits string
	}{
		{"&threads=1", 1, "single", false, ""},
		{"&threads=2", 2, "shared", 2 <= cores, "rows,channels"},
		{"&threads=2&batch=2", 2, "shared", 2 <= cores, "images,images"},
		{"&threads=4", 4, "shared", 4 <= cores, "channels,channels"},
		{"&threads=2&spin=0", 2, "shared", false, "rows,channels"},
		{"&threads=4&spin=1", 4, "shared", true, "channels,channels"},
		{"&threads=2&exchange=message&spin=1", 2, "message", false, "rows,channels"},
		{"&threads=2&weights=f16&tiles=small", 2, "shared", 2 <= cores, "rows,channels"},
		{"&threads=2&rows=0", 2, "shared", 2 <= cores, "channels,channels"},
		{"&threads=2&rows=0&images=0", 2, "shared", 2 <= cores, ""},
		{"&threads=3&rows=4", 3, "shared", 3 <= cores, "rows,rows,rows,rows"},
		{"&threads=3&images=3", 3, "shared", 3 <= cores, "images,images,images"},
	} {
		t.Run(c.query, func(t *testing.T) {
			rows := poolBenchRows(t, ctx, srv.url+"/bench?sizes=32&width=16&warmup=1&runs=3&auto=1"+c.query)
			if len(rows) != 1 || !(rows[0].Median > 0) || rows[0].Workers != c.workers || rows[0].Exchange != c.mode || rows[0].WasmBytes <= 0 {
				t.Fatalf("bench rows %+v, want one positive median from %d workers in mode %s, with memory", rows, c.workers, c.mode)
			}
			parked := rows[0].ParkedPasses
			if shared := c.mode == "shared"; shared && parked == 0 || !shared && parked != 0 {
				t.Errorf("%d passes joined parked in mode %s (4 passes, %d followers)", parked, c.mode, c.workers-1)
			}
			if rows[0].Splits != c.splits {
				t.Errorf("leading blocks split by %q, want %q", rows[0].Splits, c.splits)
			}
			if polled := rows[0].PolledBarriers; rows[0].Spin != c.spin || c.spin && polled == 0 || !c.spin && polled != 0 {
				t.Errorf("spin %v with %d barriers passed polling, want spin %v (%d cores) and polled barriers only then",
					rows[0].Spin, polled, c.spin, cores)
			}
			t.Logf("%+v", rows[0])
		})
	}
	// A pass after a pause starts parked too: the page tells the
	// followers (KindPark) before it sends the leader a request that runs
	// one. The second size's first pass is such a pass (the first size's
	// first pass starts by message: no follower has the data buffer yet).
	t.Run("second size", func(t *testing.T) {
		rows := poolBenchRows(t, ctx, srv.url+"/bench?sizes=64,32&width=16&warmup=1&runs=3&auto=1&threads=2")
		if len(rows) != 2 {
			t.Fatalf("bench rows %+v, want two", rows)
		}
		if got := rows[1].ParkedPasses - rows[0].ParkedPasses; got != 4 {
			t.Errorf("the follower joined %d of the second size's 4 passes parked, want all (rows %+v)", got, rows)
		}
	})
}

// poolBenchRow is one row of the /bench table.
type poolBenchRow struct {
	Size      int     `json:"size"`
	Median    float64 `json:"median"`
	Workers   int     `json:"workers"`
	Exchange  string  `json:"exchange"`
	WasmBytes int64   `json:"wasmBytes"`
	// ParkedPasses: the followers' passes that began from the control
	// buffer (protocol.BenchRow.ParkedPasses).
	ParkedPasses int `json:"parkedPasses"`
	// Spin and PolledBarriers: whether the workers polled at the barriers,
	// and how many barriers they passed so (protocol.BenchRow).
	Spin           bool `json:"spin"`
	PolledBarriers int  `json:"polledBarriers"`
	// Splits: how the pool split the leading blocks (protocol.BenchRow),
	// comma-separated.
	Splits string `json:"splits"`
}

// poolBenchRows runs /bench with query in a tab of ctx's browser and
// returns its rows.
func poolBenchRows(t testing.TB, ctx context.Context, url string) []poolBenchRow {
	t.Helper()
	run(t, ctx, 30*time.Second, chromedp.Navigate(url))
	raw := waitFor(t, ctx, "the benchmark", `(() => { const t = document.querySelector("#bench-table");
		const e = document.querySelector("#bench-error");
		if (e) return JSON.stringify({error: e.textContent});
		if (!t || t.dataset.state !== "done") return null;
		return JSON.stringify({rows: [...t.querySelectorAll("tbody tr")].map(r => ({size: +r.dataset.size,
			median: +r.dataset.median, workers: +r.dataset.workers, exchange: r.dataset.exchange, wasmBytes: +r.dataset.wasmBytes,
			parkedPasses: +(r.dataset.parkedPasses || 0), spin: r.dataset.spin === "true",
			polledBarriers: +(r.dataset.polledBarriers || 0), splits: r.dataset.splits || ""}))}); })()`, 10*time.Minute)
	var s string
	json.Unmarshal(raw, &s)
	var got struct {
		Rows  []poolBenchRow
		Error string
	}
	if err := json.Unmarshal([]byte(s), &got); err != nil || got.Error != "" {
		t.Fatalf("%s: %v %s", url, err, got.Error)
	}
	return got.Rows
}

// BenchmarkPoolScaling times the split forward pass of full-width VGG16
// at 224x224 and 32x32 (batch 1) on /bench, in one browser, at 1, 2 and 4
// workers (4 is more workers than this machine's 2 cores), with the
// shared and the message exchange, for both worker builds, and logs each
// median with its ratio to 1 worker of the same build, and the workers'
// wasm memory. VGGO_POOL_BENCH="224,32" sets the sizes, VGGO_POOL_RUNS
// the timed runs (default 5), VGGO_POOL_WARMUP the untimed runs before
// them (default 1; Chromium compiles hot wasm functions with its
// optimizing tier in the background, so the first passes of a fresh
// page are slower, at 32x32 for the first 20 or so), VGGO_POOL_BUILDS the builds
// ("simd128,relaxed"), VGGO_POOL_CONFIGS the pools (";"-separated queries,
// default "threads=1;threads=2;threads=2&exchange=message;threads=4").
func BenchmarkPoolScaling(b *testing.B) {
	srv := startServer(b, freePort(b))
	defer srv.stop()
	ctx := newBrowser(b)
	sizes := os.Getenv("VGGO_POOL_BENCH")
	if sizes == "" {
		sizes = "224,32"
	}
	runs := os.Getenv("VGGO_POOL_RUNS")
	if runs == "" {
		runs = "5"
	}
	warmup := os.Getenv("VGGO_POOL_WARMUP")
	if warmup == "" {
		warmup = "1"
	}
	builds, configs := os.Getenv("VGGO_POOL_BUILDS"), os.Getenv("VGGO_POOL_CONFIGS")
	if builds == "" {
		builds = "simd128,relaxed"
	}
	if configs == "" {
		configs = "threads=1;threads=2;threads=2&exchange=message;threads=4"
	}
	for i := 0; i < b.N; i++ {
		for _, build := range strings.Split(builds, ",") {
			one := map[int]float64{}
			for _, c := range strings.Split(configs, ";") {
				url := fmt.Sprintf("%s/bench?sizes=%s&width=1&warmup=%s&runs=%s&auto=1&build=%s&%s", srv.url, sizes, warmup, runs, build, c)
				for _, r := range poolBenchRows(b, ctx, url) {
					if r.Workers == 1 {
						one[r.Size] = r.Median
					}
					// Stderr, not b.Logf: the testing package cuts a benchmark's log short.
					fmt.Fprintf(os.Stderr, "pool bench: %s %s %dx%d: %.1f ms (%.2fx of 1 worker), %d workers %s (polling %v), wasm memory %.0f MB\n",
						build, c, r.Size, r.Size, r.Median, r.Median/one[r.Size], r.Workers, r.Exchange, r.Spin, float64(r.WasmBytes)/(1<<20))
				}
			}
		}
	}
	fmt.Fprintf(os.Stderr, "pool bench: load average %s\n", loadAverage())
}
