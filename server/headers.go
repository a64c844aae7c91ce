package main

import (
	"net/http"
	"strings"
)

// This file is the one place that decides the security headers of every
// response. A route that needs a different policy (the embeddable widget
// will need to be framed by other sites) gets its own securityPolicy from
// policyFor; everything else shares defaultPolicy.

// cspDirective is one directive of a Content-Security-Policy.
type cspDirective struct {
	name    string
	sources string
}

// baseCSP is the Content-Security-Policy of every page and file, in order.
// The app is a go-app progressive web app: an HTML page that loads
// /wasm_exec.js and /app.js, which fetch and instantiate app.wasm, register
// the service worker /app-worker.js, and start a Web Worker that runs the
// classifier (worker.wasm). go-app's page has no inline <script> or <style>
// elements and does not use eval, so no 'unsafe-inline', nonce or hash is
// needed for scripts or style sheets.
var baseCSP = []cspDirective{
	// Deny everything not listed below (objects, media, frames, fonts...).
	{"default-src", "'none'"},
	// Our own scripts only (wasm_exec.js, app.js, the worker's JS).
	// 'wasm-unsafe-eval' allows WebAssembly.instantiate(Streaming) for
	// app.wasm and worker.wasm; it does not allow JavaScript eval.
	{"script-src", "'self' 'wasm-unsafe-eval'"},
	// The go-app service worker (/app-worker.js) and the classifier worker.
	{"worker-src", "'self'"},
	// fetch() of app.wasm, worker.wasm, /models and the model files; the
	// service worker's cache.addAll of the app's resources.
	{"connect-src", "'self'"},
	// Icons from /web/static; blob: for previews of the user's own photos
	// (URL.createObjectURL of a File or camera frame, never uploaded).
	{"img-src", "'self' blob:"},
	// go-app's /app.css and our /web/static/*.css.
	{"style-src", "'self'"},
	// /manifest.webmanifest (installable PWA).
	{"manifest-src", "'self'"},
	// No <base> tricks and no form posts anywhere: the app has no forms
	// that submit to a server.
	{"base-uri", "'none'"},
	{"form-action", "'none'"},
}

// securityPolicy is the set of security headers for one route.
type securityPolicy struct {
	// frameAncestors is the CSP frame-ancestors source list: who may show
	// this response in a frame. "'none'" everywhere by default (clickjacking
	// protection); the embeddable widget route will allow other origins.
	frameAncestors string
	// corp is Cross-Origin-Resource-Policy. "same-origin": no other site
	// may load our files as subresources; a widget or a cross-origin model
	// link would use "cross-origin" on its own routes.
	corp string
}

// defaultPolicy applies to every route unless policyFor says otherwise.
var defaultPolicy = securityPolicy{frameAncestors: "'none'", corp: "same-origin"}

// policyFor returns the security policy of a request path. Today every path
// shares defaultPolicy; this is the hook for route-specific policies.
func policyFor(path string) securityPolicy {
	return defaultPolicy
}

// contentSecurityPolicy renders baseCSP plus the policy's frame-ancestors.
func (p securityPolicy) contentSecurityPolicy() string {
	var b strings.Builder
	for _, d := range baseCSP {
		b.WriteString(d.name)
		b.WriteByte(' ')
		b.WriteString(d.sources)
		b.WriteString("; ")
	}
	b.WriteString("frame-ancestors ")
	b.WriteString(p.frameAncestors)
	return b.String()
}

// apply sets the policy's headers on h.
func (p securityPolicy) apply(h http.Header) {
	h.Set("Content-Security-Policy", p.contentSecurityPolicy())
	// Never guess a type from the bytes: a model file must not become HTML.
	h.Set("X-Content-Type-Options", "nosniff")
	// Cross-origin isolation (COOP same-origin + COEP require-corp) makes
	// SharedArrayBuffer available, which multi-threaded wasm inference
	// needs later. It requires every subresource to be same-origin or to
	// opt in with CORP, which ours do.
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Embedder-Policy", "require-corp")
	h.Set("Cross-Origin-Resource-Policy", p.corp)
	// no-referrer: the app makes no cross-origin requests that could need
	// a Referer, and the page URL is nobody else's business. It is the
	// strictest value and nothing in the app relies on Referer.
	h.Set("Referrer-Policy", "no-referrer")
	// The app uses the camera (photos to classify) and no other powerful
	// feature; deny the rest so injected or embedded content cannot ask.
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=(), usb=()")
}

// withSecurityHeaders sets the route's security headers on every response
// before next runs, so even errors and 404s carry them.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		policyFor(r.URL.Path).apply(w.Header())
		next.ServeHTTP(w, r)
	})
}
