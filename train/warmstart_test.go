package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"vggo/model"
)

// TestWarmStart continues from an earlier run's model file. With a
// learning rate too small to move any weight, the continued run must
// reproduce the first run's test accuracy exactly, which it only does when
// both the conv layers and the head come from the file. A run on a
// different class set keeps the conv base but gets a new head, and says so.
func TestWarmStart(t *testing.T) {
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	first := smallFit(fixture, filepath.Join(dir, "first"), cacheDir, 2)
	first.Export = "float32"
	res1, err := fit(context.Background(), first, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}

	cont := smallFit(fixture, filepath.Join(dir, "cont"), cacheDir, 1)
	cont.FromScratch, cont.Weights, cont.LR = false, res1.ModelPath, 1e-12
	if err := cont.validate(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res2, err := fit(context.Background(), cont, &log, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "head: continues from "+res1.ModelPath) {
		t.Errorf("log does not say the head continues:\n%s", log.String())
	}
	if res2.CacheComputed != 300 {
		t.Errorf("continued run computed %d features, want all 300: its frozen layers come from other weights", res2.CacheComputed)
	}
	if res2.TestAccuracy != res1.TestAccuracy {
		t.Errorf("continued run's test accuracy %.4f, first run's %.4f: the weights did not carry over", res2.TestAccuracy, res1.TestAccuracy)
	}

	other := smallFit(fixture, filepath.Join(dir, "other"), cacheDir, 1)
	other.FromScratch, other.Weights, other.Classes = false, res1.ModelPath, 3
	if err := other.validate(); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	if _, err := fit(context.Background(), other, &log, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "head: new, not ") {
		t.Errorf("a 3-class run on a 4-class model should start a new head:\n%s", log.String())
	}
}

// TestLearningRateSchedule checks the cosine against its formula and that a
// constant schedule keeps the fingerprint checkpoints had before schedules.
func TestLearningRateSchedule(t *testing.T) {
	cos := &fitConfig{Data: "d", FromScratch: true, LR: 0.1, LRSchedule: "cosine", Epochs: 4, Batch: 1, AugCopies: 1, Export: "int8", Preprocess: "torch"}
	if err := cos.validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step int
		want float64
	}{{0, 0.1}, {10, 0.1 * (1 + math.Cos(math.Pi/4)) / 2}, {20, 0.05}, {30, 0.1 * (1 + math.Cos(3*math.Pi/4)) / 2}, {39, 0.1 * (1 + math.Cos(math.Pi*39/40)) / 2}} {
		if got := cos.lrAt(tc.step, 10); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("cosine step %d: %g, want %g", tc.step, got, tc.want)
		}
	}
	constant := *cos
	constant.LRSchedule, constant.ScheduleEpochs = "constant", 0
	if err := constant.validate(); err != nil {
		t.Fatal(err)
	}
	if got := constant.lrAt(25, 10); got != 0.1 {
		t.Errorf("constant: %g", got)
	}
	if fp := constant.fingerprint(); strings.Contains(fp, "schedule") {
		t.Errorf("constant-rate fingerprint %s names a schedule: old checkpoints would not resume", fp)
	}
	if fp := cos.fingerprint(); !strings.Contains(fp, `"lr_schedule":"cosine","schedule_epochs":4`) {
		t.Errorf("cosine fingerprint %s lacks the schedule and its length", fp)
	}
	bad := *cos
	bad.LRSchedule = "step"
	if err := bad.validate(); err == nil || !strings.Contains(err.Error(), "--lr-schedule") {
		t.Errorf("unknown schedule: %v", err)
	}
}

// TestInputCacheSharedAcrossWeights: with every conv layer trained the
// cache holds preprocessed images, which do not depend on the weights, so
// a run continuing from another run's model computes nothing.
func TestInputCacheSharedAcrossWeights(t *testing.T) {
	dir := t.TempDir()
	cacheDir := filepath.Join(dir, "cache")
	first := smallFit(fixture, filepath.Join(dir, "first"), cacheDir, 1)
	first.FineTune = model.ConvLayers
	res1, err := fit(context.Background(), first, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res1.CacheComputed != 300 {
		t.Fatalf("first run computed %d inputs, want 300", res1.CacheComputed)
	}
	cont := smallFit(fixture, filepath.Join(dir, "cont"), cacheDir, 1)
	cont.FineTune, cont.FromScratch, cont.Weights = model.ConvLayers, false, res1.ModelPath
	if err := cont.validate(); err != nil {
		t.Fatal(err)
	}
	fitAllCached(t, cont)
}

// TestErasingAndSmoothingFlags: -erase and -label-smoothing parse into the
// config, enter the fingerprint when on and leave it as before when off
// (so checkpoints of earlier runs still resume), and bad values are
// refused with the flag's name.
func TestErasingAndSmoothingFlags(t *testing.T) {
	base := []string{"-data", fixture, "-from-scratch"}
	off, err := parseFitFlags("fit", base, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if fp := off.fingerprint(); strings.Contains(fp, "Erase") || strings.Contains(fp, "smoothing") {
		t.Errorf("fingerprint without the flags %s names them: old checkpoints would not resume", fp)
	}
	on, err := parseFitFlags("fit", append(base, "-erase", "0.5", "-label-smoothing", "0.1"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if on.Aug.Erase != 0.5 || on.LabelSmoothing != 0.1 || !on.Aug.Enabled() {
		t.Fatalf("parsed erase %g, smoothing %g, augmentation on %t", on.Aug.Erase, on.LabelSmoothing, on.Aug.Enabled())
	}
	if fp := on.fingerprint(); !strings.Contains(fp, `"Erase":0.5`) || !strings.Contains(fp, `"label_smoothing":0.1`) {
		t.Errorf("fingerprint %s lacks erasing or smoothing", fp)
	}
	for _, tc := range []struct{ flag, value, want string }{
		{"-erase", "1.5", "erase probability"},
		{"-erase", "-0.1", "erase probability"},
		{"-label-smoothing", "1", "--label-smoothing"},
		{"-label-smoothing", "-0.1", "--label-smoothing"},
	} {
		if _, err := parseFitFlags("fit", append(base, tc.flag, tc.value), io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want an error naming %q", tc.flag, tc.value, err, tc.want)
		}
	}
}
