package main

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vggo/wasm/protocol"
)

// TestIsolatedHandler checks the headers that make the page cross-origin
// isolated (without them the peers silently fall back to one thread) and
// the routes the page loads from.
func TestIsolatedHandler(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"page/index.html", "build/vggo.wasm", "node_modules/pkg/dist/x.mjs"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wasmExec := filepath.Join(dir, "wasm_exec.js")
	os.WriteFile(wasmExec, []byte("// go"), 0o644)
	static := filepath.Join(dir, "static")
	os.MkdirAll(static, 0o755)
	os.WriteFile(filepath.Join(static, "worker.wasm"), []byte("w"), 0o644)
	h := isolatedHandler(dir, static, wasmExec)
	tests := []struct {
		path, contentType string
		status            int
	}{
		{"/", "text/html; charset=utf-8", 200},
		{"/build/vggo.wasm", "application/wasm", 200},
		{"/node_modules/pkg/dist/x.mjs", "text/javascript; charset=utf-8", 200},
		{"/wasm_exec.js", "text/javascript; charset=utf-8", 200},
		{"/web/static/worker.wasm", "application/wasm", 200},
		{"/build/missing.onnx", "", 404},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, rec.Code, tc.status)
		}
		if tc.contentType != "" && rec.Header().Get("Content-Type") != tc.contentType {
			t.Errorf("%s: Content-Type %q, want %q", tc.path, rec.Header().Get("Content-Type"), tc.contentType)
		}
		if rec.Header().Get("Cross-Origin-Opener-Policy") != "same-origin" || rec.Header().Get("Cross-Origin-Embedder-Policy") != "require-corp" {
			t.Errorf("%s: missing COOP/COEP headers: %v", tc.path, rec.Header())
		}
	}
}

// TestBenchControlBytes: the benchmark page's pool makes its control
// buffer as large as the workers expect (protocol.ControlBytes); a
// smaller one fails every pass with "Invalid atomic access index".
func TestBenchControlBytes(t *testing.T) {
	js, err := os.ReadFile("page/bench.js")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("new SharedArrayBuffer(%d)", protocol.ControlBytes)
	if !strings.Contains(string(js), want) {
		t.Errorf("page/bench.js does not make its control buffer with %s", want)
	}
}
