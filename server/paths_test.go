package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
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
