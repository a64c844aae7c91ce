package main

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzCheckPath: any request target checkPath accepts is already clean
// (path.Clean leaves it alone, up to one trailing slash) and holds no "..",
// backslash or control character, so no later step can be tricked into
// leaving the served trees. Seed corpus: testdata/fuzz/FuzzCheckPath.
func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{"/", "/web/static/app.wasm", "/models/", "/web/%2e%2e/x", "/a/../b", `/a\b`, "//x", "/a%00b", "/%c0%ae%c0%ae/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		p, err := checkPath(u)
		if err != nil {
			return
		}
		clean := path.Clean(p)
		if p != clean && p != clean+"/" {
			t.Fatalf("accepted %q (path %q) which cleans to %q", target, p, clean)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("accepted %q with a %q segment", target, seg)
			}
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\' {
				t.Fatalf("accepted %q with byte %#x", target, p[i])
			}
		}
	})
}

// FuzzAcceptedEncodings: the parser never panics and yields q-values in
// [0, 1] for lower-case coding names.
func FuzzAcceptedEncodings(f *testing.F) {
	for _, s := range []string{"", "gzip, deflate, br", "br;q=0.5, *;q=0", "br;q=NaN", ";;,", "gzip;q=1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		for coding, q := range acceptedEncodings(header) {
			if !(q >= 0 && q <= 1) {
				t.Fatalf("%q: %s has q=%v", header, coding, q)
			}
			if coding != strings.ToLower(coding) {
				t.Fatalf("%q: coding %q not lower-cased", header, coding)
			}
		}
	})
}
