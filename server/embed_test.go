package main

import (
	"io/fs"
	"net/http/httptest"
	"strings"
	"testing"

	"vggo/wasm/ui"
	"vggo/web"
)

// TestEmbedHeaders checks each route's framing and cross-origin headers:
// the widget's page may be framed by the -embed-origins and loaded
// cross-origin, embed.js may be loaded by any page, the demo page may frame
// its own widget, and everything else keeps frame-ancestors 'none' and
// CORP same-origin.
func TestEmbedHeaders(t *testing.T) {
	for _, c := range []struct {
		origins, path        string
		ancestors, corp, typ string
		frameSrc             bool
	}{
		{"", ui.EmbedPath, "*", "cross-origin", "text/html", false},
		{"https://blog.example.com https://*.shop.example", ui.EmbedPath + "?model=x", "https://blog.example.com https://*.shop.example", "cross-origin", "text/html", false},
		{"", "/embed.js", "'none'", "cross-origin", "text/javascript; charset=utf-8", false},
		{"", "/embed-demo", "'none'", "same-origin", "text/html; charset=utf-8", true},
		{"", "/", "'none'", "same-origin", "text/html", false},
		{"https://blog.example.com", ui.BenchPath, "'none'", "same-origin", "text/html", false},
		{"", "/web/static/app.css", "'none'", "same-origin", "text/css; charset=utf-8", false},
		{"", "/embed/x", "'none'", "same-origin", "", false},
	} {
		h := newHandler(config{WebFS: web.FS, EmbedOrigins: c.origins})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		hd := rec.Header()
		csp := hd.Get("Content-Security-Policy")
		if !strings.HasSuffix(csp, "; frame-ancestors "+c.ancestors) {
			t.Errorf("%s (-embed-origins %q): CSP %q, want frame-ancestors %s", c.path, c.origins, csp, c.ancestors)
		}
		if got := strings.Contains(csp, "frame-src 'self'"); got != c.frameSrc {
			t.Errorf("%s: CSP %q: frame-src 'self' present = %v, want %v", c.path, csp, got, c.frameSrc)
		}
		if got := hd.Get("Cross-Origin-Resource-Policy"); got != c.corp {
			t.Errorf("%s: CORP %q, want %q", c.path, got, c.corp)
		}
		// COEP stays on everywhere (see headers.go: a framed COEP page
		// works in any host); no route answers CORS.
		if hd.Get("Cross-Origin-Embedder-Policy") != "require-corp" || hd.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: COEP %q, ACAO %q", c.path, hd.Get("Cross-Origin-Embedder-Policy"), hd.Get("Access-Control-Allow-Origin"))
		}
		if c.typ != "" && (rec.Code != 200 || !strings.HasPrefix(hd.Get("Content-Type"), c.typ)) {
			t.Errorf("%s: %d %q, want 200 %q", c.path, rec.Code, hd.Get("Content-Type"), c.typ)
		}
	}
}

// TestParseEmbedOrigins accepts origins, wildcards for subdomains and the
// CSP keywords, and refuses anything that could change the header's
// meaning.
func TestParseEmbedOrigins(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"*", "*", ""},
		{"https://blog.example.com", "https://blog.example.com", ""},
		{"https://a.example, http://localhost:8080", "https://a.example http://localhost:8080", ""},
		{"https://*.example.org 'self'", "https://*.example.org 'self'", ""},
		{"'none'", "'none'", ""},
		{"", "", "empty"},
		{"https://a.example/path", "", "not an origin"},
		{"https://a.example; script-src *", "", "not an origin"},
		{"ftp://a.example", "", "not an origin"},
		{"a.example", "", "not an origin"},
		{"https://*", "", "wildcard"},
		{"https://a.*.example", "", "wildcard"},
		{"'none' https://a.example", "", "cannot be combined"},
		{"https://user@a.example", "", "not an origin"},
	} {
		got, err := parseEmbedOrigins(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("parseEmbedOrigins(%q) = %q, %v; want %q", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("parseEmbedOrigins(%q) = %q, %v; want an error with %q", c.in, got, err, c.err)
		}
	}
}

// TestEmbedScriptSize: embed.js is all a host page downloads before the
// frame; it must stay under 10 KB uncompressed.
func TestEmbedScriptSize(t *testing.T) {
	info, err := fs.Stat(web.FS, "static/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	const limit = 10 << 10
	if info.Size() >= limit {
		t.Fatalf("web/static/embed.js is %d bytes, over the %d byte budget", info.Size(), limit)
	}
	t.Logf("embed.js: %d bytes (budget %d)", info.Size(), limit)
}

// TestEmbedFlag: a bad -embed-origins stops the server with an error
// naming the flag.
func TestEmbedFlag(t *testing.T) {
	var stderr strings.Builder
	err := run([]string{"-addr", "127.0.0.1:0", "-embed-origins", "https://a.example/x"}, &stderr)
	if err == nil || !strings.Contains(err.Error(), "-embed-origins") {
		t.Fatalf("run with a bad -embed-origins: %v", err)
	}
}
