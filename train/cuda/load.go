//go:build linux

package cuda

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ebitengine/purego"
)

// symbol is one C function of a library and the Go function variable
// purego binds to it.
type symbol struct {
	name string
	fn   any // pointer to a func variable
}

// LoadError says that a library was found but could not be opened or lacks
// a function, with the same lists as NotFoundError.
type LoadError struct {
	Path string
	Err  error
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("no usable NVIDIA GPU: cannot load %s: %v%s", e.Path, e.Err, lookedFor())
}

func (e *LoadError) Unwrap() error { return e.Err }

// load opens f's companions (present in its folder) and f itself with
// global symbols, so that a library's dependencies on those companions, and
// cuDNN's own later dlopen of its sub-libraries by file name, resolve to
// these files rather than to whatever the dynamic linker would search, then
// binds syms.
func load(f Found, syms []symbol) error {
	for _, c := range f.Before {
		p := filepath.Join(filepath.Dir(f.Path), c)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if _, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_GLOBAL); err != nil {
			return &LoadError{Path: p, Err: err}
		}
	}
	h, err := purego.Dlopen(f.Path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return &LoadError{Path: f.Path, Err: err}
	}
	return bind(h, f.Path, syms)
}

// bind looks every symbol up in the library h (opened from path) and binds
// it; a missing one is a LoadError naming it.
func bind(h uintptr, path string, syms []symbol) error {
	for _, s := range syms {
		addr, err := purego.Dlsym(h, s.name)
		if err != nil {
			return &LoadError{Path: path, Err: fmt.Errorf("no function %s (library too old?): %w", s.name, err)}
		}
		purego.RegisterFunc(s.fn, addr)
	}
	return nil
}
