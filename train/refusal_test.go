package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestResumeRefusesCorruptCheckpoint flips one bit of a run's checkpoint:
// --resume refuses it, naming the file, instead of continuing from damaged
// weights.
func TestResumeRefusesCorruptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	c := smallFit(fixture, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 1)
	c.TrainPerClass, c.TestFraction = 8, 0
	if _, err := fit(context.Background(), c, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.Out, checkpointFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-5] ^= 0x10 // in the last tensor's data
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c.Resume, c.Epochs = true, 2
	var log bytes.Buffer
	_, err = fit(context.Background(), c, &log, io.Discard)
	if err == nil || !strings.Contains(err.Error(), path+": the checkpoint is corrupt") {
		t.Fatalf("resume from a checkpoint with a flipped bit: %v", err)
	}
	if strings.Contains(log.String(), "dataset") {
		t.Errorf("the run read the dataset before refusing the checkpoint:\n%s", log.String())
	}
}

// TestUnwritableRunFolder: an --out that cannot hold files is refused
// before the dataset is read, naming the folder and not a temporary file.
// Tests often run as root, whom a 0555 folder does not stop, so the cases
// are folders that refuse root too: a path under a regular file, and
// /sys (sysfs takes no new files); the 0555 folder joins them when it
// really stops this process.
func TestUnwritableRunFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(file, "run")
	cases := map[string]string{run: "run folder " + run + ": mkdir " + file + ": not a directory"}
	readOnly := filepath.Join(dir, "read-only")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{readOnly, "/sys"} {
		if err := os.WriteFile(filepath.Join(d, "probe"), nil, 0o644); err == nil {
			os.Remove(filepath.Join(d, "probe"))
			continue
		}
		cases[d] = "run folder " + d + " is not writable: "
	}
	if len(cases) < 2 {
		t.Fatal("found no existing folder this process cannot write to: neither a 0555 folder nor /sys")
	}
	for out, want := range cases {
		c := smallFit(fixture, out, filepath.Join(dir, "cache"), 1)
		var log bytes.Buffer
		_, err := fit(context.Background(), c, &log, io.Discard)
		if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "write-check") {
			t.Errorf("-out %s: error %v, want it to start with %q and name no temporary file", out, err, want)
		}
		if log.Len() > 0 {
			t.Errorf("-out %s: work started before the refusal:\n%s", out, log.String())
		}
	}
}
