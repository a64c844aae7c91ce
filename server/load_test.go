package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadResult is what a load run measured.
type loadResult struct {
	requests, errors, bytes int64
	elapsed                 time.Duration
}

// runLoad makes GET requests to url from workers goroutines for d, over
// loopback only, with Go's own client.
func runLoad(url string, workers int, d time.Duration) loadResult {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var requests, errors, bytes atomic.Int64
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(stop) {
				resp, err := client.Get(url)
				if err != nil {
					errors.Add(1)
					continue
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					errors.Add(1)
				}
				requests.Add(1)
				bytes.Add(n)
			}
		})
	}
	wg.Wait()
	return loadResult{requests.Load(), errors.Load(), bytes.Load(), time.Since(start)}
}

// TestLoopbackLoad is a bounded load test: 8 workers for 2 s each against a
// model file and the app page on 127.0.0.1. It reports requests per second
// (noisy on shared machines, so only logged) and asserts no errors.
func TestLoopbackLoad(t *testing.T) {
	s := newTestServer(t)
	s.writeModel(t, "load.vggo.safetensors", randomBytes(1<<20, 5))
	ts := httptest.NewServer(s.handler) // listens on 127.0.0.1
	defer ts.Close()

	for _, c := range []struct{ name, path string }{
		{"model file (1 MiB)", "/models/load.vggo.safetensors"},
		{"app page", "/"},
		{"models index", "/models"},
	} {
		r := runLoad(ts.URL+c.path, 8, 2*time.Second)
		secs := r.elapsed.Seconds()
		t.Logf("load %-18s: %6d requests in %.1fs = %7.0f req/s, %7.1f MB/s, %d errors",
			c.name, r.requests, secs, float64(r.requests)/secs, float64(r.bytes)/secs/1e6, r.errors)
		if r.errors != 0 || r.requests == 0 {
			t.Errorf("%s: %d errors in %d requests", c.name, r.errors, r.requests)
		}
	}
}

// benchmarkGet measures sequential loopback GETs of path, reporting
// requests per second.
func benchmarkGet(b *testing.B, path string) {
	s := newTestServer(b)
	s.writeModel(b, "load.vggo.safetensors", randomBytes(1<<20, 5))
	ts := httptest.NewServer(s.handler)
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		resp, err := client.Get(ts.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
		b.SetBytes(n)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

func BenchmarkModelFile(b *testing.B)   { benchmarkGet(b, "/models/load.vggo.safetensors") }
func BenchmarkAppPage(b *testing.B)     { benchmarkGet(b, "/") }
func BenchmarkModelsIndex(b *testing.B) { benchmarkGet(b, "/models") }
