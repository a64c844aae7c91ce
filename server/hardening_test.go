package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Tests for the defects of issue 13 (hardening): each failed on the server
// before the fix. docs/security.md maps each promise to its test.

// within runs f and fails the test if it has not returned after d (f is
// then left running: it is stuck, which is the failure).
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: not done after %v", what, d)
	}
}

// pending reports whether the facts of file name are being computed.
func (c *factsCache) pending(name string) bool {
	c.mu.Lock()
	j, ok := c.jobs[name]
	c.mu.Unlock()
	if !ok {
		return false
	}
	_, ready := j.ready()
	return !ready
}

// writeSparse creates a file of size bytes that takes no disk space (all
// zeros): hashing it costs CPU time only.
func writeSparse(t testing.TB, p string, size int64) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBigFileDoesNotBlockOtherRequests adds a 1 GB file to the models
// folder: while it is hashed (in the background), /models answers at once
// without it, and a Range request on the default model is not held up.
// The old server hashed under one lock for every model request.
func TestBigFileDoesNotBlockOtherRequests(t *testing.T) {
	s := newTestServer(t)
	writeSparse(t, filepath.Join(s.modelsDir, "huge.vggo.safetensors"), 1<<30)
	const fast = 2 * time.Second // generous for a loaded machine; hashing 1 GB takes longer
	within(t, fast, "/models with a 1 GB file being hashed", func() {
		resp := s.get(t, routeModels)
		if body := readBody(t, resp); resp.StatusCode != 200 || bytes.Contains(body, []byte("huge")) {
			t.Errorf("/models: %d, lists the file being checked: %s", resp.StatusCode, body)
		}
	})
	if !s.site.models.onDisk.pending("huge.vggo.safetensors") {
		t.Fatalf("the 1 GB file is not being hashed in the background")
	}
	within(t, fast, "a Range request on the default model", func() {
		resp := s.get(t, "/models/default.vggo.safetensors", "Range", "bytes=0-99")
		if body := readBody(t, resp); resp.StatusCode != 206 || !bytes.Equal(body, s.fixture.model[:100]) {
			t.Errorf("Range on the default model: %d, %d bytes", resp.StatusCode, len(body))
		}
	})
}

// TestReplacementBeingChecked: while a directory file named like the
// embedded default is being hashed, the index lists neither: listing the
// default's hash would contradict the download, which serves the
// directory's file.
func TestReplacementBeingChecked(t *testing.T) {
	s := newTestServer(t)
	writeSparse(t, filepath.Join(s.modelsDir, "default.vggo.safetensors"), 1<<30)
	resp := s.get(t, routeModels)
	if body := readBody(t, resp); !s.site.models.onDisk.pending("default.vggo.safetensors") || bytes.Contains(body, []byte("default")) {
		t.Errorf("while the replacement is checked, /models lists: %s", body)
	}
}

// TestModelHashedOncePerVersion: index requests and downloads of one file
// version compute its facts (hash and metadata) once; a new version once
// more.
func TestModelHashedOncePerVersion(t *testing.T) {
	s := newTestServer(t)
	data := fixtureModel(t, []string{"a", "b"})
	p := s.writeModel(t, "m.vggo.safetensors", data)
	for range 5 {
		s.getIndex(t)
		readBody(t, s.get(t, "/models/m.vggo.safetensors"))
		readBody(t, s.get(t, "/models/m.vggo.safetensors", "Range", "bytes=0-9"))
	}
	if n := s.site.models.onDisk.computed.Load(); n != 1 {
		t.Errorf("one version hashed %d times, want 1", n)
	}
	later := time.Now().Add(time.Hour)
	os.Chtimes(p, later, later)
	s.getIndex(t)
	readBody(t, s.get(t, "/models/m.vggo.safetensors"))
	if n := s.site.models.onDisk.computed.Load(); n != 2 {
		t.Errorf("two versions hashed %d times, want 2", n)
	}
}

// TestSymlinksRefused: links in the models folder are never followed,
// whether they leave the folder or not (see docs/security.md).
func TestSymlinksRefused(t *testing.T) {
	s := newTestServer(t)
	real := fixtureModel(t, []string{"a", "b"})
	s.writeModel(t, "real.vggo.safetensors", real)
	links := map[string]string{
		"out.vggo.safetensors":     "../outside.vggo.safetensors", // next to the folder, "SECRET"
		"abs.vggo.safetensors":     filepath.Join(filepath.Dir(s.modelsDir), "outside.vggo.safetensors"),
		"alias.vggo.safetensors":   "real.vggo.safetensors", // stays inside: refused too
		"default.vggo.safetensors": "../outside.vggo.safetensors",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(s.modelsDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	idx, _, _ := s.getIndex(t)
	var got []string
	for _, e := range idx.Models {
		got = append(got, e.File)
	}
	if want := []string{"default.vggo.safetensors", "real.vggo.safetensors"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("index lists %v, want %v", got, want)
	}
	for name := range links {
		resp := s.get(t, "/models/"+name)
		body := readBody(t, resp)
		if bytes.Contains(body, []byte("SECRET")) {
			t.Errorf("%s: served the link's target", name)
		}
		if name == "default.vggo.safetensors" {
			// The link is ignored; the embedded default is served.
			if resp.StatusCode != 200 || !bytes.Equal(body, s.fixture.model) {
				t.Errorf("%s: %d, not the embedded default", name, resp.StatusCode)
			}
		} else if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, resp.StatusCode)
		}
		if !strings.Contains(s.log.String(), name+`","reason":"not a regular file`) {
			t.Errorf("no log line says why %s is not served", name)
		}
	}
}

// oddNames are the eight odd model file names: listed and served
// (escaped), or skipped with the logged reason given.
var oddNames = []struct {
	name, skipped string
}{
	{"hash#tag.vggo.safetensors", ""},
	{"what?.vggo.safetensors", ""},
	{"100%.vggo.safetensors", ""},
	{"two words.vggo.safetensors", ""},
	{`say "hi".vggo.safetensors`, ""},
	{"café ☕.vggo.safetensors", ""},
	{"caf\xe9.vggo.safetensors", "file name is not valid UTF-8"},               // cannot be written in the JSON index
	{"line\nbreak.vggo.safetensors", "file name contains a control character"}, // refused in request paths
}

// TestOddModelNames: every listed name downloads through its index url and
// is named exactly in Content-Disposition; the others are skipped with a
// logged reason.
func TestOddModelNames(t *testing.T) {
	s := newTestServer(t)
	data := fixtureModel(t, []string{"a", "b"})
	for _, n := range oddNames {
		s.writeModel(t, n.name, data)
	}
	idx, usable, _ := s.getIndex(t)
	byFile := map[string]modelEntry{}
	for _, e := range idx.Models {
		byFile[e.File] = e
	}
	hrefs := map[string]string{}
	for _, e := range usable {
		hrefs[e.File] = e.Href()
	}
	for _, n := range oddNames {
		e, listed := byFile[n.name]
		if listed != (n.skipped == "") {
			t.Errorf("%q: listed %v, want %v", n.name, listed, !listed)
			continue
		}
		if !listed {
			if !strings.Contains(s.log.String(), `"reason":"`+n.skipped+`"`) {
				t.Errorf("%q: no log line says %q", n.name, n.skipped)
			}
			continue
		}
		if hrefs[n.name] != e.URL {
			t.Errorf("%q: client href %q, index url %q", n.name, hrefs[n.name], e.URL)
		}
		resp := s.get(t, e.URL)
		body := readBody(t, resp)
		if resp.StatusCode != 200 || !bytes.Equal(body, data) {
			t.Errorf("%q: GET %s: %d, %d bytes", n.name, e.URL, resp.StatusCode, len(body))
			continue
		}
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] != n.name {
			t.Errorf("%q: Content-Disposition %q gives %q (%v)", n.name, resp.Header.Get("Content-Disposition"), params["filename"], err)
		}
	}
}

// TestEmptySuffixRange: "bytes=-0" asks for nothing and is answered 416
// (Go itself answers 206 with an impossible Content-Range); in a set with
// satisfiable ranges it is ignored.
func TestEmptySuffixRange(t *testing.T) {
	s := newTestServer(t)
	disk := randomBytes(5000, 8)
	s.writeModel(t, "disk.vggo.safetensors", disk)
	for _, c := range []struct {
		target string
		size   int
	}{
		{"/models/default.vggo.safetensors", len(s.fixture.model)},
		{"/models/disk.vggo.safetensors", len(disk)},
		{"/web/static/icon.svg", len("<svg/>")},
	} {
		for _, spec := range []string{"bytes=-0", "bytes=-000", "bytes= -0 , -0"} {
			resp := s.get(t, c.target, "Range", spec)
			readBody(t, resp)
			if want := fmt.Sprintf("bytes */%d", c.size); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || resp.Header.Get("Content-Range") != want {
				t.Errorf("%s %q: %d, Content-Range %q; want 416, %q", c.target, spec, resp.StatusCode, resp.Header.Get("Content-Range"), want)
			}
		}
		resp := s.get(t, c.target, "Range", "bytes=0-1,-0")
		body := readBody(t, resp)
		if want := fmt.Sprintf("bytes 0-1/%d", c.size); resp.StatusCode != 206 || len(body) != 2 || resp.Header.Get("Content-Range") != want {
			t.Errorf("%s 0-1,-0: %d, %d bytes, Content-Range %q; want 206, 2 bytes, %q", c.target, resp.StatusCode, len(body), resp.Header.Get("Content-Range"), want)
		}
	}
}

// startSlowDownload requests path from addr on a raw connection with a
// small receive buffer, reads the headers and the first 64 KiB of the
// body, and returns the response for the caller to read the rest slowly
// (or never).
func startSlowDownload(t *testing.T, addr, path string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.(*net.TCPConn).SetReadBuffer(16 << 10)
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 64<<10); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestInPlaceRewriteDuringDownload rewrites a model file in place while it
// is being downloaded: the download must not complete with bytes that
// contradict its ETag (it is cut), and the change is logged.
func TestInPlaceRewriteDuringDownload(t *testing.T) {
	s := newTestServer(t)
	const size = 16 << 20 // far more than loopback socket buffers hold
	old := bytes.Repeat([]byte{'a'}, size)
	p := s.writeModel(t, "m.vggo.safetensors", old)
	past := time.Now().Add(-time.Hour)
	os.Chtimes(p, past, past)
	s.settle(t)
	ts := httptest.NewServer(s.handler)
	defer ts.Close()

	resp := startSlowDownload(t, ts.Listener.Addr().String(), "/models/m.vggo.safetensors")
	if tag, want := resp.Header.Get("ETag"), `"`+sha256Hex(old)+`"`; tag != want {
		t.Fatalf("ETag %s, want %s", tag, want)
	}
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte{'b'}, size)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	h := sha256.New()
	h.Write(old[:64<<10])
	n, err := io.Copy(h, resp.Body)
	if err == nil {
		t.Errorf("download of a file rewritten in place completed (%d more bytes); ETag matches: %v",
			n, `"`+hex.EncodeToString(h.Sum(nil))+`"` == resp.Header.Get("ETag"))
	}
	ts.Close() // waits for the handler, which logs after the transfer
	if !strings.Contains(s.log.String(), "model file changed while being sent") {
		t.Errorf("the in-place rewrite was not logged:\n%s", s.log.String())
	}
}

// TestDrainCutsSlowTransfersAndNamesThem: a client too slow to finish
// within the drain time is cut when it ends, the shutdown returns soon
// after (and without error), and the log names the transfer.
func TestDrainCutsSlowTransfersAndNamesThem(t *testing.T) {
	s := newTestServer(t)
	writeSparse(t, filepath.Join(s.modelsDir, "big.vggo.safetensors"), 64<<20)
	s.settle(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.handler}
	go srv.Serve(ln)
	startSlowDownload(t, ln.Addr().String(), "/models/big.vggo.safetensors") // and never read on

	const drain = 300 * time.Millisecond
	start := time.Now()
	if err := drainAndStop(srv, s.site, drain, slogJSON(s.log)); err != nil {
		t.Errorf("shutdown with a transfer cut: %v", err)
	}
	if took := time.Since(start); took < drain || took > drain+5*time.Second {
		t.Errorf("shutdown took %v with a %v drain", took, drain)
	}
	log := s.log.String()
	if !strings.Contains(log, `"msg":"transfer cut at shutdown"`) || !strings.Contains(log, `"path":"/models/big.vggo.safetensors"`) {
		t.Errorf("the cut transfer is not named in the log:\n%s", log)
	}
}

// TestDefaultDrain: the default drain time sends the largest model whole
// at 100 kB/s, within the bounds.
func TestDefaultDrain(t *testing.T) {
	for _, c := range []struct {
		bytes int64
		want  time.Duration
	}{
		{0, minDrain},
		{1_000_000, minDrain},
		{14_885_088, 148_850_880 * time.Microsecond}, // the default model
		{48 << 20, 503_316_480 * time.Microsecond},
		{1 << 30, writeTimeout},
	} {
		if got := defaultDrain(c.bytes); got != c.want {
			t.Errorf("defaultDrain(%d) = %v, want %v", c.bytes, got, c.want)
		}
	}
}
