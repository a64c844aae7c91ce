// Command vggo-server serves the vggo web app, its WebAssembly binaries and
// the model files from one binary: the web/ tree (app.wasm, worker.wasm,
// their precompressed siblings, icons, CSS, the default model) is embedded.
//
//	vggo-server [-addr 127.0.0.1:8080] [-models DIR] [-embed-origins '*'] [-log-format text|json] [-drain 0]
//	vggo-server precompress [-brotli-quality 11] DIR...   (build step, see precompress.go)
//
// Routes:
//
//	/                 the app pages (go-app), plus go-app's /app.js,
//	                  /wasm_exec.js, /app-worker.js, /manifest.webmanifest
//	/web/static/...   embedded static files (precompressed .br/.gz chosen by
//	                  Accept-Encoding for .wasm, .js, .css)
//	/models           JSON index of the embedded and -models DIR models
//	                  ({"models":[{name,file,url,classes,inputSize,bytes,
//	                  sha256,preprocess,head,arch,widthDiv,embedded,error}]});
//	                  DIR is rescanned on every request (one stat per file);
//	                  a new file version is hashed once, in the background,
//	                  and listed when done. Only regular files are served
//	                  (no links, FIFOs); see docs/security.md
//	/models/<file>    a model file (ETag = SHA-256, Range, If-None-Match)
//	/healthz          "ok"
//	/embed.js         the embeddable widget's script (<vggo-classifier>)
//	/embed            the widget's compact app page, framed by host pages
//	                  (frame-ancestors from -embed-origins)
//	/embed-demo       a demo page with the snippet to copy
//
// Building: the wasm binaries must be in web/static before the server is
// compiled, because they are embedded:
//
//	scripts/build-wasm.sh                  # app.wasm, worker(-relaxed).wasm + .br/.gz
//	go build -o bin/vggo-server ./server
//
// Every response carries the security headers of headers.go (CSP with
// 'wasm-unsafe-eval', nosniff, COOP/COEP/CORP, Referrer-Policy). Each
// request is logged as one line (method, path, status, bytes, duration).
// SIGINT or SIGTERM stop accepting connections and let in-flight requests
// (model downloads) finish, up to -drain; the transfers still running then
// are logged and cut (shutdown.go).
//
// Replace model files in DIR by rename (write a temporary file, then move it
// over the old one), never in place: a download of a file rewritten in
// place is cut, and the change is logged.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"vggo/web"
)

// Server limits. A vggo request is a GET with no body and small headers;
// responses can be large (models of tens of MB over slow links), so the
// write timeout is generous while reads are short.
const (
	readHeaderTimeout = 5 * time.Second  // slow-loris protection
	readTimeout       = 15 * time.Second // whole request; we take no bodies
	writeTimeout      = 10 * time.Minute // whole response: a big model on a slow link
	idleTimeout       = 2 * time.Minute  // keep-alive between requests
	maxHeaderBytes    = 16 << 10
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "precompress" {
		err = runPrecompress(os.Args[2:], os.Stdout, os.Stderr)
	} else {
		err = run(os.Args[1:], os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vggo-server:", err)
		os.Exit(1)
	}
}

// newLogger returns a slog logger writing text or JSON lines to w.
func newLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("-log-format %q: want text or json", format)
}

func run(args []string, stderr io.Writer) error {
	flags := flag.NewFlagSet("vggo-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	modelsDir := flags.String("models", "", "directory of extra model files (*.safetensors), rescanned on request")
	logFormat := flags.String("log-format", "text", "log format: text or json")
	embedOrigins := flags.String("embed-origins", defaultEmbedOrigins,
		"origins allowed to frame the widget page /embed (CSP frame-ancestors), space- or comma-separated, e.g. 'https://blog.example.com https://*.example.org'; "+
			"default * (any site: the widget holds no account or server state worth clickjacking; see docs/embed.md)")
	drain := flags.Duration("drain", 0, "how long in-flight downloads may run after SIGINT/SIGTERM before they are cut and logged; "+
		"0 sizes it for the largest model at 100 kB/s (at least 30s, at most the 10m write timeout)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	log, err := newLogger(*logFormat, stderr)
	if err != nil {
		return err
	}
	ancestors, err := parseEmbedOrigins(*embedOrigins)
	if err != nil {
		return err
	}
	if *modelsDir != "" {
		if info, err := os.Stat(*modelsDir); err != nil {
			return fmt.Errorf("-models: %w", err)
		} else if !info.IsDir() {
			return fmt.Errorf("-models %s: not a directory", *modelsDir)
		}
	}

	for _, name := range builtWASM {
		if _, err := fs.Stat(web.FS, name); err != nil {
			log.Warn("not built into this binary: the app cannot start in browsers (run scripts/build-wasm.sh, then rebuild the server)", "file", "web/"+name)
		}
	}

	site := newHandler(config{WebFS: web.FS, EmbedTime: executableTime(), ModelsDir: *modelsDir, Logger: log, EmbedOrigins: ancestors})
	srv := &http.Server{
		Handler:           site,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	log.Info("listening", "addr", ln.Addr().String(), "models", *modelsDir)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop() // a second signal kills the process the default way
	if *drain <= 0 {
		*drain = defaultDrain(site.models.largestModel())
	}
	if err := drainAndStop(srv, site, *drain, log); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// executableTime is the modification time of the running binary: when its
// embedded files last changed, at the latest. Zero if unknown.
func executableTime() time.Time {
	exe, err := os.Executable()
	if err != nil {
		return time.Time{}
	}
	info, err := os.Stat(exe)
	if err != nil {
		return time.Time{}
	}
	return info.ModTime()
}
