package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
)

func TestCheckPath(t *testing.T) {
	cases := []struct {
		target string
		ok     bool
	}{
		{"/", true},
		{"/healthz", true},
		{"/web/static/app.wasm", true},
		{"/models/", true},
		{"/models/a.vggo.safetensors", true},
		{"/web/static/a%20b.png", true},
		{"/web/../secret", false},
		{"/web/static/./app.wasm", false},
		{"/..", false},
		{"//etc/passwd", false},
		{"/web//static/app.wasm", false},
		{"/web/%2e%2e/secret", false},
		{"/web/%2E%2E/secret", false},
		{"/web/static/..%2fsecret", false},
		{"/web/static/x%2Fy", false},
		{"/web/static/%5c..%5csecret", false},
		{"/web/static/a%00.png", false},
		{"/web/static/a%0a.png", false},
		{"/web/static/%7f", false},
	}
	for _, c := range cases {
		u, err := url.ParseRequestURI(c.target)
		if err != nil {
			t.Fatalf("%q: %v", c.target, err)
		}
		_, err = checkPath(u)
		if (err == nil) != c.ok {
			t.Errorf("checkPath(%q) error = %v, want ok=%v", c.target, err, c.ok)
		}
	}
	// A backslash cannot be written in a parsed URL's escaped form; build
	// it directly.
	if _, err := checkPath(&url.URL{Path: `/web/static/..\secret`}); err == nil {
		t.Errorf("backslash path accepted")
	}
	if _, err := checkPath(&url.URL{Path: "web/static/x"}); err == nil {
		t.Errorf("relative path accepted")
	}
}

// assertSecurityHeaders checks the headers every response must carry.
func assertSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", "frame-ancestors 'none'", "worker-src 'self'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, want)
		}
	}
	for _, bad := range []string{"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:", "data:"} {
		if strings.Contains(strings.ReplaceAll(csp, "'wasm-unsafe-eval'", ""), bad) {
			t.Errorf("%s: CSP %q contains %s", what, csp, bad)
		}
	}
	want := map[string]string{
		"X-Content-Type-Options":       "nosniff",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Embedder-Policy": "require-corp",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Referrer-Policy":              "no-referrer",
		"Permissions-Policy":           "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	s := newTestServer(t)
	cases := []struct {
		target string
		status int
	}{
		{"/", 200},
		{"/app.js", 200},
		{"/manifest.webmanifest", 200},
		{"/web/static/app.wasm", 200},
		{"/models", 200},
		{"/models/default.vggo.safetensors", 200},
		{"/healthz", 200},
		{"/no-such-page", 404},
		{"/web/static/nope.css", 404},
		{"/web/%2e%2e/secret.txt", 400},
	}
	for _, c := range cases {
		resp := s.get(t, c.target)
		readBody(t, resp)
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.target, resp.StatusCode, c.status)
		}
		assertSecurityHeaders(t, c.target, resp.Header)
	}
}

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

func TestModelFileRanges(t *testing.T) {
	s := newTestServer(t)
	data := randomBytes(100_000, 3)
	s.writeModel(t, "big.vggo.safetensors", data)
	target := "/models/big.vggo.safetensors"

	full := s.get(t, target)
	if body := readBody(t, full); full.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("full download: %d, %d bytes", full.StatusCode, len(body))
	}
	sum := sha256.Sum256(data)
	tag := `"` + hex.EncodeToString(sum[:]) + `"`
	if full.Header.Get("ETag") != tag {
		t.Errorf("ETag %q, want %q", full.Header.Get("ETag"), tag)
	}
	if full.Header.Get("Accept-Ranges") != "bytes" || full.Header.Get("Last-Modified") == "" {
		t.Errorf("Accept-Ranges %q, Last-Modified %q", full.Header.Get("Accept-Ranges"), full.Header.Get("Last-Modified"))
	}
	if full.Header.Get("Content-Type") != "application/octet-stream" || full.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("Content-Type %q Cache-Control %q", full.Header.Get("Content-Type"), full.Header.Get("Cache-Control"))
	}

	t.Run("single", func(t *testing.T) {
		resp := s.get(t, target, "Range", "bytes=100-1099")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[100:1100]) {
			t.Fatalf("%d, %d bytes", resp.StatusCode, len(body))
		}
		if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes 100-1099/%d", len(data)); got != want {
			t.Errorf("Content-Range %q, want %q", got, want)
		}
		// A suffix range: the last 10 bytes.
		resp = s.get(t, target, "Range", "bytes=-10")
		if body := readBody(t, resp); resp.StatusCode != 206 || !bytes.Equal(body, data[len(data)-10:]) {
			t.Errorf("suffix range: %d, %d bytes", resp.StatusCode, len(body))
		}
	})

	t.Run("multi", func(t *testing.T) {
		resp := s.get(t, target, "Range", "bytes=0-9,5000-5019")
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("status %d", resp.StatusCode)
		}
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/byteranges" {
			t.Fatalf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
		}
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		want := []struct {
			cr   string
			data []byte
		}{
			{fmt.Sprintf("bytes 0-9/%d", len(data)), data[0:10]},
			{fmt.Sprintf("bytes 5000-5019/%d", len(data)), data[5000:5020]},
		}
		for i, w := range want {
			part, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			got, _ := io.ReadAll(part)
			if part.Header.Get("Content-Range") != w.cr || !bytes.Equal(got, w.data) {
				t.Errorf("part %d: Content-Range %q, %d bytes", i, part.Header.Get("Content-Range"), len(got))
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Errorf("extra part: %v", err)
		}
	})

	t.Run("unsatisfiable", func(t *testing.T) {
		resp := s.get(t, target, "Range", fmt.Sprintf("bytes=%d-", len(data)+10))
		readBody(t, resp)
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes */%d", len(data)); got != want {
			t.Errorf("Content-Range %q, want %q", got, want)
		}
	})

	t.Run("conditional", func(t *testing.T) {
		resp := s.get(t, target, "If-None-Match", tag)
		if body := readBody(t, resp); resp.StatusCode != http.StatusNotModified || len(body) != 0 {
			t.Errorf("If-None-Match: %d, %d bytes", resp.StatusCode, len(body))
		}
		resp = s.get(t, target, "If-Modified-Since", full.Header.Get("Last-Modified"))
		if readBody(t, resp); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-Modified-Since: %d", resp.StatusCode)
		}
		// If-Range with a stale ETag: the whole file, not the range.
		resp = s.get(t, target, "Range", "bytes=0-9", "If-Range", `"stale"`)
		if body := readBody(t, resp); resp.StatusCode != 200 || len(body) != len(data) {
			t.Errorf("stale If-Range: %d, %d bytes", resp.StatusCode, len(body))
		}
	})

	t.Run("embedded", func(t *testing.T) {
		resp := s.get(t, "/models/default.vggo.safetensors", "Range", "bytes=0-7")
		body := readBody(t, resp)
		if resp.StatusCode != 206 || !bytes.Equal(body, s.fixture.model[:8]) {
			t.Fatalf("embedded range: %d, %q", resp.StatusCode, body)
		}
		sum := sha256.Sum256(s.fixture.model)
		if got := resp.Header.Get("ETag"); got != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Errorf("embedded ETag %q", got)
		}
	})
}

// rawGet sends target verbatim on the request line (no client-side
// cleaning or escaping) and returns the status code and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", target)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%q: %v", target, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

func TestTraversalRefused(t *testing.T) {
	s := newTestServer(t)
	ts := httptest.NewServer(s.handler)
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")

	targets := []string{
		"/web/static/../secret.txt",
		"/web/static/../../secret.txt",
		"/web/../secret.txt",
		"/web/secret.txt",
		"/web/static/%2e%2e/secret.txt",
		"/web/static/%2E%2E/secret.txt",
		"/web/static/.%2e/secret.txt",
		"/web/static/..%2fsecret.txt",
		"/web/static/..%2Fsecret.txt",
		"/web/static/%2e%2e%2fsecret.txt",
		`/web/static/..\secret.txt`,
		"/web/static/..%5csecret.txt",
		"/web/static/%5c..%5csecret.txt",
		"/web/static/robots.txt%00.png",
		"/web/models/default.vggo.safetensors",
		"/models/../outside.vggo.safetensors",
		"/models/%2e%2e/outside.vggo.safetensors",
		"/models/..%2foutside.vggo.safetensors",
		`/models/..\outside.vggo.safetensors`,
		"/models/%2e%2e%5coutside.vggo.safetensors",
		"//secret.txt",
		"/web/static//../secret.txt",
	}
	for _, target := range targets {
		status, body := rawGet(t, addr, target)
		if status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("%q: status %d, want 400 or 404", target, status)
		}
		if strings.Contains(body, "SECRET") {
			t.Errorf("%q: leaked a file outside the served trees", target)
		}
	}
}

func TestUnknownPathsAre404(t *testing.T) {
	s := newTestServer(t)
	for _, target := range []string{
		"/no-such-page",
		"/web/static/nope.js",
		"/web/static/sub/", // a directory: never listed
		"/web/static/sub",
		"/web/static/",
		"/web/",
		"/web/static/.hidden",
		"/web/static/.gitkeep",
		"/web/static/app.wasm.br", // siblings are chosen, not requested
		"/web/static/app.wasm.gz",
		"/models/nope.vggo.safetensors",
		"/models/notamodel.txt",
		"/models/.hidden.safetensors",
		"/sitemap.xml",
	} {
		resp := s.get(t, target)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404 (body %.60q)", target, resp.StatusCode, body)
		}
	}
	resp := s.get(t, "/robots.txt")
	if body := readBody(t, resp); resp.StatusCode != 200 || !strings.HasPrefix(string(body), "User-agent") {
		t.Errorf("/robots.txt: %d %q", resp.StatusCode, body)
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
