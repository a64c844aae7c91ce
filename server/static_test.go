package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func decodeBody(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	switch encoding {
	case "br":
		r = brotli.NewReader(r)
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "":
	default:
		t.Fatalf("unexpected Content-Encoding %q", encoding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPrecompressedVariants(t *testing.T) {
	s := newTestServer(t)
	cases := []struct {
		target, acceptEncoding, wantEncoding, wantType string
		want                                           []byte
	}{
		{"/web/static/app.wasm", "", "", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "gzip, deflate, br", "br", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "gzip", "gzip", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "br;q=0, gzip;q=0.5", "gzip", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "*", "br", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "*;q=0", "", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "identity", "", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "BR", "br", "application/wasm", s.fixture.appWASM},
		// The client's q-values rank the encodings; ties go to brotli.
		{"/web/static/app.wasm", "br;q=0.1, gzip", "gzip", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "gzip;q=0.5, br;q=0.5", "br", "application/wasm", s.fixture.appWASM},
		{"/web/static/app.wasm", "gzip;q=0.5, *", "br", "application/wasm", s.fixture.appWASM},
		// worker.js has only a gzip sibling.
		{"/web/static/worker.js", "br, gzip", "gzip", "text/javascript; charset=utf-8", s.fixture.workerJS},
		{"/web/static/worker.js", "br", "", "text/javascript; charset=utf-8", s.fixture.workerJS},
		// go-app's /app.wasm alias goes through the same static handling.
		{"/app.wasm", "br", "br", "application/wasm", s.fixture.appWASM},
	}
	for _, c := range cases {
		name := c.target + " [" + c.acceptEncoding + "]"
		resp := s.get(t, c.target, "Accept-Encoding", c.acceptEncoding)
		body := readBody(t, resp)
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", name, resp.StatusCode)
			continue
		}
		if got := resp.Header.Get("Content-Encoding"); got != c.wantEncoding {
			t.Errorf("%s: Content-Encoding %q, want %q", name, got, c.wantEncoding)
		}
		if got := resp.Header.Get("Content-Type"); got != c.wantType {
			t.Errorf("%s: Content-Type %q, want %q", name, got, c.wantType)
		}
		if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
			t.Errorf("%s: Vary %q", name, got)
		}
		if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Errorf("%s: Content-Length %s for %d bytes", name, cl, len(body))
		}
		wantDecoded := ""
		if c.wantEncoding != "" {
			wantDecoded = strconv.Itoa(len(c.want))
		}
		if got := resp.Header.Get(uncompressedLengthHeader); got != wantDecoded {
			t.Errorf("%s: %s %q, want %q", name, uncompressedLengthHeader, got, wantDecoded)
		}
		if c.wantEncoding != "" && len(body) >= len(c.want) {
			t.Errorf("%s: compressed body %d bytes is not smaller than %d", name, len(body), len(c.want))
		}
		if got := decodeBody(t, resp.Header.Get("Content-Encoding"), body); !bytes.Equal(got, c.want) {
			t.Errorf("%s: decoded body differs from the original (%d vs %d bytes)", name, len(got), len(c.want))
		}
	}
	// Types that are never precompressed carry no Vary.
	resp := s.get(t, "/web/static/icon-192.png", "Accept-Encoding", "br")
	readBody(t, resp)
	if resp.Header.Get("Vary") != "" || resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("png: Vary %q Content-Encoding %q Content-Type %q", resp.Header.Get("Vary"), resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
	}
}

func TestCachingAndETags(t *testing.T) {
	s := newTestServer(t)
	sum := sha256.Sum256(s.fixture.appWASM)
	identityTag := `"` + hex.EncodeToString(sum[:]) + `"`

	resp := s.get(t, "/web/static/app.wasm")
	readBody(t, resp)
	if got := resp.Header.Get("ETag"); got != identityTag {
		t.Errorf("ETag %q, want the SHA-256 %q", got, identityTag)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("unhashed name: Cache-Control %q, want no-cache", got)
	}

	// A different representation has a different strong ETag.
	br := s.get(t, "/web/static/app.wasm", "Accept-Encoding", "br")
	readBody(t, br)
	if br.Header.Get("ETag") == identityTag || br.Header.Get("ETag") == "" {
		t.Errorf("br ETag %q must differ from identity %q", br.Header.Get("ETag"), identityTag)
	}

	for _, c := range []struct{ tag, ae string }{{identityTag, ""}, {br.Header.Get("ETag"), "br"}} {
		resp := s.get(t, "/web/static/app.wasm", "If-None-Match", c.tag, "Accept-Encoding", c.ae)
		if body := readBody(t, resp); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match %s [%s]: %d with %d bytes, want 304 empty", c.tag, c.ae, resp.StatusCode, len(body))
		}
	}
	resp = s.get(t, "/web/static/app.wasm", "If-None-Match", `"stale"`)
	readBody(t, resp)
	if resp.StatusCode != 200 {
		t.Errorf("stale If-None-Match: %d", resp.StatusCode)
	}

	resp = s.get(t, "/web/static/app.0123abcd.wasm")
	readBody(t, resp)
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("hashed name: Cache-Control %q", got)
	}
}

func TestIsContentHashed(t *testing.T) {
	cases := map[string]bool{
		"app.0123abcd.wasm":       true,
		"static/app.0123ABCD.css": true,
		"app.wasm":                false,
		"icon-192.png":            false,
		"app.0123abc.wasm":        false, // 7 digits
		"app.0123abcg.wasm":       false, // not hex
		"0123abcdef.wasm":         false, // the stem is not a hash segment
		"a.vggo.safetensors":      false,
	}
	for name, want := range cases {
		if got := isContentHashed(name); got != want {
			t.Errorf("isContentHashed(%q) = %v", name, got)
		}
	}
}

func TestAcceptedEncodings(t *testing.T) {
	cases := []struct {
		header     string
		br, gzip   bool
		identityOK bool
	}{
		{"", false, false, true},
		{"gzip, deflate, br, zstd", true, true, true},
		{"br;q=0", false, false, true},
		{"gzip;q=0.001", false, true, true},
		{"*", true, true, true},
		{"*;q=0, gzip", false, true, true},
		{"br;q=abc", false, false, true},
		{"br;q=2", false, false, true},
		{"br;q=NaN", false, false, true}, // found by FuzzAcceptedEncodings
		{" Br ; Q=0.5 ", true, false, true},
		{",,;", false, false, true},
	}
	for _, c := range cases {
		q := acceptedEncodings(c.header)
		if got := qValue(q, "br") > 0; got != c.br {
			t.Errorf("%q: br %v", c.header, got)
		}
		if got := qValue(q, "gzip") > 0; got != c.gzip {
			t.Errorf("%q: gzip %v", c.header, got)
		}
	}
}

// TestEmbedTimeIsLastModified: embedded files (no time of their own) carry
// config.EmbedTime as Last-Modified and honour If-Modified-Since.
func TestEmbedTimeIsLastModified(t *testing.T) {
	f := newFixture(t)
	stamp := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	h := newHandler(config{WebFS: f.fs, EmbedTime: stamp})
	for _, target := range []string{"/web/static/app.wasm", "/models/default.vggo.safetensors"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if got := rec.Header().Get("Last-Modified"); got != stamp.Format(http.TimeFormat) {
			t.Errorf("%s: Last-Modified %q", target, got)
		}
		req := httptest.NewRequest("GET", target, nil)
		req.Header.Set("If-Modified-Since", stamp.Add(time.Hour).Format(http.TimeFormat))
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotModified {
			t.Errorf("%s: If-Modified-Since: %d", target, rec.Code)
		}
	}
}
