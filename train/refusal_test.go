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
