// Package wasmrun runs one test of a package in its wasm build (the
// browser worker's: GOOS=js GOARCH=wasm, SIMD128 kernels) under node,
// through the Go toolchain's go_js_wasm_exec, so a native test can compare
// what the browser's code computes with the native build's result.
package wasmrun

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Test builds the package in the current directory for wasm and runs its
// test named test (an exact name) under node, with outEnv set to a file
// path the test writes its result to, and returns that file's contents.
// It fails t when node is missing, the build or the run fails, or the
// test wrote nothing.
func Test(t testing.TB, test, outEnv string) []byte {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is needed to run the wasm build (scripts/deps.sh installs it)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "test.wasm")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building for wasm: %v\n%s", err, out)
	}
	outPath := filepath.Join(dir, "out.json")
	run := exec.Command(filepath.Join(runtime.GOROOT(), "lib", "wasm", "go_js_wasm_exec"), bin, "-test.run", "^"+test+"$", "-test.v")
	run.Env = append(os.Environ(), outEnv+"="+outPath)
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("running under node: %v\n%s", err, out)
	}
	data, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatalf("the wasm build's %s wrote nothing: %v", test, err)
	}
	return data
}

// Write is the wasm side of Test: the test that Test runs calls it to
// write result() as JSON to the file that outEnv names. Run natively,
// where outEnv is unset, it skips t: that test only serves Test.
func Write(t *testing.T, outEnv string, result func() any) {
	t.Helper()
	path := os.Getenv(outEnv)
	if path == "" {
		t.Skipf("run by wasmrun.Test in the wasm build (%s names the output file)", outEnv)
	}
	b, err := json.Marshal(result())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
