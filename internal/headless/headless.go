// Package headless holds the one way vggo starts Debian's Chromium for its
// browser tests and benchmarks, so every harness gets the same flags.
package headless

import (
	"context"
	"strings"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// Options returns chromedp allocator options for a headless Chromium at
// execPath with a fresh profile in profileDir, plus extraFlags (each set
// to true). Why each flag:
//   - no-sandbox: CI runs as root, where Chromium's sandbox refuses to start;
//   - disable-gpu: there is none;
//   - disable-background-networking, -component-update, -sync, no-first-run,
//     disable-quic: the build machines' closed network refuses Chromium's
//     own connections, many at a time, which slows and clutters every run;
//   - disable-dev-shm-usage: small /dev/shm in containers.
func Options(execPath, profileDir string, extraFlags ...string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profileDir),
	}
	for _, f := range extraFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	return opts
}

// LogPage copies the page's console messages (only errors and warnings
// when onlyProblems) and its uncaught exceptions to logf until ctx ends, so
// a failing browser test or benchmark shows what the page said.
func LogPage(ctx context.Context, onlyProblems bool, logf func(format string, args ...any)) {
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			if onlyProblems && ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeWarning {
				continue
			}
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			logf("console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			logf("page exception: %s", msg)
		}
	}()
}
