package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"vggo/wasm/ui"
)

// This file is the one place that decides the security headers of every
// response. A route that needs a different policy (the embeddable widget
// is framed by other sites) gets its own securityPolicy from
// policies.policyFor; everything else shares defaultPolicy.

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
	// protection); the embeddable widget's page allows the -embed-origins.
	frameAncestors string
	// frameSrc, when set, adds a frame-src directive (default-src 'none'
	// otherwise forbids every frame): the embed demo page frames /embed.
	frameSrc string
	// corp is Cross-Origin-Resource-Policy. "same-origin": no other site
	// may load our files as subresources; embed.js and the widget's page
	// use "cross-origin" so that other sites, cross-origin isolated ones
	// (COEP require-corp) included, can load and frame them.
	corp string
}

// defaultPolicy applies to every route unless policyFor says otherwise.
var defaultPolicy = securityPolicy{frameAncestors: "'none'", corp: "same-origin"}

// Routes of the embeddable widget (see docs/embed.md).
const (
	// routeEmbedScript is the classic script a host page includes; it
	// defines <vggo-classifier>.
	routeEmbedScript = "/embed.js"
	// routeEmbedFrame is the compact app page each widget frames.
	routeEmbedFrame = ui.EmbedPath
	// routeEmbedDemo is a page of this server showing the widget and the
	// snippet to copy.
	routeEmbedDemo = "/embed-demo"
)

// defaultEmbedOrigins is the default of -embed-origins: any http(s) page
// may frame the widget. The widget exists to be put on other people's
// pages, and framing it risks little: it holds no account, no cookie and no
// server-side state, makes no request on the visitor's behalf other than
// downloading the app and a model, and classifies on the visitor's device
// what the visitor (or the host page) hands it. Clickjacking needs an
// action worth tricking someone into; the widget has none. An operator who
// wants the widget on their own sites only lists them.
const defaultEmbedOrigins = "*"

// policies decides the security policy of each request path.
type policies struct {
	// embedAncestors is the frame-ancestors source list of the widget's
	// page (the -embed-origins flag, already checked by
	// parseEmbedOrigins).
	embedAncestors string
}

// policyFor returns the security policy of a request path: the widget's
// page may be framed by the embed origins and loaded cross-origin;
// embed.js may be loaded by any page (a classic script: no CORS needed,
// only CORP for cross-origin isolated hosts); the demo page may frame our
// own widget; every other path keeps defaultPolicy (the app itself is
// never framed).
func (p policies) policyFor(path string) securityPolicy {
	switch path {
	case routeEmbedFrame:
		return securityPolicy{frameAncestors: p.embedAncestors, corp: "cross-origin"}
	case routeEmbedScript:
		return securityPolicy{frameAncestors: "'none'", corp: "cross-origin"}
	case routeEmbedDemo:
		return securityPolicy{frameAncestors: "'none'", frameSrc: "'self'", corp: "same-origin"}
	}
	return defaultPolicy
}

// parseEmbedOrigins checks an -embed-origins value and returns it as a CSP
// source list. It accepts "*", "'self'", "'none'" and origins
// (http(s)://host[:port], host may start with "*." for subdomains),
// separated by spaces or commas. Anything else is refused, so the flag
// cannot smuggle other directives (";") or paths into the header.
func parseEmbedOrigins(value string) (string, error) {
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
	if len(fields) == 0 {
		return "", fmt.Errorf("-embed-origins %q: empty (use '*' for any site or 'none' for no framing)", value)
	}
	for _, f := range fields {
		switch f {
		case "*", "'self'", "'none'":
			continue
		}
		u, err := url.Parse(f)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" ||
			strings.ContainsAny(f, ";'\"") {
			return "", fmt.Errorf("-embed-origins: %q is not an origin (want e.g. https://blog.example.com, https://*.example.com or *)", f)
		}
		host := strings.TrimPrefix(u.Hostname(), "*.")
		if host == "" || strings.Contains(host, "*") {
			return "", fmt.Errorf("-embed-origins: %q: a wildcard may only stand for subdomains (https://*.example.com)", f)
		}
	}
	if len(fields) > 1 && slices.Contains(fields, "'none'") {
		return "", fmt.Errorf("-embed-origins %q: 'none' cannot be combined with other sources", value)
	}
	return strings.Join(fields, " "), nil
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
	if p.frameSrc != "" {
		b.WriteString("frame-src ")
		b.WriteString(p.frameSrc)
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
	// The widget's page (/embed) keeps both: COEP on a framed document
	// only constrains that document's own subresources (all same-origin
	// here), so it works inside ordinary host pages as well as inside
	// cross-origin isolated ones, which in turn require it (plus CORP
	// cross-origin on the frame's response). COOP is ignored in frames.
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
func withSecurityHeaders(p policies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.policyFor(r.URL.Path).apply(w.Header())
		next.ServeHTTP(w, r)
	})
}
