package main

import (
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// config is everything newHandler needs; main fills it from flags, tests
// from fixtures.
type config struct {
	// WebFS is the tree served below /web/ and holding the default
	// model(s): static/... and models/... (web.FS in the binary).
	WebFS fs.FS
	// EmbedTime is the Last-Modified time of embedded files, which have
	// none of their own (main uses the executable's mtime); zero: send no
	// Last-Modified for them, the ETag alone validates.
	EmbedTime time.Time
	// ModelsDir is an extra directory of model files, "" for none.
	ModelsDir string
	// Logger receives one line per request and the store's warnings.
	Logger *slog.Logger
	// EmbedOrigins is the frame-ancestors source list of the widget's
	// page /embed, checked by parseEmbedOrigins; "" means
	// defaultEmbedOrigins.
	EmbedOrigins string
	// App serves the app pages and go-app's own resources (/app.js,
	// /wasm_exec.js, /app-worker.js, /manifest.webmanifest, /app.css). nil
	// means the UI package's go-app handler (appHandler).
	App http.Handler
}

// Routes. Everything not listed here goes to the go-app handler, which
// answers 404 for paths that are not app routes.
const (
	routeHealth      = "/healthz"
	routeModels      = "/models"
	routeModelsDir   = "/models/"
	routeStatic      = "/web/"
	staticTreePrefix = "static/" // /web/static/x is static/x in WebFS
)

// rootFiles are files browsers and crawlers look for at the site root.
// go-app would fetch them over HTTP from this very server (its "proxy
// resources"); the server answers them from the static tree directly.
var rootFiles = map[string]string{
	"/robots.txt":  "static/robots.txt",
	"/sitemap.xml": "static/sitemap.xml",
	"/ads.txt":     "static/ads.txt",
	"/favicon.ico": "static/favicon.ico",
	// The widget's script and demo page (see docs/embed.md).
	routeEmbedScript: "static/embed.js",
	routeEmbedDemo:   "static/embed-demo.html",
}

// siteHandler is the server's whole HTTP handler, with the parts that
// outlive single requests: the model store (background hashing) and the
// transfers in flight (named when a shutdown cuts them).
type siteHandler struct {
	http.Handler
	models    *modelStore
	transfers *transfers
}

// close stops the store's background work.
func (h *siteHandler) close() { h.models.close() }

// newHandler builds the server's whole HTTP handler: path checks, security
// headers and request logging around the routes.
func newHandler(cfg config) *siteHandler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	static := newStaticFiles(cfg.WebFS, cfg.EmbedTime.UTC())
	models := newModelStore(cfg.WebFS, cfg.EmbedTime.UTC(), cfg.ModelsDir, cfg.Logger)
	app := cfg.App
	if app == nil {
		app = appHandler(static)
	}

	routes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := checkPath(r.URL)
		if err != nil {
			http.Error(w, "bad request path", http.StatusBadRequest)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		switch {
		case p == routeHealth:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.Write([]byte("ok\n"))
		case p == routeModels || p == routeModelsDir:
			models.serveIndex(w, r)
		case strings.HasPrefix(p, routeModelsDir):
			models.serveFile(w, r, strings.TrimPrefix(p, routeModelsDir))
		case strings.HasPrefix(p, routeStatic):
			name := strings.TrimPrefix(p, routeStatic)
			if !strings.HasPrefix(name, staticTreePrefix) {
				http.NotFound(w, r) // models/ is served at /models only
				return
			}
			static.serve(w, r, name)
		case rootFiles[p] != "":
			static.serve(w, r, rootFiles[p])
		default:
			app.ServeHTTP(w, r)
		}
	})
	embedOrigins := cfg.EmbedOrigins
	if embedOrigins == "" {
		embedOrigins = defaultEmbedOrigins
	}
	inFlight := newTransfers()
	return &siteHandler{
		Handler:   withRequestLog(cfg.Logger, inFlight, withSecurityHeaders(policies{embedAncestors: embedOrigins}, routes)),
		models:    models,
		transfers: inFlight,
	}
}
