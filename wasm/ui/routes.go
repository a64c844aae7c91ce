// Package ui is vggo's in-browser classifier: the go-app components of the
// classify page ("/"), the benchmark page ("/bench") and the embeddable
// widget's page ("/embed"), and the go-app
// handler the server mounts at "/". The same package runs in the browser
// (wasm/app, GOOS=js) and on the server, which uses Routes and Handler to
// pre-render pages and to generate app.js, the service worker and the web
// manifest.
//
// Static files live below /web/static/ (the server serves /web/... from its
// embedded web/ tree): app.wasm, worker.wasm and worker-relaxed.wasm (built
// by scripts/build-wasm.sh), worker.js, app.css and the icons.
package ui

import (
	"github.com/maxence-charriere/go-app/v9/pkg/app"
)

// Static file URLs the handler and the pages refer to.
const (
	AppWASM    = "/web/static/app.wasm"
	WorkerWASM = "/web/static/worker.wasm"
	StyleSheet = "/web/static/app.css"
	Icon192    = "/web/static/icon-192.png"
	Icon512    = "/web/static/icon-512.png"
	IconSVG    = "/web/static/icon.svg"
	// EmbedAliveScript lets embed.js tell a widget frame that loaded
	// from one the browser blocked (web/static/embed-alive.js).
	EmbedAliveScript = "/web/static/embed-alive.js"
	ModelsIndex      = "/models"
	ThemeColor       = "#1f4e79"
	BenchPath        = "/bench"
	ClassifyPath     = "/"
	// EmbedPath is the compact classifier page that the embeddable widget
	// (web/static/embed.js, docs/embed.md) shows in an iframe.
	EmbedPath = "/embed"
)

// WorkerRelaxedWASM is the worker built with -tags relaxedsimd, which the
// pages load where the browser has relaxed SIMD (see workerBuild).
const WorkerRelaxedWASM = "/web/static/worker-relaxed.wasm"

// Routes registers the app's pages with go-app. Call it before
// app.RunWhenOnBrowser in the wasm main and before serving Handler.
func Routes() {
	app.Route(ClassifyPath, &Classifier{})
	app.Route(BenchPath, &Bench{})
	app.Route(EmbedPath, &Embed{})
	app.Route(TeachPath, &Teach{})
}

// resources tells go-app where the static files are without letting it serve
// them: the server serves /web/... itself from its embedded tree (with its
// own headers and precompression), so this provider is not an http.Handler.
type resources struct{}

func (resources) Package() string { return "" }
func (resources) Static() string  { return "" }
func (resources) AppWASM() string { return AppWASM }

// Handler returns the go-app handler for the app pages, app.js,
// app-worker.js (the service worker), manifest.webmanifest and wasm_exec.js.
// The server may set Version (e.g. to a hash of app.wasm) before the first
// request so installed apps update exactly when the build changes.
//
// Offline use: the service worker pre-caches every page route, the wasm
// programs, worker.js, the style sheet, the icons and the sample images. Models are cached
// separately by the inference worker (see wasm/worker), and the last /models
// index is kept in localStorage.
func Handler() *app.Handler {
	return &app.Handler{
		Name:            "vggo — VGG16 image classifier",
		ShortName:       "vggo",
		Title:           "vggo — classify images in your browser",
		Description:     "Classify photos with a VGG16 transfer-learning model, on your device, offline.",
		Author:          "vggo",
		Lang:            "en",
		LoadingLabel:    "Loading vggo… {progress}%",
		BackgroundColor: "#ffffff",
		ThemeColor:      ThemeColor,
		Icon: app.Icon{
			Default:    Icon192,
			Large:      Icon512,
			AppleTouch: Icon192,
			SVG:        IconSVG,
		},
		Styles:                []string{StyleSheet},
		Scripts:               []string{EmbedAliveScript},
		Resources:             resources{},
		CacheableResources:    cacheable(),
		ServiceWorkerTemplate: serviceWorkerJS,
	}
}

// cacheable lists what the service worker pre-caches beyond go-app's own
// files (which include the pages' style sheet and PNG icons): everything
// else a page shows, so that offline nothing is missing.
func cacheable() []string {
	res := []string{
		IconSVG,
		WorkerScript,
		WorkerWASM,
		WorkerRelaxedWASM,
		BenchPath,
		TeachPath,
		EmbedPath, // widgets start offline too (see Embed)
	}
	for _, s := range Samples {
		res = append(res, s.URL())
	}
	return res
}
