//go:build gpu && linux

// GPU tests: run by scripts/gpu-check.sh on a machine with an NVIDIA GPU
// (go test -tags gpu; not "cuda", which switches on gorgonia's own cgo CUDA
// code). Each compares the GPU path with the CPU trainer (package nn) on the
// same parameters and batch, with TF32 off.
package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"vggo/model"
	"vggo/train/nn"
)

// Tolerances: float32 sums in another order (cuDNN's and cuBLAS' algorithms
// against the CPU kernels) differ by a few units in the last place per
// addition; over a batch of VGG16's layers that stays well under 1e-3 of
// the largest value compared.
const (
	relTol  = 1e-3
	stepTol = 0.05 // of the learning rate, for updated weights (Adam moves each by about lr)
)

var testDevice *Device

func device(t testing.TB) *Device {
	t.Helper()
	if testDevice == nil {
		d, err := Open(DefaultFinder())
		if err != nil {
			t.Fatalf("the cuda tests need a GPU: %v", err)
		}
		t.Logf("GPU: %s", d)
		testDevice = d
	}
	return testDevice
}

// batch makes non-negative features (they follow a ReLU), one-hot targets
// with the last row zero (a short batch's padding) and a dropout mask.
func batch(spec nn.Spec, b int, seed uint64) (x, targets, mask []float32) {
	rng := rand.New(rand.NewPCG(seed, 7))
	in := spec.InputShape()
	x = make([]float32, b*in[0]*in[1]*in[2])
	for i := range x {
		x[i] = rng.Float32()
	}
	targets = make([]float32, b*spec.Classes)
	for r := 0; r < b-1; r++ {
		targets[r*spec.Classes+rng.IntN(spec.Classes)] = 1
	}
	sizes := spec.DenseSizes()
	mask = make([]float32, b*sizes[len(sizes)-1][0])
	for i := range mask {
		if rng.Float64() >= spec.Dropout {
			mask[i] = float32(1 / (1 - spec.Dropout))
		}
	}
	return x, targets, mask
}

func maxRelDiff(got, want []float32) float64 {
	var diff, scale float64
	for i := range want {
		diff = max(diff, math.Abs(float64(got[i]-want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	return diff / max(scale, 1e-12)
}

func maxAbsDiff(got, want []float32) float64 {
	var diff float64
	for i := range want {
		diff = max(diff, math.Abs(float64(got[i]-want[i])))
	}
	return diff
}

// cpuStep is one training step of the CPU trainer on p (updated in place);
// it returns the loss, logits and gradients.
func cpuStep(t *testing.T, spec nn.Spec, p *nn.Params, s *nn.Solver, b int, x, targets, mask []float32) (float32, []float32, [][]float32) {
	t.Helper()
	g, err := spec.Build(p, b, true)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := g.Step(x, targets, mask)
	if err != nil {
		t.Fatal(err)
	}
	logits := append([]float32(nil), g.LogitsValue()...)
	var grads [][]float32
	for _, vg := range g.ValueGrads() {
		gv, err := vg.Grad()
		if err != nil {
			t.Fatal(err)
		}
		grads = append(grads, append([]float32(nil), gv.Data().([]float32)...))
	}
	if err := s.Step(g.ValueGrads()); err != nil {
		t.Fatal(err)
	}
	return loss, logits, grads
}

func runner(t *testing.T, spec nn.Spec, b int, lr float64) *Runner {
	t.Helper()
	plan, err := NewPlan(spec, b, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(device(t), plan, Options{Strict: true, Adam: Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-7}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// One full training step (loss, logits, every gradient, every updated
// weight) against the CPU trainer, on awkward shapes: odd batches, a
// padding row, every head, the freeze boundary at each block's edge, and
// inputs of 32 and 64 pixels. Every GPU op is in at least one case, and
// the per-parameter gradients say which layer disagrees.
func TestGPUStepMatchesCPU(t *testing.T) {
	const lr = 1e-3
	for _, tc := range []struct {
		boundary, size, batch int
		head                  string
		widthDiv              int
	}{
		{model.ConvLayers, 32, 5, model.HeadGAP, 16},
		{model.ConvLayers, 64, 3, model.HeadSeed, 16},
		{model.ConvLayers - 1, 32, 7, model.HeadLinear, 16},
		{model.ConvLayers - 3, 64, 3, model.HeadGAP, 8},
		{0, 32, 3, model.HeadSeed, 16},
		{0, 64, 2, model.HeadGAP, 16},
	} {
		name := fmt.Sprintf("boundary%d/%dpx/batch%d/%s/div%d", tc.boundary, tc.size, tc.batch, tc.head, tc.widthDiv)
		t.Run(name, func(t *testing.T) {
			hidden, _ := nn.DefaultHidden(tc.head, tc.widthDiv)
			spec := nn.Spec{Arch: model.Arch{WidthDiv: tc.widthDiv}, InputSize: tc.size, Boundary: tc.boundary, Head: tc.head, Hidden: hidden, Classes: 5, Dropout: 0.3}
			cpu := spec.InitParams(nil, 3)
			r := runner(t, spec, tc.batch, lr)
			if err := r.SetParams(cpu); err != nil {
				t.Fatal(err)
			}
			x, targets, mask := batch(spec, tc.batch, 11)
			solver, _ := nn.NewSolver("adam", lr)
			wantLoss, wantLogits, wantGrads := cpuStep(t, spec, cpu, solver, tc.batch, x, targets, mask)
			loss, err := r.Step(x, targets, mask, lr)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(float64(loss - wantLoss)); d > relTol*max(1, math.Abs(float64(wantLoss))) {
				t.Errorf("loss %g, CPU %g", loss, wantLoss)
			}
			if d := maxRelDiff(r.Logits(), wantLogits); d > relTol {
				t.Errorf("logits differ by %.2g of their largest", d)
			}
			grads, updated := spec.InitParams(nil, 3), spec.InitParams(nil, 3)
			if err := r.Grads(grads); err != nil {
				t.Fatal(err)
			}
			if err := r.Params(updated); err != nil {
				t.Fatal(err)
			}
			for i, name := range cpu.Names {
				if d := maxRelDiff(grads.Tensors[i].Float32s(), wantGrads[i]); d > relTol {
					t.Errorf("gradient of %s differs by %.2g of its largest", name, d)
				}
				if d := maxAbsDiff(updated.Tensors[i].Float32s(), cpu.Tensors[i].Float32s()); d > stepTol*lr {
					t.Errorf("updated %s differs by %.2g (lr %g)", name, d, lr)
				}
			}
		})
	}
}

// A checkpoint's optimizer state moves between the devices: two steps on
// the CPU then one on the GPU from the CPU's state, against three on the
// CPU; and the GPU's state back into a CPU solver.
func TestGPUCPUResume(t *testing.T) {
	const lr, b = 1e-3, 4
	hidden, _ := nn.DefaultHidden(model.HeadGAP, 16)
	spec := nn.Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: model.ConvLayers - 2, Head: model.HeadGAP, Hidden: hidden, Classes: 4, Dropout: 0.2}
	cpu := spec.InitParams(nil, 5)
	solver, _ := nn.NewSolver("adam", lr)
	for step := uint64(0); step < 2; step++ {
		x, targets, mask := batch(spec, b, step)
		cpuStep(t, spec, cpu, solver, b, x, targets, mask)
	}
	r := runner(t, spec, b, lr)
	if err := r.SetParams(cpu); err != nil {
		t.Fatal(err)
	}
	if err := r.LoadSolver(solver); err != nil {
		t.Fatal(err)
	}
	x, targets, mask := batch(spec, b, 2)
	cpuStep(t, spec, cpu, solver, b, x, targets, mask)
	if _, err := r.Step(x, targets, mask, lr); err != nil {
		t.Fatal(err)
	}
	gpu := spec.InitParams(nil, 0)
	if err := r.Params(gpu); err != nil {
		t.Fatal(err)
	}
	back, _ := nn.NewSolver("adam", lr)
	if err := r.SaveSolver(back); err != nil {
		t.Fatal(err)
	}
	if back.Iter != solver.Iter {
		t.Errorf("GPU solver at step %d, CPU at %d", back.Iter, solver.Iter)
	}
	for i, name := range cpu.Names {
		if d := maxAbsDiff(gpu.Tensors[i].Float32s(), cpu.Tensors[i].Float32s()); d > stepTol*lr {
			t.Errorf("%s after a resumed GPU step differs by %.2g", name, d)
		}
		if d := maxRelDiff(back.Slots2[i], solver.Slots2[i]); d > relTol {
			t.Errorf("second moment of %s differs by %.2g of its largest", name, d)
		}
	}
}

// A short run on separable synthetic data: 3 epochs on the GPU and on the
// CPU from the same start and batches; held-out accuracies agree within 1
// percentage point.
func TestGPURunAccuracyMatchesCPU(t *testing.T) {
	const lr, b, batches, classes = 3e-3, 16, 24, 4
	spec := nn.Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: model.ConvLayers - 1, Head: model.HeadLinear, Classes: classes}
	in := spec.InputShape()
	per := in[0] * in[1] * in[2]
	rng := rand.New(rand.NewPCG(1, 2))
	centres := make([][]float32, classes)
	for k := range centres {
		centres[k] = make([]float32, per)
		for i := range centres[k] {
			centres[k][i] = rng.Float32()
		}
	}
	sample := func(n int) (x, targets []float32, labels []int) {
		x, targets = make([]float32, n*per), make([]float32, n*classes)
		for s := 0; s < n; s++ {
			k := rng.IntN(classes)
			labels = append(labels, k)
			targets[s*classes+k] = 1
			for i := 0; i < per; i++ {
				x[s*per+i] = max(0, centres[k][i]+float32(rng.NormFloat64())*0.6)
			}
		}
		return x, targets, labels
	}
	var trainX, trainT [][]float32
	for i := 0; i < batches; i++ {
		x, tg, _ := sample(b)
		trainX, trainT = append(trainX, x), append(trainT, tg)
	}
	testX, _, testLabels := sample(25 * b)
	cpu := spec.InitParams(nil, 9)
	r := runner(t, spec, b, lr)
	if err := r.SetParams(cpu); err != nil {
		t.Fatal(err)
	}
	solver, _ := nn.NewSolver("adam", lr)
	for epoch := 0; epoch < 3; epoch++ {
		for i := range trainX {
			cpuStep(t, spec, cpu, solver, b, trainX[i], trainT[i], nil)
			if _, err := r.Step(trainX[i], trainT[i], nil, lr); err != nil {
				t.Fatal(err)
			}
		}
	}
	gpu := spec.InitParams(nil, 0)
	if err := r.Params(gpu); err != nil {
		t.Fatal(err)
	}
	cpuAcc, gpuAcc := accuracy(t, spec, cpu, b, testX, testLabels), accuracy(t, spec, gpu, b, testX, testLabels)
	t.Logf("held-out accuracy: CPU %.1f %%, GPU %.1f %%", 100*cpuAcc, 100*gpuAcc)
	if math.Abs(cpuAcc-gpuAcc) > 0.01 {
		t.Errorf("accuracies differ by more than 1 pp")
	}
	if cpuAcc < 0.5 {
		t.Errorf("the CPU run learnt nothing (%.1f %%): the comparison says little", 100*cpuAcc)
	}
}

// accuracy evaluates p with the CPU graph, so both runs are judged alike.
func accuracy(t *testing.T, spec nn.Spec, p *nn.Params, b int, x []float32, labels []int) float64 {
	g, err := spec.Build(p, b, false)
	if err != nil {
		t.Fatal(err)
	}
	per, k := len(x)/len(labels), spec.Classes
	correct := 0
	for s := 0; s+b <= len(labels); s += b {
		if _, err := g.Step(x[s*per:(s+b)*per], make([]float32, b*k), nil); err != nil {
			t.Fatal(err)
		}
		logits := g.LogitsValue()
		for i := 0; i < b; i++ {
			best := 0
			for j := 1; j < k; j++ {
				if logits[i*k+j] > logits[i*k+best] {
					best = j
				}
			}
			if best == labels[s+i] {
				correct++
			}
		}
	}
	return float64(correct) / float64(len(labels))
}
