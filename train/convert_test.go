package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// convert-digits writes a layout fit reads, and a bad file is refused with
// its name and line.
func TestConvertDigitsCommand(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "digits.csv")
	line := strings.Repeat("16,", 64)
	var rows strings.Builder
	for i := range 30 {
		rows.WriteString(line + string(rune('0'+i%10)) + "\n")
	}
	if err := os.WriteFile(csv, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"convert-digits", "-in", csv, "-out", out, "-test-per-class", "1"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "train: 20 images in 10 classes") || !strings.Contains(stdout.String(), "test: 10 images") {
		t.Errorf("output %q, want 20 train and 10 test images", stdout.String())
	}
	for _, split := range []string{"train", "test"} {
		if pngs, _ := filepath.Glob(filepath.Join(out, split, "7", "*.png")); len(pngs) == 0 {
			t.Errorf("no %s images of class 7", split)
		}
	}

	if err := os.WriteFile(csv, []byte(line+"3\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run([]string{"convert-digits", "-in", csv, "-out", out}, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), csv+":2:") {
		t.Errorf("bad line 2: exit %d, stderr %q; want a failure naming %s:2", code, stderr.String(), csv)
	}
}
