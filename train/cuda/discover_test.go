package cuda

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeFinder searches only what a test sets up.
func fakeFinder(env map[string]string, ldconfig string, globs ...string) Finder {
	f := Finder{Env: func(k string) string { return env[k] }, Ldconfig: func() (string, error) { return ldconfig, nil }}
	for _, g := range globs {
		f.Globs = append(f.Globs, Place{Dir: g, From: "test glob"})
	}
	return f
}

func touch(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindOrder(t *testing.T) {
	root := t.TempDir()
	env, ld, site := filepath.Join(root, "env"), filepath.Join(root, "ld"), filepath.Join(root, "site", "nvidia")
	touch(t, env, "libcuda.so.1")
	touch(t, ld, "libcuda.so.1", "libcublas.so.12")
	touch(t, filepath.Join(site, "cublas", "lib"), "libcublas.so.13")
	touch(t, filepath.Join(site, "cudnn", "lib"), "libcudnn.so.9")
	ldOut := "3 libs found in cache `/etc/ld.so.cache'\n" +
		"\tlibcuda.so.1 (libc6,x86-64) => " + filepath.Join(ld, "libcuda.so.1") + "\n" +
		"\tlibcublas.so.12 (libc6,x86-64) => " + filepath.Join(ld, "libcublas.so.12") + "\n" +
		"\tlibc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6\n"
	f := fakeFinder(map[string]string{"VGGO_CUDA_PATH": env + ":" + filepath.Join(root, "missing")}, ldOut, filepath.Join(site, "*", "lib"))
	found, err := f.Find()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		filepath.Join(env, "libcuda.so.1"),                   // VGGO_CUDA_PATH before ldconfig
		filepath.Join(ld, "libcublas.so.12"),                 // ldconfig before site-packages, though older
		filepath.Join(site, "cudnn", "lib", "libcudnn.so.9"), // nvidia/*/lib of a site-packages
	}
	for i, fd := range found {
		if fd.Path != want[i] {
			t.Errorf("%s: found %s, want %s", fd.Role, fd.Path, want[i])
		}
	}
	places, _ := f.Places()
	for _, p := range places {
		if p.Dir == "/lib/x86_64-linux-gnu" {
			t.Errorf("ldconfig's non-NVIDIA entries were searched: %v", p)
		}
	}
}

func TestFindMissingListsEverything(t *testing.T) {
	root := t.TempDir()
	touch(t, root, "libcuda.so.1")
	f := fakeFinder(map[string]string{"LD_LIBRARY_PATH": root}, "", filepath.Join(root, "nowhere*", "lib"))
	f.Ldconfig = func() (string, error) { return "", errors.New("exec: ldconfig: not found") }
	_, err := f.Find()
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("err %v, want a *NotFoundError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"cannot find libcublas.so.13 or libcublas.so.12 (cuBLAS), libcudnn.so.9 (cuDNN)",
		"looked for: libcuda.so.1 (driver)",
		root + " (LD_LIBRARY_PATH)",
		"VGGO_CUDA_PATH is not set",
		"ldconfig -p: exec: ldconfig: not found",
		filepath.Join(root, "nowhere*", "lib") + ": no such folder",
		"set VGGO_CUDA_PATH",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if first := strings.SplitN(msg, "\n", 2)[0]; strings.Contains(first, "libcuda") {
		t.Errorf("the driver was found but is reported missing: %s", first)
	}
}

func TestDefaultFinderPlaces(t *testing.T) {
	site := filepath.Join(t.TempDir(), "venv")
	touch(t, filepath.Join(site, "bin"), "python3")
	touch(t, filepath.Join(site, "lib", "python3.12", "site-packages", "nvidia", "cu13", "lib"), "libcublas.so.13")
	t.Setenv("PATH", filepath.Join(site, "bin"))
	t.Setenv("VGGO_CUDA_PATH", "/opt/first")
	places, _ := DefaultFinder().Places()
	if len(places) == 0 || places[0].Dir != "/opt/first" {
		t.Fatalf("VGGO_CUDA_PATH is not searched first: %v", places)
	}
	wantSite := filepath.Join(site, "lib", "python3.12", "site-packages", "nvidia", "cu13", "lib")
	for _, p := range places {
		if p.Dir == wantSite {
			return
		}
	}
	t.Errorf("the site-packages of the python3 on PATH is not searched (%s): %v", wantSite, places)
}
