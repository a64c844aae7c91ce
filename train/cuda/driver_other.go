//go:build !linux

package cuda

import (
	"fmt"
	"runtime"
)

// Device is a GPU; the backend opens one on Linux only.
type Device struct {
	Name   string
	Memory uint64
}

func (d *Device) String() string { return d.Name }

// Open fails: NVIDIA's libraries are loaded on Linux only.
func Open(Finder) (*Device, error) {
	return nil, fmt.Errorf("no usable NVIDIA GPU: the CUDA backend runs on Linux only, not %s%s", runtime.GOOS, lookedFor())
}

// Close does nothing.
func (d *Device) Close() error { return nil }
