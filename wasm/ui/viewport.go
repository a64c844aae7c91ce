package ui

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
)

// goAppViewport is the viewport go-app v9 writes into every page; it
// forbids pinch zoom, which people with low vision need (WCAG 1.4.4).
const goAppViewport = `content="width=device-width, initial-scale=1, maximum-scale=1, user-scalable=0, viewport-fit=cover"`

// zoomableViewport is what AllowPinchZoom puts in its place.
const zoomableViewport = `content="width=device-width, initial-scale=1, viewport-fit=cover"`

// AllowPinchZoom wraps the app handler so that its HTML pages allow pinch
// zoom; every other response passes through unchanged.
func AllowPinchZoom(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		res := rec.Result()
		body := rec.Body.Bytes()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			body = bytes.Replace(body, []byte(goAppViewport), []byte(zoomableViewport), 1)
			if w.Header().Get("Content-Length") != "" {
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			}
		}
		w.WriteHeader(res.StatusCode)
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	})
}
