package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"

	"vggo/model"
)

// Test fixtures: a small web tree in memory (fstest.MapFS) with the same
// layout as web.FS, and model files.

// compressibleBytes returns n deterministic bytes that compress well (text
// with repeats), starting with the wasm magic number.
func compressibleBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"conv", "pool", "relu", "dense", "softmax", "vgg16", "block", "kernel "}
	var b bytes.Buffer
	b.WriteString("\x00asm\x01\x00\x00\x00")
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

// randomBytes returns n deterministic incompressible bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func brotliBytes(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, 5)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// testModel returns a small valid model: VGG16 at width/16, 32×32 input,
// a linear head over the given classes, deterministic weights.
func testModel(classes []string) *model.Model {
	arch := model.Arch{WidthDiv: 16}
	m := &model.Model{
		Info: model.Info{
			Arch: "vgg16", InputSize: 32, WidthDiv: 16, Head: model.HeadLinear,
			Classes: classes, Preprocess: model.PreprocessCaffe,
			Provenance: map[string]string{"dataset": "server test fixture"},
		},
		Base: model.ConvBase{Arch: arch},
		Head: model.Head{Kind: model.HeadLinear},
	}
	r := rand.New(rand.NewPCG(uint64(len(classes)), 3))
	fill := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = r.Float32() - 0.5
		}
		return v
	}
	for i := range m.Base.Layers {
		s := arch.Conv(i)
		m.Base.Layers[i] = model.ConvParams{Kernel: fill(9 * s.Cin * s.Cout), Bias: fill(s.Cout)}
	}
	in := arch.Channels()
	m.Head.Dense = []model.DenseParams{{In: in, Out: len(classes), Kernel: fill(in * len(classes)), Bias: fill(len(classes))}}
	return m
}

// fixtureModel returns the bytes of a small valid vggo model file with the
// given classes, written by model.WriteModelFile.
func fixtureModel(t testing.TB, classes []string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.vggo.safetensors")
	if err := model.WriteModelFile(p, testModel(classes), model.DTypeInt8); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixture is a web tree plus its original (uncompressed) file contents.
type fixture struct {
	fs       fstest.MapFS
	appWASM  []byte
	workerJS []byte
	model    []byte
}

func newFixture(t testing.TB) *fixture {
	appWASM := compressibleBytes(200_000, 1)
	workerJS := []byte(strings.Repeat("importScripts('/wasm_exec.js');\n", 200))
	defaultModel := fixtureModel(t, []string{"cat", "dog"})
	return &fixture{
		appWASM:  appWASM,
		workerJS: workerJS,
		model:    defaultModel,
		fs: fstest.MapFS{
			"static/.gitkeep":                 {Data: nil},
			"static/app.wasm":                 {Data: appWASM},
			"static/app.wasm.br":              {Data: brotliBytes(t, appWASM)},
			"static/app.wasm.gz":              {Data: gzipBytes(t, appWASM)},
			"static/worker.js":                {Data: workerJS},
			"static/worker.js.gz":             {Data: gzipBytes(t, workerJS)},
			"static/app.0123abcd.wasm":        {Data: appWASM},
			"static/icon-192.png":             {Data: []byte("\x89PNG fixture")},
			"static/icon.svg":                 {Data: []byte("<svg/>")},
			"static/.hidden":                  {Data: []byte("hidden")},
			"static/sub/inner.txt":            {Data: []byte("inner")},
			"static/robots.txt":               {Data: []byte("User-agent: *\n")},
			"models/.gitkeep":                 {Data: nil},
			"models/default.vggo.safetensors": {Data: defaultModel},
			"secret.txt":                      {Data: []byte("SECRET outside static/")},
		},
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// slogJSON is a logger writing JSON lines to w, as tests read them.
func slogJSON(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// testServer is newHandler over a fixture, with its log captured as JSON.
type testServer struct {
	handler   http.Handler
	site      *siteHandler // handler, when newTestServer made it
	fixture   *fixture
	modelsDir string
	log       *syncBuffer
}

func newTestServer(t testing.TB) *testServer {
	f := newFixture(t)
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	if err := os.Mkdir(models, 0o755); err != nil {
		t.Fatal(err)
	}
	// A file next to the models directory that traversal must not reach.
	if err := os.WriteFile(filepath.Join(dir, "outside.vggo.safetensors"), []byte("SECRET outside models"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	h := newHandler(config{
		WebFS:     f.fs,
		ModelsDir: models,
		Logger:    slogJSON(log),
	})
	t.Cleanup(h.close) // stops hashing that a test left running
	return &testServer{handler: h, site: h, fixture: f, modelsDir: models, log: log}
}

// settle lets the store finish checking the directory's current files: one
// index request starts the jobs for new versions, then it waits for them.
func (s *testServer) settle(t testing.TB) {
	t.Helper()
	if s.site == nil {
		return
	}
	readBody(t, s.get(t, routeModels))
	s.site.models.onDisk.settle()
}

// get serves one GET with optional headers (name, value pairs) and returns
// the recorded response.
func (s *testServer) get(t testing.TB, target string, headers ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return b
}

func (s *testServer) writeModel(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(s.modelsDir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
