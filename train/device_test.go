package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"vggo/train/cuda"
)

// noGPU makes openDevice search nowhere, as on a machine without NVIDIA's
// libraries, whatever this machine has.
func noGPU(t *testing.T) {
	t.Helper()
	saved := findGPU
	findGPU = func() cuda.Finder { return cuda.Finder{Env: func(string) string { return "" }} }
	t.Cleanup(func() { findGPU = saved })
}

// -device cuda without a usable GPU fails before the dataset is touched,
// saying what it looked for and where.
func TestDeviceCUDAWithoutGPUFailsFirst(t *testing.T) {
	noGPU(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run")
	c, err := parseFitFlags("fit", []string{"-data", filepath.Join(dir, "no-such-data"), "-from-scratch", "-device", "cuda", "-out", out}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	_, err = fit(context.Background(), c, &log, io.Discard)
	if err == nil {
		t.Fatal("fit -device cuda succeeded without a GPU")
	}
	for _, want := range []string{"fit: -device cuda: no usable NVIDIA GPU: cannot find libcuda.so.1 (driver)", "looked for:", "libcudnn.so.9 (cuDNN)", "searched:", "VGGO_CUDA_PATH is not set"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "no-such-data") || log.Len() > 0 {
		t.Errorf("work started before the device was settled: %v\n%s", err, log.String())
	}
}

func TestDeviceAutoFallsBackToCPU(t *testing.T) {
	noGPU(t)
	for _, device := range []string{deviceAuto, ""} {
		var log bytes.Buffer
		if err := openDevice("fit", device, &log); err != nil {
			t.Fatalf("-device %q: %v", device, err)
		}
		if !strings.HasPrefix(log.String(), "device: cpu (no usable NVIDIA GPU") {
			t.Errorf("-device %q logs %q", device, log.String())
		}
	}
}

func TestDeviceCPUDoesNotSearch(t *testing.T) {
	saved := findGPU
	findGPU = func() cuda.Finder { t.Error("-device cpu searched for a GPU"); return saved() }
	t.Cleanup(func() { findGPU = saved })
	var log bytes.Buffer
	if err := openDevice("fit", deviceCPU, &log); err != nil || log.String() != "device: cpu (-device cpu)\n" {
		t.Errorf("-device cpu: err %v, log %q", err, log.String())
	}
}

func TestDeviceFlagRejectsUnknown(t *testing.T) {
	_, err := parseFitFlags("fit", []string{"-data", "d", "-from-scratch", "-device", "tpu"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `--device "tpu": want auto, cpu or cuda`) {
		t.Errorf("-device tpu: %v", err)
	}
}
