//go:build linux

package cuda

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ebitengine/purego"
)

// Empty files where the libraries should be: a clear error, not a crash.
func TestOpenFakeLibraries(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, "libcuda.so.1", "libcublas.so.13", "libcudnn.so.9")
	_, err := Open(fakeFinder(map[string]string{"VGGO_CUDA_PATH": dir}, ""))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err %v, want a *LoadError", err)
	}
	for _, want := range []string{"cannot load " + filepath.Join(dir, "libcuda.so.1"), "looked for: libcuda.so.1 (driver)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestOpenNothingFound(t *testing.T) {
	_, err := Open(fakeFinder(nil, ""))
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Missing) != len(Libraries) {
		t.Fatalf("err %v, want all %d libraries missing", err, len(Libraries))
	}
}

// Every binding's Go signature is one purego accepts (it panics on a type
// it cannot pass), checked here against a stand-in C function, so that a
// wrong type shows on the build machine rather than on the GPU machine.
func TestBindingSignatures(t *testing.T) {
	libc, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW)
	if err != nil {
		t.Fatalf("no libc.so.6 to take a stand-in function from: %v", err)
	}
	addr, err := purego.Dlsym(libc, "abs")
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range [][]symbol{driverSymbols, blasSymbols, dnnSymbols} {
		for _, s := range table {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s: purego refuses the signature: %v", s.name, r)
					}
				}()
				purego.RegisterFunc(s.fn, addr)
			}()
		}
	}
	// Leave no binding pointing at abs.
	for _, table := range [][]symbol{driverSymbols, blasSymbols, dnnSymbols} {
		for _, s := range table {
			resetFunc(s.fn)
		}
	}
}

func resetFunc(fn any) {
	v := reflect.ValueOf(fn).Elem()
	v.Set(reflect.Zero(v.Type()))
}
