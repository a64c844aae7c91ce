//go:build unix

package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestFIFOInModelsDir: a FIFO named like a model is never opened. The old
// server opened it for every /models request, and each such request held
// an OS thread forever.
func TestFIFOInModelsDir(t *testing.T) {
	s := newTestServer(t)
	name := "p.vggo.safetensors"
	if err := syscall.Mkfifo(filepath.Join(s.modelsDir, name), 0o644); err != nil {
		t.Fatal(err)
	}
	within(t, 5*time.Second, "50 concurrent /models and downloads with a FIFO in the folder", func() {
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				resp := s.get(t, routeModels)
				if body := readBody(t, resp); resp.StatusCode != 200 || bytes.Contains(body, []byte(name)) {
					t.Errorf("/models: %d, lists the FIFO: %s", resp.StatusCode, body)
				}
				resp = s.get(t, "/models/"+name)
				if readBody(t, resp); resp.StatusCode != 404 {
					t.Errorf("GET the FIFO: %d, want 404", resp.StatusCode)
				}
			})
		}
		wg.Wait()
	})
	if n := strings.Count(s.log.String(), name+`","reason":"not a regular file`); n != 1 {
		t.Errorf("the FIFO is logged %d times, want once", n)
	}
}
