package main

import (
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestPeakRSS checks the measure on processes of known size: a child that
// touches 200 MiB peaks above that, a shell that does nothing far below,
// even while this process holds 300 MiB (a child's own ru_maxrss would
// count those: Linux carries the parent's high-water mark across exec).
func TestPeakRSS(t *testing.T) {
	ballast := make([]byte, 300<<20)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	defer runtime.KeepAlive(ballast)
	big, err := peakRSS(exec.Command("/usr/bin/python3", "-c", "b = bytearray(200 << 20)"))
	if err != nil {
		t.Fatal(err)
	}
	small, err := peakRSS(exec.Command("/bin/sh", "-c", "exit 0"))
	if err != nil {
		t.Fatal(err)
	}
	if big < 200<<20 || small > 50<<20 {
		t.Fatalf("peak RSS: %d bytes for a 200 MiB child, %d for an empty shell", big, small)
	}
	if _, err := peakRSS(exec.Command("/bin/sh", "-c", "exit 3")); err == nil {
		t.Fatal("a failing child gave no error")
	}
}

// TestRSSImages checks the generated dataset's layout: one folder per
// class, that many decodable PNGs of the asked size in each.
func TestRSSImages(t *testing.T) {
	dir := t.TempDir()
	if err := rssImages(dir, 3, 2, 16); err != nil {
		t.Fatal(err)
	}
	classes, err := os.ReadDir(dir)
	if err != nil || len(classes) != 3 {
		t.Fatalf("%d class folders, %v; want 3", len(classes), err)
	}
	for _, c := range classes {
		files, err := os.ReadDir(filepath.Join(dir, c.Name()))
		if err != nil || len(files) != 2 {
			t.Fatalf("%s: %d files, %v; want 2", c.Name(), len(files), err)
		}
		f, err := os.Open(filepath.Join(dir, c.Name(), files[0].Name()))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil || img.Bounds().Dx() != 16 || img.Bounds().Dy() != 16 {
			t.Fatalf("%s: %v, %v", files[0].Name(), img.Bounds(), err)
		}
	}
}
