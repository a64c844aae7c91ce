//go:build !js && !wasip1

package kernels

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// generated lists the generated files of this package and their generators
// (//go:build ignore programs run by go generate).
var generated = []struct {
	gen, out string
	flagO    bool     // the generator takes -o FILE; else it writes out in its working directory
	args     []string // further arguments (a variant's flag)
}{
	{"gemm_gen_amd64.go", "gemm_kernels_amd64.s", true, nil},
	{"gemm_gen_archsimd.go", "gemm_archsimd_amd64.go", true, nil},
	{"gemm_gen_wasm.go", "gemm_simd128_wasm.s", true, nil},
	{"gemm_gen_wasm.go", "gemm_relaxed_wasm.s", true, []string{"-relaxed"}},
	{"winograd_gen_wasm.go", "winograd_simd128_wasm.s", false, nil},
	{"winograd_gen_wasm.go", "winograd_relaxed_wasm.s", false, []string{"-relaxed"}},
}

// TestGeneratedFilesMatch runs every generator into a temporary directory
// and fails if its output differs from the committed file, so a generated
// file cannot drift from its generator: edit the generator and run
// go generate instead of editing the output.
func TestGeneratedFilesMatch(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	// go test puts its own GOROOT/bin first in PATH, so this is the
	// toolchain running the test.
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	// The caller's environment (GOTOOLCHAIN, GOEXPERIMENT, ...), but the
	// generators are built for and run on this machine.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOOS=") && !strings.HasPrefix(kv, "GOARCH=") {
			env = append(env, kv)
		}
	}
	for _, g := range generated {
		t.Run(g.out, func(t *testing.T) {
			want, err := os.ReadFile(g.out)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			tmp := filepath.Join(dir, g.out)
			var cmd *exec.Cmd
			if g.flagO {
				cmd = exec.Command(goCmd, append([]string{"run", g.gen, "-o", tmp}, g.args...)...)
			} else {
				src, err := filepath.Abs(g.gen)
				if err != nil {
					t.Fatal(err)
				}
				cmd = exec.Command(goCmd, append([]string{"run", src}, g.args...)...)
				cmd.Dir = dir
			}
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
			}
			got, err := os.ReadFile(tmp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the output of %s (line %d); run go generate ./kernels/ or fix the generator",
					g.out, g.gen, firstDiffLine(got, want))
			}
		})
	}
}

// firstDiffLine is the 1-based line number of the first difference of a and b.
func firstDiffLine(a, b []byte) int {
	line := 1
	for i := 0; i < len(a) && i < len(b) && a[i] == b[i]; i++ {
		if a[i] == '\n' {
			line++
		}
	}
	return line
}
