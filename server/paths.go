package main

import (
	"errors"
	"net/url"
	"strings"
)

// errBadPath is returned by checkPath for request paths the server refuses
// outright (answered with 400 Bad Request).
var errBadPath = errors.New("bad request path")

// checkPath validates a request URL's path before any routing and returns
// the decoded path. It refuses, rather than cleans, everything that could
// be used to step outside the served trees or to hide such a step from a
// later check:
//   - a path that does not start with "/";
//   - "." or ".." segments and empty segments ("//"), except one trailing
//     slash;
//   - backslashes (a path separator on Windows), NUL and other control
//     characters;
//   - percent-encoded '.', '/', '\' or NUL in the raw path: no legitimate
//     client encodes them, and decoding "%2e%2e%2f" after a check is the
//     classic traversal bypass.
//
// Refusing is safe because the server only ever generates plain links.
func checkPath(u *url.URL) (string, error) {
	raw := strings.ToLower(u.EscapedPath())
	for _, enc := range []string{"%2e", "%2f", "%5c", "%00"} {
		if strings.Contains(raw, enc) {
			return "", errBadPath
		}
	}
	p := u.Path
	if !strings.HasPrefix(p, "/") {
		return "", errBadPath
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", errBadPath
		}
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		switch {
		case s == "." || s == "..":
			return "", errBadPath
		case s == "" && i != len(segs)-1:
			return "", errBadPath
		}
	}
	return p, nil
}
