// Command wasmbrowser runs a wasm test binary (go test -c, GOOS=js
// GOARCH=wasm) in headless Chromium, the engine the app's users have, and
// prints what it prints, so kernel benchmarks can be timed where they run
// in the browser rather than in node, whose older V8 compiles the same
// binary differently:
//
//	GOOS=js GOARCH=wasm go test -c -tags relaxedsimd -o k.wasm ./kernels
//	go run ./scripts/wasmbrowser k.wasm -test.run='^$' -test.bench=WasmDirectStore
//
// A relaxedsimd binary must be corrected by scripts/wasmfix first. The
// binary runs on a page of its own (Go's wasm_exec.js, argv from the
// command line); its exit status becomes this program's.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/chromedp/chromedp"

	"vggo/internal/headless"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wasmbrowser FILE.wasm [test flags]")
		os.Exit(2)
	}
	code, err := run(os.Stdout, os.Args[1], os.Args[2:], 30*time.Minute)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmbrowser:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// page runs the binary t.wasm with the given argv, keeps every console.log
// line in window.out and sets window.exit to the exit code (or -1 and an
// error line when the binary fails to start).
const page = `<!doctype html><script src="wasm_exec.js"></script><script>
window.out = [];
const log = console.log;
console.log = (...a) => { window.out.push(a.join(' ')); log(...a); };
const go = new Go();
go.argv = %s;
go.exit = (code) => { window.exit = code; };
WebAssembly.instantiateStreaming(fetch('t.wasm'), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => { window.out.push('wasmbrowser: ' + e); window.exit = -1; });
</script>`

// run serves the binary and Go's wasm_exec.js from a temporary folder,
// opens the page in a fresh headless Chromium, copies the binary's output
// to w as it comes and returns its exit code.
func run(w io.Writer, wasm string, args []string, timeout time.Duration) (int, error) {
	dir, err := os.MkdirTemp("", "wasmbrowser")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	bin, err := os.ReadFile(wasm)
	if err != nil {
		return 0, err
	}
	execJS, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return 0, err
	}
	argv, err := json.Marshal(append([]string{filepath.Base(wasm)}, args...))
	if err != nil {
		return 0, err
	}
	for name, data := range map[string][]byte{"t.wasm": bin, "wasm_exec.js": execJS, "index.html": fmt.Appendf(nil, page, argv)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return 0, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, headless.Options(headless.DefaultPath, filepath.Join(dir, "profile"))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if _, err := chromedp.Run(bctx, chromedp.Navigate("http://"+ln.Addr().String()+"/")); err != nil {
		return 0, fmt.Errorf("opening the page: %w", err)
	}
	seen := 0
	for {
		// The exit code first: the output read after it is complete.
		exit, err := chromedp.Run(bctx, chromedp.Evaluate[*int](`window.exit ?? null`))
		if err != nil {
			return 0, err
		}
		out, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`window.out`))
		if err != nil {
			return 0, err
		}
		for ; seen < len(out); seen++ {
			fmt.Fprintln(w, out[seen])
		}
		if exit != nil {
			if *exit < 0 {
				return 0, errors.New("the binary did not start")
			}
			return *exit, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("no exit after %v", timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
