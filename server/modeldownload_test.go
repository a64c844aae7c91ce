package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"testing"
)

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
