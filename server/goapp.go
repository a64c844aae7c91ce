package main

import (
	"net/http"
	"strings"
	"sync"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/ui"
)

// URLs of the embedded app resources (WebFS static/... is served at
// /web/static/...), shared with the UI package.
const (
	appWASMURL = ui.AppWASM
	icon192URL = ui.Icon192
	icon512URL = ui.Icon512
	iconSVGURL = ui.IconSVG
)

// embeddedResources tells go-app where its resources are: package
// resources (/app.js, /wasm_exec.js, ...) at the site root, static ones
// below /web/ and app.wasm at appWASMURL (the same answers as the UI
// package's provider). Unlike that one it is an http.Handler: go-app
// forwards its /app.wasm alias to it, and it answers with the server's own
// static file handling, so headers and precompression are the same on
// every path.
type embeddedResources struct {
	static *staticFiles
}

func (embeddedResources) Package() string { return "" }
func (embeddedResources) Static() string  { return "" }
func (embeddedResources) AppWASM() string { return appWASMURL }

func (e embeddedResources) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, routeStatic)
	if !ok || !strings.HasPrefix(name, staticTreePrefix) {
		http.NotFound(w, r)
		return
	}
	e.static.serve(w, r, name)
}

// builtWASM are the wasm programs scripts/build-wasm.sh writes into web/:
// the UI, the inference worker and its relaxed-SIMD build.
var builtWASM = []string{"static/app.wasm", "static/worker.wasm", "static/worker-relaxed.wasm"}

// appVersion derives go-app's version from the content of the built wasm
// files, so the page ETag and the service worker's cache name change
// exactly when the app does (go-app's default is the start time, which
// would make every restart look like an update). "" when no wasm is built.
func appVersion(static *staticFiles) string {
	var v strings.Builder
	for _, name := range builtWASM {
		if tag, err := static.etag(name); err == nil {
			v.WriteString(strings.Trim(tag, `"`)[:16])
		}
	}
	return v.String()
}

var registerRoutes sync.Once

// appHandler returns go-app's handler for the app pages (package
// vggo/wasm/ui: its routes and handler), configured to take its resources
// from the embedded tree.
func appHandler(static *staticFiles) http.Handler {
	registerRoutes.Do(ui.Routes)
	h := ui.Handler()
	configureAppHandler(h, static)
	return ui.AllowPinchZoom(h)
}

// configureAppHandler points a go-app handler at the embedded resources and
// fills what go-app would otherwise take from the internet: its default
// icons are on raw.githubusercontent.com, which the Content-Security-Policy
// and Cross-Origin-Embedder-Policy would block anyway.
func configureAppHandler(h *app.Handler, static *staticFiles) {
	h.Resources = embeddedResources{static: static}
	if h.Icon.Default == "" {
		h.Icon.Default = icon192URL
		h.Icon.Large = icon512URL
	}
	if h.Icon.SVG == "" {
		h.Icon.SVG = iconSVGURL
	}
	if h.WasmContentLengthHeader == "" {
		h.WasmContentLengthHeader = uncompressedLengthHeader
	}
	if h.Version == "" {
		h.Version = appVersion(static)
	}
}
