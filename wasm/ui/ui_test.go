package ui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body), rec.Result().Header
}

// TestPagesPrerender renders both routes on the server side (as the server
// does for the first load) and checks the controls the browser test and
// users rely on: labelled model picker and file input, results list, the
// style sheet, the benchmark table.
func TestPagesPrerender(t *testing.T) {
	Routes()
	h := Handler()
	cases := []struct {
		path string
		want []string
	}{
		{"/", []string{`id="model-select"`, `for="model-select"`, `id="file-input"`, `for="file-input"`, `multiple`,
			`accept="image/*"`, `capture="environment"`, `id="results"`, `id="dropzone"`, StyleSheet, `/app.js`, `lang="en"`, `id="headline"`}},
		{"/embed", []string{`src="` + EmbedAliveScript + `"`}},
		{"/bench", []string{`id="bench-start"`, "full VGG16", `aria-current="page"`}},
	}
	for _, c := range cases {
		code, body, _ := get(t, h, c.path)
		if code != 200 {
			t.Fatalf("%s: status %d", c.path, code)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: page lacks %s", c.path, w)
			}
		}
	}
	// Before a run the benchmark page shows no table and no frame count.
	if _, body, _ := get(t, h, "/bench"); strings.Contains(body, `id="bench-table"`) || strings.Contains(body, `id="bench-frames"`) {
		t.Error("/bench shows results before any run")
	}
	if code, _, _ := get(t, h, "/no-such-page"); code != 404 {
		t.Errorf("unknown page: status %d, want 404", code)
	}
}

// TestServiceWorkerCachesEverythingForOffline checks the generated service
// worker pre-caches the pages, the wasm programs (both worker builds), the
// worker script and the style sheet, and that it keeps caches that are not
// go-app's own (the model cache).
func TestServiceWorkerCachesEverythingForOffline(t *testing.T) {
	Routes()
	code, body, _ := get(t, Handler(), "/app-worker.js")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	for _, w := range []string{`"/"`, `"/bench"`, `"/web/static/app.wasm"`, `"/web/static/worker.wasm"`, `"/web/static/worker-relaxed.wasm"`, `"/web/static/worker.js"`,
		`"/web/static/app.css"`, `"/web/static/embed-alive.js"`, `"/wasm_exec.js"`, `"/app.js"`, `"/manifest.webmanifest"`, `"/web/static/icon-192.png"`, `key.startsWith("app-")`} {
		if !strings.Contains(body, w) {
			t.Errorf("app-worker.js lacks %s", w)
		}
	}
	for _, s := range Samples {
		if !strings.Contains(body, `"`+s.URL()+`"`) {
			t.Errorf("app-worker.js does not cache the sample %s", s.URL())
		}
	}
	if strings.Contains(body, "githubusercontent") {
		t.Error("app-worker.js refers to a remote resource")
	}
}

func TestManifest(t *testing.T) {
	Routes()
	code, body, _ := get(t, Handler(), "/manifest.webmanifest")
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	var m struct {
		Name      string `json:"name"`
		ShortName string `json:"short_name"`
		StartURL  string `json:"start_url"`
		Display   string `json:"display"`
		Icons     []struct{ Src, Type, Sizes string }
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("manifest is not JSON: %v\n%s", err, body)
	}
	if m.ShortName != "vggo" || !strings.Contains(m.Name, "vggo") || m.StartURL != "/" || m.Display != "standalone" {
		t.Errorf("manifest = %+v", m)
	}
	sizes := map[string]string{}
	for _, ic := range m.Icons {
		sizes[ic.Sizes] = ic.Src
	}
	if sizes["192x192"] != Icon192 || sizes["512x512"] != Icon512 || sizes["any"] != IconSVG {
		t.Errorf("icons = %+v", m.Icons)
	}
}

func TestParseBenchSettings(t *testing.T) {
	cases := []struct {
		query string
		want  BenchSettings
	}{
		{"", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1}},
		{"sizes=64,32&width=16&warmup=0&runs=3&auto=1", BenchSettings{Sizes: []int{64, 32}, WidthDiv: 16, Warmup: 0, Runs: 3, Batch: 1, Auto: true}},
		{"sizes=8,abc&width=3&runs=100000&warmup=-2", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 0, Runs: 100, Batch: 1}},
		{"build=relaxed", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, Build: BuildRelaxed}},
		{"build=simd128", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, Build: BuildSIMD128}},
		{"build=avx", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1}},
		{"weights=f16&tiles=small", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, HalfWeights: true, SmallTiles: true}},
		{"batch=2", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 2}},
		{"batch=0", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1}},
		{"weights=f8&tiles=tiny", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1}},
		{"exchange=message&spin=0", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, Pool: poolFlags{exchange: "message", spin: "0"}}},
		{"exchange=shared&spin=yes", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1}},
		{"spin=1", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, Pool: poolFlags{spin: "1"}}},
		{"rows=2", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, Pool: poolFlags{rows: 2}}},
		{"rows=0", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, Pool: poolFlags{rows: -1}}},
		{"rows=9", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, Pool: poolFlags{rows: 5}}},
		{"rows=-1&rows=x", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1}},
		{"images=2&rows=0", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1, Pool: poolFlags{rows: -1, images: 2}}},
		{"images=0&batch=32", BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 32, Pool: poolFlags{images: -1}}},
	}
	for _, c := range cases {
		q, _ := url.ParseQuery(c.query)
		if got := ParseBenchSettings(q); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, want %+v", c.query, got, c.want)
		}
	}
}

// TestSpinsFlags: a page's spin flag decides whether the workers poll,
// but only where they share a buffer: the message exchange and a lone
// worker have no barrier to poll at. (The automatic choice reads the
// browser's core count; the e2e TestPoolBench checks it.)
func TestSpinsFlags(t *testing.T) {
	for _, c := range []struct {
		n    int
		mode string
		flag string
		want bool
	}{
		{2, "shared", "1", true},
		{8, "shared", "1", true},
		{2, "shared", "0", false},
		{2, "message", "1", false},
		{1, "single", "1", false},
	} {
		if got := spins(c.n, c.mode, c.flag); got != c.want {
			t.Errorf("spins(%d, %q, %q) = %v, want %v", c.n, c.mode, c.flag, got, c.want)
		}
	}
}

// TestPagesAllowPinchZoom: go-app's page forbids zooming; the wrapped
// handler's pages allow it, and other responses are left alone.
func TestPagesAllowPinchZoom(t *testing.T) {
	Routes()
	_, raw, _ := get(t, Handler(), "/")
	if !strings.Contains(raw, goAppViewport) {
		t.Fatalf("go-app's page no longer has the viewport %s: update AllowPinchZoom", goAppViewport)
	}
	plain := Handler()
	h := AllowPinchZoom(plain)
	for _, path := range []string{"/", "/bench", "/embed"} {
		code, body, hd := get(t, h, path)
		if code != 200 || strings.Contains(body, "user-scalable") || strings.Contains(body, "maximum-scale") || !strings.Contains(body, zoomableViewport) {
			t.Errorf("%s: status %d, viewport not zoomable", path, code)
		}
		if n := hd.Get("Content-Length"); n != "" && n != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length %s for %d bytes", path, n, len(body))
		}
	}
	_, want, _ := get(t, plain, "/app.js")
	if _, got, _ := get(t, h, "/app.js"); got != want {
		t.Error("/app.js changed through AllowPinchZoom")
	}
}
