package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"vggo/kernels"
	"vggo/train/checkpoint"
	"vggo/train/report"
)

// errInterrupted is returned after SIGINT once the checkpoint is saved.
var errInterrupted = errors.New("interrupted: checkpoint saved; continue with --resume")

// errCachingInterrupted is returned after SIGINT during feature caching.
var errCachingInterrupted = errors.New("interrupted while caching features; those computed so far stay in the cache")

// checkpointFile is the checkpoint's name in the run folder.
const checkpointFile = "checkpoint.ckpt"

// fitResult is what a run produced (for tests and the final summary).
type fitResult struct {
	History        *report.History
	TestAccuracy   float64
	ExportAccuracy float64
	ModelPath      string
	Skipped        int
	CacheHits      int64 // feature cache hits while training (per-epoch reads)
	CacheComputed  int   // activations computed (misses filled) by this run
	EpochHits      []int64
	StartEpoch     int // 1-based first epoch run by this process
}

// fit trains a model as c says and writes its run folder. Cancelling ctx
// stops it at the next batch with a checkpoint saved (errInterrupted), or
// during feature caching (errCachingInterrupted).
func fit(ctx context.Context, c *fitConfig, stdout, stderr io.Writer) (*fitResult, error) {
	if c.Threads > 0 {
		kernels.SetThreads(c.Threads)
	}
	progress := stderr
	if c.Quiet {
		progress = io.Discard
	}
	if err := makeRunFolder(c.Out); err != nil {
		return nil, err
	}
	// The GPU step plugs in here, from openDevice, once it has passed
	// scripts/gpu-check.sh on a GPU (issue 16).
	if err := openDevice("fit", c.Device, stdout); err != nil {
		return nil, err
	}
	ckptPath := filepath.Join(c.Out, checkpointFile)
	resumed, err := resumeState(c, ckptPath, stdout)
	if err != nil {
		return nil, err
	}
	pr, err := prepare(ctx, c, stdout, progress, stderr)
	if err != nil {
		return nil, err
	}
	t, err := newTrainer(c, pr, ckptPath, stdout, progress, stderr)
	if err != nil {
		return nil, err
	}
	if resumed != nil {
		if err := t.resume(resumed); err != nil {
			return nil, err
		}
	}
	t.st.History.Settings = map[string]string{"command": strings.Join(os.Args, " ")}
	res := &fitResult{History: &t.st.History, Skipped: pr.skipped, CacheComputed: pr.src.computed, StartEpoch: t.st.Epoch + 1}
	if err := t.run(ctx, res); errors.Is(err, errInterrupted) {
		return res, err
	} else if err != nil {
		return nil, err
	}
	return t.finish(res)
}

// resumeState reads the checkpoint a --resume run continues from: nil
// without --resume or when there is none yet; an error when it was written
// with other settings.
func resumeState(c *fitConfig, ckptPath string, stdout io.Writer) (*checkpoint.State, error) {
	if !c.Resume {
		return nil, nil
	}
	st, err := checkpoint.Load(ckptPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(stdout, "no checkpoint in %s: starting from epoch 1\n", c.Out)
		return nil, nil
	case err != nil:
		return nil, err
	case st.Config != c.fingerprint():
		return nil, fmt.Errorf("%s was written by a run with different settings; use the same flags or a new --out\n  checkpoint: %s\n  now:        %s", ckptPath, st.Config, c.fingerprint())
	}
	return st, nil
}

// sampleDigest hashes the sample paths and labels of the given sets.
func sampleDigest(sets ...*featureSet) string {
	h := sha256.New()
	for _, s := range sets {
		for _, x := range s.Samples {
			fmt.Fprintf(h, "%s\x00%d\n", x.Path, x.Label)
		}
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil))
}
