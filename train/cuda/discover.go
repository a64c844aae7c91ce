package cuda

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Library is one NVIDIA library the backend needs, by the file names it may
// have (newest first) and the companion libraries of the same folder that
// must be loaded before it (see Load).
type Library struct {
	Role   string   // what it is for, in messages: "driver", "cuBLAS", "cuDNN"
	Names  []string // file names to look for, preferred first
	Before []string // companion files loaded first from the same folder when present
}

// Libraries are the three libraries the GPU path loads, in load order.
var Libraries = []Library{
	{Role: "driver", Names: []string{"libcuda.so.1"}},
	{Role: "cuBLAS", Names: []string{"libcublas.so.13", "libcublas.so.12"},
		Before: []string{"libcublasLt.so.13", "libcublasLt.so.12"}},
	{Role: "cuDNN", Names: []string{"libcudnn.so.9"},
		Before: []string{"libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9",
			"libcudnn_engines_runtime_compiled.so.9", "libcudnn_engines_precompiled.so.9", "libcudnn_heuristic.so.9"}},
}

// Place is one folder searched, with where the search learnt of it.
type Place struct {
	Dir  string
	From string // "VGGO_CUDA_PATH", "ldconfig -p", "/usr/local/cuda*/lib64", ...
}

// Finder says where to look. DefaultFinder looks where NVIDIA's installers,
// distributions and Python wheels put the libraries; tests point it at
// temporary folders.
type Finder struct {
	Env      func(key string) string // VGGO_CUDA_PATH, LD_LIBRARY_PATH, PATH
	Ldconfig func() (string, error)  // the output of `ldconfig -p`
	Globs    []Place                 // folder patterns searched after ldconfig's entries, in order
}

// DefaultFinder searches VGGO_CUDA_PATH, the dynamic linker's cache
// (`ldconfig -p`), LD_LIBRARY_PATH, the CUDA toolkit folders, the folder
// NVIDIA's container runtime mounts, and the nvidia/*/lib folders of the
// Python site-packages of every python3 on PATH and the usual system ones.
func DefaultFinder() Finder {
	f := Finder{Env: os.Getenv, Ldconfig: runLdconfig}
	for _, g := range []string{"/usr/local/cuda/lib64", "/usr/local/cuda-*/lib64", "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib"} {
		f.Globs = append(f.Globs, Place{Dir: g, From: "CUDA install folders"})
	}
	var sites []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(dir, "python3")); err == nil {
			sites = append(sites, filepath.Join(dir, "..", "lib", "python3*", "site-packages"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		sites = append(sites, filepath.Join(home, ".local", "lib", "python3*", "site-packages"))
	}
	sites = append(sites, "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages", "/usr/lib/python3/dist-packages")
	for _, s := range sites {
		f.Globs = append(f.Globs, Place{Dir: filepath.Join(filepath.Clean(s), "nvidia", "*", "lib"), From: "Python site-packages"})
	}
	return f
}

func runLdconfig() (string, error) {
	for _, name := range []string{"ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"} {
		if out, err := exec.Command(name, "-p").Output(); err == nil {
			return string(out), nil
		}
	}
	return "", errors.New("ldconfig not found or failed")
}

// Places lists the folders to search, in order, without duplicates. A
// folder the patterns name but that does not exist is left out; the notes
// say why a source gave nothing (unset variable, ldconfig failing), so an
// error can show every place that was considered.
func (f Finder) Places() (places []Place, notes []string) {
	seen := map[string]bool{}
	add := func(dir, from string) {
		dir = filepath.Clean(dir)
		if !seen[dir] {
			seen[dir] = true
			places = append(places, Place{Dir: dir, From: from})
		}
	}
	if v := f.Env("VGGO_CUDA_PATH"); v != "" {
		for _, d := range filepath.SplitList(v) {
			add(d, "VGGO_CUDA_PATH")
		}
	} else {
		notes = append(notes, "VGGO_CUDA_PATH is not set")
	}
	if f.Ldconfig != nil {
		out, err := f.Ldconfig()
		if err != nil {
			notes = append(notes, "ldconfig -p: "+err.Error())
		}
		for _, dir := range ldconfigDirs(out) {
			add(dir, "ldconfig -p")
		}
	}
	for _, d := range filepath.SplitList(f.Env("LD_LIBRARY_PATH")) {
		if d != "" {
			add(d, "LD_LIBRARY_PATH")
		}
	}
	for _, g := range f.Globs {
		matches, _ := filepath.Glob(g.Dir)
		sort.Strings(matches)
		if len(matches) == 0 {
			notes = append(notes, g.Dir+": no such folder")
		}
		for _, m := range matches {
			add(m, g.From)
		}
	}
	return places, notes
}

// ldconfigDirs returns the folders of the NVIDIA libraries in `ldconfig -p`
// output, whose lines read "\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1".
func ldconfigDirs(out string) []string {
	var dirs []string
	for _, line := range strings.Split(out, "\n") {
		name, path, ok := strings.Cut(strings.TrimSpace(line), " => ")
		if !ok || !wanted(strings.Fields(name)[0]) {
			continue
		}
		dirs = append(dirs, filepath.Dir(strings.TrimSpace(path)))
	}
	return dirs
}

func wanted(file string) bool {
	for _, l := range Libraries {
		for _, n := range l.Names {
			if n == file {
				return true
			}
		}
	}
	return false
}

// Found is a library's file on disk.
type Found struct {
	Library
	Path string
}

// Find looks for every library in f's places and returns their paths, or a
// *NotFoundError naming what is missing and every place searched.
func (f Finder) Find() ([]Found, error) {
	places, notes := f.Places()
	var found []Found
	var missing []Library
	for _, lib := range Libraries {
		if path := lookIn(places, lib.Names); path != "" {
			found = append(found, Found{lib, path})
		} else {
			missing = append(missing, lib)
		}
	}
	if len(missing) > 0 {
		return nil, &NotFoundError{Missing: missing, Places: places, Notes: notes}
	}
	return found, nil
}

func lookIn(places []Place, names []string) string {
	for _, p := range places {
		for _, n := range names {
			path := filepath.Join(p.Dir, n)
			if st, err := os.Stat(path); err == nil && !st.IsDir() {
				return path
			}
		}
	}
	return ""
}

// NotFoundError says which libraries were not found and where the search
// looked.
type NotFoundError struct {
	Missing []Library
	Places  []Place
	Notes   []string
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString("no usable NVIDIA GPU: cannot find")
	for i, l := range e.Missing {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s (%s)", strings.Join(l.Names, " or "), l.Role)
	}
	b.WriteString(lookedFor())
	b.WriteString("\nsearched:")
	if len(e.Places) == 0 {
		b.WriteString(" no folder")
	}
	for _, p := range e.Places {
		fmt.Fprintf(&b, "\n  %s (%s)", p.Dir, p.From)
	}
	for _, n := range e.Notes {
		fmt.Fprintf(&b, "\n  %s", n)
	}
	b.WriteString("\nset VGGO_CUDA_PATH to the folder(s) holding them, separated by ':'")
	return b.String()
}

// lookedFor lists every library the backend needs, for error messages.
func lookedFor() string {
	var parts []string
	for _, l := range Libraries {
		parts = append(parts, fmt.Sprintf("%s (%s)", strings.Join(l.Names, " or "), l.Role))
	}
	return "\nlooked for: " + strings.Join(parts, ", ")
}
