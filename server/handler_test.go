package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestHealthz(t *testing.T) {
	s := newTestServer(t)
	resp := s.get(t, "/healthz")
	if body := readBody(t, resp); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("healthz Cache-Control %q", cc)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	s := newTestServer(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		req := httptest.NewRequest(m, "/models", strings.NewReader("x"))
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d Allow=%q", m, rec.Code, rec.Header().Get("Allow"))
		}
	}
	req := httptest.NewRequest(http.MethodHead, "/web/static/app.wasm", nil)
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d body bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

// TestAppPages checks the go-app wiring without depending on the UI's
// content: the page is HTML that loads go-app's scripts, app.js points at
// the embedded app.wasm, and the manifest uses the embedded icons.
func TestAppPages(t *testing.T) {
	s := newTestServer(t)
	resp := s.get(t, "/")
	body := string(readBody(t, resp))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`src="/wasm_exec.js"`, `src="/app.js"`, `href="/manifest.webmanifest"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(body, "githubusercontent") || strings.Contains(body, "<style") {
		t.Errorf("page refers to an external icon or has inline style sheets")
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "<script >") {
		t.Errorf("page has an inline script, which the CSP blocks")
	}

	resp = s.get(t, "/app.js")
	js := string(readBody(t, resp))
	if !strings.Contains(js, `"`+appWASMURL+`"`) {
		t.Errorf("app.js does not load %s", appWASMURL)
	}
	if !strings.Contains(js, `"`+uncompressedLengthHeader+`"`) {
		t.Errorf("app.js does not take the wasm size from %s", uncompressedLengthHeader)
	}

	resp = s.get(t, "/manifest.webmanifest")
	var manifest struct {
		Icons []struct{ Src, Type, Sizes string }
	}
	if err := json.Unmarshal(readBody(t, resp), &manifest); err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "application/manifest+json" {
		t.Errorf("manifest Content-Type %q", resp.Header.Get("Content-Type"))
	}
	icons := map[string]bool{}
	for _, ic := range manifest.Icons {
		icons[ic.Src] = true
	}
	for _, want := range []string{icon192URL, icon512URL, iconSVGURL} {
		if !icons[want] {
			t.Errorf("manifest lacks icon %s (has %v)", want, icons)
		}
	}
}

func TestRequestLog(t *testing.T) {
	s := newTestServer(t)
	resp := s.get(t, "/web/static/icon.svg")
	readBody(t, resp)
	var line struct {
		Msg      string
		Method   string
		Path     string
		Status   int
		Bytes    int64
		Duration int64
	}
	var found bool
	for _, l := range strings.Split(strings.TrimSpace(s.log.String()), "\n") {
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if line.Msg == "request" && line.Path == "/web/static/icon.svg" {
			found = true
			break
		}
	}
	if !found {
		t.Fatalf("no request line in log:\n%s", s.log.String())
	}
	if line.Method != "GET" || line.Status != 200 || line.Bytes != int64(len("<svg/>")) || line.Duration <= 0 {
		t.Errorf("log line %+v", line)
	}
}

func TestNewLogger(t *testing.T) {
	var b bytes.Buffer
	for _, format := range []string{"text", "json"} {
		b.Reset()
		log, err := newLogger(format, &b)
		if err != nil {
			t.Fatal(err)
		}
		log.Info("hello", "k", 1)
		if format == "json" && !json.Valid(bytes.TrimSpace(b.Bytes())) {
			t.Errorf("json log is not JSON: %q", b.String())
		}
		if format == "text" && !strings.Contains(b.String(), "msg=hello k=1") {
			t.Errorf("text log %q", b.String())
		}
	}
	if _, err := newLogger("xml", &b); err == nil {
		t.Errorf("-log-format xml accepted")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	var b bytes.Buffer
	for _, args := range [][]string{
		{"-log-format", "xml"},
		{"-models", "/nonexistent/dir"},
		{"-models", os.Args[0]}, // a file, not a directory
		{"extra"},
		{"-addr", "not-an-address"},
	} {
		if err := run(args, &b); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

// TestAppVersionFollowsTheWasm: go-app's version (the page ETag and the
// service worker's cache name) is derived from the wasm content, so it is
// stable across restarts and changes exactly when app.wasm does.
func TestAppVersionFollowsTheWasm(t *testing.T) {
	pageTag := func(f *fixture) string {
		rec := httptest.NewRecorder()
		newHandler(config{WebFS: f.fs}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec.Header().Get("ETag")
	}
	a, b := newFixture(t), newFixture(t)
	if ta, tb := pageTag(a), pageTag(b); ta == "" || ta != tb {
		t.Errorf("same wasm, different page ETags %q %q", ta, tb)
	}
	b.fs["static/app.wasm"].Data = compressibleBytes(1000, 99)
	if ta, tb := pageTag(a), pageTag(b); ta == tb {
		t.Errorf("different wasm, same page ETag %q", ta)
	}
}
