package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPrecompressDir(t *testing.T) {
	dir := t.TempDir()
	wasm := compressibleBytes(300_000, 7)
	tiny := []byte("a{}") // compression only makes this bigger
	files := map[string][]byte{
		"app.wasm":       wasm,
		"sub/worker.js":  wasm[:50_000],
		"tiny.css":       tiny,
		"icon.png":       wasm[:10_000], // not a precompressed type
		".hidden.js":     wasm[:10_000],
		"random.wasm":    randomBytes(20_000, 9), // incompressible
		"sub/nested.css": wasm[:20_000],
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var report bytes.Buffer
	if err := precompressDir(dir, precompressOptions{brotliQuality: 5}, &report); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"app.wasm", "sub/worker.js", "sub/nested.css"} {
		for _, enc := range []struct{ token, suffix string }{{"br", ".br"}, {"gzip", ".gz"}} {
			p := filepath.Join(dir, filepath.FromSlash(name)) + enc.suffix
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if len(data) >= len(files[name]) {
				t.Errorf("%s: %d bytes, not smaller than %d", p, len(data), len(files[name]))
			}
			if got := decodeBody(t, enc.token, data); !bytes.Equal(got, files[name]) {
				t.Errorf("%s does not decode to its source", p)
			}
		}
	}
	for _, name := range []string{"tiny.css", "icon.png", ".hidden.js", "random.wasm"} {
		for _, suffix := range []string{".br", ".gz"} {
			if _, err := os.Stat(filepath.Join(dir, name) + suffix); err == nil {
				t.Errorf("%s%s written", name, suffix)
			}
		}
	}
	// No temporary files left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); len(n) > 4 && n[0] == '.' && n != ".hidden.js" {
			t.Errorf("leftover temporary file %s", n)
		}
	}

	// A second run leaves up-to-date siblings alone...
	br := filepath.Join(dir, "app.wasm.br")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "app.wasm"), old, old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(br)
	if err := precompressDir(dir, precompressOptions{brotliQuality: 5}, io.Discard); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(br)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("up-to-date %s rewritten", br)
	}
	// ...and rewrites those older than a changed source.
	changed := compressibleBytes(100_000, 8)
	if err := os.WriteFile(filepath.Join(dir, "app.wasm"), changed, 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(dir, "app.wasm"), future, future)
	if err := precompressDir(dir, precompressOptions{brotliQuality: 5}, io.Discard); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(br)
	if !bytes.Equal(decodeBody(t, "br", data), changed) {
		t.Errorf("%s not regenerated after its source changed", br)
	}
}

func TestRunPrecompressArgs(t *testing.T) {
	for _, args := range [][]string{{}, {"-brotli-quality", "12", t.TempDir()}, {"/nonexistent/dir"}} {
		if err := runPrecompress(args, io.Discard, io.Discard); err == nil {
			t.Errorf("runPrecompress(%q) succeeded", args)
		}
	}
}
