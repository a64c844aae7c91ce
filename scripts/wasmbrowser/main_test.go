package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vggo/internal/headless"
)

// TestRunsInChromium builds testdata/probe for wasm and runs it: the
// passing test's log shows Chromium's user agent, and a failing test
// gives a nonzero exit code.
func TestRunsInChromium(t *testing.T) {
	if _, err := os.Stat(headless.DefaultPath); err != nil {
		t.Fatalf("Chromium is needed (scripts/deps.sh installs it): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "probe.wasm")
	build := exec.Command("go", "test", "-c", "-o", bin, "./testdata/probe")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the probe: %v\n%s", err, out)
	}
	var out strings.Builder
	code, err := run(&out, bin, []string{"-test.run=TestWhere", "-test.v"}, 2*time.Minute)
	if err != nil || code != 0 {
		t.Fatalf("run: code %d, %v\n%s", code, err, out.String())
	}
	if !strings.Contains(out.String(), "HeadlessChrome") || !strings.Contains(out.String(), "PASS") {
		t.Fatalf("output does not show a passing test in Chromium:\n%s", out.String())
	}
	out.Reset()
	code, err = run(&out, bin, []string{"-test.run=TestFails"}, 2*time.Minute)
	if err != nil || code == 0 || !strings.Contains(out.String(), "failing on purpose") {
		t.Fatalf("failing test: code %d, %v\n%s", code, err, out.String())
	}
}
