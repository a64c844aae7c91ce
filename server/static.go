package main

import (
	"context"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// contentTypes maps file extensions to the Content-Type the server sends.
// The table is explicit instead of mime.TypeByExtension because that one
// depends on the machine's /etc/mime.types; unknown extensions get
// application/octet-stream (never sniffed: responses carry nosniff).
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".wasm":        "application/wasm",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".webp":        "image/webp",
	".gif":         "image/gif",
	".svg":         "image/svg+xml",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
	".xml":         "application/xml",
	".woff2":       "font/woff2",
	".safetensors": "application/octet-stream",
}

// contentTypeOf returns the Content-Type for a file name.
func contentTypeOf(name string) string {
	if t, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return t
	}
	return "application/octet-stream"
}

// precompressedExts are the extensions for which make writes .br and .gz
// siblings (see server/precompress) and the server negotiates encodings.
var precompressedExts = map[string]bool{".wasm": true, ".js": true, ".css": true}

// isPrecompressible reports whether name is a type served with
// Vary: Accept-Encoding and precompressed siblings.
func isPrecompressible(name string) bool {
	return precompressedExts[strings.ToLower(path.Ext(name))]
}

// encodings lists the precompressed variants in server preference order:
// brotli is smaller than gzip for wasm by about 20%.
var encodings = []struct{ token, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// acceptedEncodings parses an Accept-Encoding header and returns the q-value
// of each coding (lower-cased) that it names; "*" stands for all others.
// Malformed q-values count as 0 (not acceptable), the safe reading.
func acceptedEncodings(header string) map[string]float64 {
	q := make(map[string]float64)
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(part, ";")
		coding := strings.ToLower(strings.TrimSpace(fields[0]))
		if coding == "" {
			continue
		}
		value := 1.0
		for _, param := range fields[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
			if !ok || strings.ToLower(strings.TrimSpace(k)) != "q" {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(f >= 0 && f <= 1) { // also refuses NaN
				f = 0
			}
			value = f
		}
		q[coding] = value
	}
	return q
}

// qValue returns the q-value a parsed Accept-Encoding gives coding: its
// own entry, else the "*" entry, else 0 (not acceptable).
func qValue(accepted map[string]float64, coding string) float64 {
	if v, ok := accepted[coding]; ok {
		return v
	}
	return accepted["*"]
}

// isContentHashed reports whether a file name carries a content hash, such
// as "app.3f2a9c1b.wasm": a dot-separated inner segment of 8 to 64 hex
// digits. Such names never change content, so they may be cached forever.
func isContentHashed(name string) bool {
	parts := strings.Split(path.Base(name), ".")
	if len(parts) < 3 {
		return false
	}
	for _, p := range parts[1 : len(parts)-1] {
		if len(p) < 8 || len(p) > 64 {
			continue
		}
		if strings.Trim(strings.ToLower(p), "0123456789abcdef") == "" {
			return true
		}
	}
	return false
}

const (
	cacheImmutable = "public, max-age=31536000, immutable"
	// cacheRevalidate lets browsers keep a copy but ask (with the ETag)
	// before every use; a 304 costs one round trip and no body.
	cacheRevalidate = "no-cache"
)

// staticFiles serves the files of one fs.FS (the embedded web tree) with
// precompressed variants, strong ETags and caching headers. Directories are
// never listed.
type staticFiles struct {
	fsys      fs.FS
	embedTime time.Time // Last-Modified for files without a time; zero: none

	mu    sync.Mutex
	etags map[string]string // file name in fsys → quoted SHA-256 ETag
}

func newStaticFiles(fsys fs.FS, embedTime time.Time) *staticFiles {
	return &staticFiles{fsys: fsys, embedTime: embedTime, etags: make(map[string]string)}
}

// etag returns the strong ETag of a file: its SHA-256 in quotes. The tree
// is read-only (embedded), so each file is hashed once.
func (s *staticFiles) etag(name string) (string, error) {
	s.mu.Lock()
	tag, ok := s.etags[name]
	s.mu.Unlock()
	if ok {
		return tag, nil
	}
	content, size, closer, err := openContent(s.fsys, name)
	if err != nil {
		return "", err
	}
	defer closer.Close()
	sum, err := hashContent(context.Background(), content, size)
	if err != nil {
		return "", err
	}
	tag = `"` + sum + `"`
	s.mu.Lock()
	s.etags[name] = tag
	s.mu.Unlock()
	return tag, nil
}

// chooseEncoding picks the precompressed sibling of name to send for an
// Accept-Encoding header: among the siblings that exist and that the client
// accepts, the one with the highest q-value, ties going to the server's
// order (brotli first). ok is false when the original should be sent.
func (s *staticFiles) chooseEncoding(name, acceptEncoding string) (best struct{ token, suffix string }, ok bool) {
	accepted := acceptedEncodings(acceptEncoding)
	bestQ := 0.0
	for _, e := range encodings {
		if q := qValue(accepted, e.token); q > bestQ && isRegularFile(s.fsys, name+e.suffix) {
			best, bestQ, ok = e, q, true
		}
	}
	return best, ok
}

// isRegularFile reports whether name exists in fsys and is a regular file.
func isRegularFile(fsys fs.FS, name string) bool {
	info, err := fs.Stat(fsys, name)
	return err == nil && info.Mode().IsRegular()
}

// serve writes the file name (a path inside fsys, already checked by
// checkPath) to w, choosing a precompressed sibling when the client
// accepts it. Hidden files, the .br/.gz siblings themselves and
// directories are 404.
func (s *staticFiles) serve(w http.ResponseWriter, r *http.Request, name string) {
	base := path.Base(name)
	if name == "" || strings.HasPrefix(base, ".") || strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") ||
		!fs.ValidPath(name) || !isRegularFile(s.fsys, name) {
		http.NotFound(w, r)
		return
	}

	h := w.Header()
	h.Set("Content-Type", contentTypeOf(name))
	if isContentHashed(name) {
		h.Set("Cache-Control", cacheImmutable)
	} else {
		h.Set("Cache-Control", cacheRevalidate)
	}

	file := name
	if isPrecompressible(name) {
		h.Add("Vary", "Accept-Encoding")
		if e, ok := s.chooseEncoding(name, r.Header.Get("Accept-Encoding")); ok {
			file = name + e.suffix
			h.Set("Content-Encoding", e.token)
			if info, err := fs.Stat(s.fsys, name); err == nil {
				h.Set(uncompressedLengthHeader, strconv.FormatInt(info.Size(), 10))
			}
		}
	}

	tag, err := s.etag(file)
	if err != nil {
		http.Error(w, "cannot read file", http.StatusInternalServerError)
		return
	}
	h.Set("ETag", tag)

	content, size, closer, err := openContent(s.fsys, file)
	if err != nil {
		http.Error(w, "cannot read file", http.StatusInternalServerError)
		return
	}
	defer closer.Close()
	modTime := s.embedTime // embedded files have no time of their own
	if info, err := fs.Stat(s.fsys, file); err == nil && !info.ModTime().IsZero() {
		modTime = info.ModTime()
	}
	if h.Get("Content-Encoding") != "" {
		// http.ServeContent leaves out Content-Length on full responses
		// with a Content-Encoding (it guards against on-the-fly
		// compression middleware); our bytes are exactly the sibling's,
		// so the length is known and lets clients show progress.
		w = &fullLengthWriter{ResponseWriter: w, size: size}
	}
	serveContent(w, r, base, modTime, content)
}

// uncompressedLengthHeader carries the decoded size of a precompressed
// response. Download progress in the browser counts decoded bytes, so
// Content-Length (the compressed size) cannot be its total; go-app reads
// this header for app.wasm (Handler.WasmContentLengthHeader).
const uncompressedLengthHeader = "X-Uncompressed-Content-Length"

// fullLengthWriter sets Content-Length on a 200 response that has none.
type fullLengthWriter struct {
	http.ResponseWriter
	size        int64
	wroteHeader bool
}

func (w *fullLengthWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	if code == http.StatusOK && w.Header().Get("Content-Length") == "" {
		w.Header().Set("Content-Length", strconv.FormatInt(w.size, 10))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *fullLengthWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.ResponseWriter.Write(p)
}

func (w *fullLengthWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
