package main

import (
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// responseRecorder remembers a response's status and body size for the
// request log (the size is atomic: a shutdown reads it while the response
// is being written). It passes io.ReaderFrom through so that file
// downloads can use sendfile, and Unwrap so that http.ResponseController
// reaches the real connection.
type responseRecorder struct {
	http.ResponseWriter
	status int
	bytes  atomic.Int64
}

func (rr *responseRecorder) WriteHeader(code int) {
	if rr.status == 0 {
		rr.status = code
	}
	rr.ResponseWriter.WriteHeader(code)
}

func (rr *responseRecorder) Write(p []byte) (int, error) {
	if rr.status == 0 {
		rr.status = http.StatusOK
	}
	n, err := rr.ResponseWriter.Write(p)
	rr.bytes.Add(int64(n))
	return n, err
}

func (rr *responseRecorder) ReadFrom(r io.Reader) (int64, error) {
	if rr.status == 0 {
		rr.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := rr.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(rr.ResponseWriter, r)
	}
	rr.bytes.Add(n)
	return n, err
}

func (rr *responseRecorder) Flush() {
	if f, ok := rr.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (rr *responseRecorder) Unwrap() http.ResponseWriter { return rr.ResponseWriter }

// withRequestLog logs one line per request after it is served: method,
// path, status, body bytes written and duration. Requests being served are
// registered in inFlight.
func withRequestLog(log *slog.Logger, inFlight *transfers, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &responseRecorder{ResponseWriter: w}
		inFlight.add(rec, r, start)
		defer inFlight.remove(rec)
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		log.Info("request",
			"method", r.Method,
			"path", r.URL.Path,
			"status", rec.status,
			"bytes", rec.bytes.Load(),
			"duration", time.Since(start),
		)
	})
}
