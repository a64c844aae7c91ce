package main

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"vggo/wasm/ui"
	"vggo/web"
)

// TestPagesFitTheCSP renders every app route through the real handler and
// checks the HTML needs nothing the Content-Security-Policy forbids: no
// inline <script> or <style>, no style="" or on...="" attributes, and
// nothing loaded from another origin. (go-app adds elements at run time
// from Go, not from HTML, so the pre-rendered page is what the CSP sees on
// load.)
func TestPagesFitTheCSP(t *testing.T) {
	s := newTestServer(t)
	inlineScript := regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`)
	styleAttr := regexp.MustCompile(`\sstyle\s*=`)
	handlerAttr := regexp.MustCompile(`\son[a-z]+\s*=`)
	remote := regexp.MustCompile(`(?:src|href)\s*=\s*"(?:https?:)?//`)
	for _, route := range []string{ui.ClassifyPath, ui.BenchPath, ui.EmbedPath} {
		resp := s.get(t, route)
		html := string(readBody(t, resp))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", route, resp.StatusCode)
		}
		for _, c := range []struct {
			re   *regexp.Regexp
			what string
		}{
			{inlineScript, "an inline script"},
			{styleAttr, "a style attribute"},
			{handlerAttr, "an inline event handler"},
			{remote, "a resource from another origin"},
		} {
			if m := c.re.FindString(html); m != "" {
				t.Errorf("%s has %s (%q), which the CSP blocks", route, c.what, m)
			}
		}
		if strings.Contains(html, "<style") {
			t.Errorf("%s has an inline <style> element", route)
		}
	}
}

// TestEmbeddedTree serves the real embedded web tree: the committed icons
// and the UI's files are there with the right types.
func TestEmbeddedTree(t *testing.T) {
	h := newHandler(config{WebFS: web.FS})
	for _, c := range []struct{ path, contentType string }{
		{"/web/static/icon-192.png", "image/png"},
		{"/web/static/icon-512.png", "image/png"},
		{"/web/static/icon.svg", "image/svg+xml"},
		{ui.StyleSheet, "text/css; charset=utf-8"},
		{"/web/static/worker.js", "text/javascript; charset=utf-8"},
		{"/manifest.webmanifest", "application/manifest+json"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != c.contentType {
			t.Errorf("%s: %d %q, want 200 %q", c.path, rec.Code, rec.Header().Get("Content-Type"), c.contentType)
		}
	}
}
