package main

import (
	"fmt"
	"io"

	"vggo/train/cuda"
)

// The -device values.
const (
	deviceAuto = "auto"
	deviceCPU  = "cpu"
	deviceCUDA = "cuda"
)

// findGPU is where openDevice looks for NVIDIA's libraries; tests replace it.
var findGPU = cuda.DefaultFinder

// openDevice settles -device (of subcommand cmd) before any data work and logs the choice:
// "cpu" never looks for a GPU; "auto" (also the empty value of configs
// built in code) uses a usable GPU and falls back to the CPU; "cuda" fails
// at once, with what was looked for and where, when there is none.
//
// The GPU training step (cuda.NewPlan and cuda.Runner) is not connected to
// the trainer until scripts/gpu-check.sh has passed on a GPU (issue 16), so
// for now a usable GPU is reported and closed, "auto" trains on the CPU and
// "cuda" refuses to pretend.
func openDevice(cmd, device string, stdout io.Writer) error {
	if device == deviceCPU {
		fmt.Fprintln(stdout, "device: cpu (-device cpu)")
		return nil
	}
	d, err := cuda.Open(findGPU())
	if err != nil {
		if device == deviceCUDA {
			return fmt.Errorf("%s: -device cuda: %w", cmd, err)
		}
		fmt.Fprintf(stdout, "device: cpu (no usable NVIDIA GPU; -device cuda says why)\n")
		return nil
	}
	defer d.Close()
	if device == deviceCUDA {
		return fmt.Errorf("%s: -device cuda: found %s, but the GPU training step is not enabled yet: it has not passed scripts/gpu-check.sh on a GPU (issue 16); use -device cpu", cmd, d)
	}
	fmt.Fprintf(stdout, "device: cpu (found %s; the GPU training step is not enabled yet, issue 16)\n", d)
	return nil
}
