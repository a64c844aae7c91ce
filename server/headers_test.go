package main

import (
	"net/http"
	"strings"
	"testing"
)

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
