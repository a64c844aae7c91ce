//go:build gpu && linux

package cuda

import (
	"testing"

	"vggo/model"
	"vggo/train/nn"
)

// The targets, each against scripts/gpu_torch_bench.py on the same
// GPU with PyTorch's default precision (TF32 in convolutions only). Each
// reports images per second and the device memory in use.
func BenchmarkGPUTrainStepAll32(b *testing.B) { benchPlan(b, 0, 32, 256, true) }
func BenchmarkGPUFineTune1At224(b *testing.B) { benchPlan(b, model.ConvLayers-1, 224, 64, true) }
func BenchmarkGPUForward224(b *testing.B)     { benchPlan(b, 0, 224, 64, false) }

func benchPlan(b *testing.B, boundary, size, batchSize int, train bool) {
	hidden, _ := nn.DefaultHidden(model.HeadGAP, 1)
	spec := nn.Spec{Arch: model.FullVGG16, InputSize: size, Boundary: boundary, Head: model.HeadGAP, Hidden: hidden, Classes: 10, Dropout: 0.2}
	d := device(b)
	before, err := d.MemoryInUse()
	if err != nil {
		b.Fatal(err)
	}
	plan, err := NewPlan(spec, batchSize, train)
	if err != nil {
		b.Fatal(err)
	}
	r, err := NewRunner(d, plan, Options{Adam: Adam{LR: 1e-4, Beta1: 0.9, Beta2: 0.999, Eps: 1e-7}})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if err := r.SetParams(spec.InitParams(nil, 1)); err != nil {
		b.Fatal(err)
	}
	x, targets, mask := batch(spec, batchSize, 1)
	step := func() error {
		if train {
			_, err := r.Step(x, targets, mask, 1e-4)
			return err
		}
		_, err := r.Forward(x, mask)
		return err
	}
	for range 3 { // warm-up: cuDNN's first calls load kernels
		if err := step(); err != nil {
			b.Fatal(err)
		}
	}
	after, err := d.MemoryInUse()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := step(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(batchSize*b.N)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64(after-before)/(1<<20), "GPU-MiB")
}
