//go:build linux

package cuda

import (
	_ "embed"
	"math"
	"unsafe"
)

// adamPTX is the optimizer kernel. cuDNN's element-wise ops (add, multiply,
// square root, min, max) have no division, so Adam needs its own kernel;
// everything else in a training step is cuDNN or cuBLAS.
//
//go:embed adam.ptx
var adamPTX string

// kernelSet is the module of own kernels, loaded once per device.
type kernelSet struct {
	module, adam uintptr
}

func (k *kernelSet) load() error {
	image := append([]byte(adamPTX), 0)
	if err := cuErr("cuModuleLoadData(adam.ptx)", cuModuleLoadData(&k.module, &image[0])); err != nil {
		return err
	}
	name := []byte("adam\x00")
	return cuErr("cuModuleGetFunction(adam)", cuModuleGetFunction(&k.adam, k.module, &name[0]))
}

// Adam is the optimizer's settings (Keras' defaults in nn.NewSolver).
type Adam struct {
	LR, Beta1, Beta2, Eps float64
}

// adamBlock is the threads per block of the element-wise kernels.
const adamBlock = 256

// adamStep launches one Adam update of w from g with moments m, v, for
// step t (1-based). The context must be current.
func (d *Device) adamStep(w, g, m, v Buffer, a Adam, t int) error {
	n := uint32(w.N)
	lr, b1, b2, eps := float32(a.LR), float32(a.Beta1), float32(a.Beta2), float32(a.Eps)
	invC1 := float32(1 / (1 - math.Pow(a.Beta1, float64(t))))
	invC2 := float32(1 / (1 - math.Pow(a.Beta2, float64(t))))
	args := []unsafe.Pointer{
		unsafe.Pointer(&w.Ptr), unsafe.Pointer(&g.Ptr), unsafe.Pointer(&m.Ptr), unsafe.Pointer(&v.Ptr),
		unsafe.Pointer(&n), unsafe.Pointer(&lr), unsafe.Pointer(&b1), unsafe.Pointer(&b2),
		unsafe.Pointer(&invC1), unsafe.Pointer(&invC2), unsafe.Pointer(&eps),
	}
	blocks := (n + adamBlock - 1) / adamBlock
	return cuErr("cuLaunchKernel(adam)", cuLaunchKernel(d.kernels.adam, blocks, 1, 1, adamBlock, 1, 1, 0, 0, &args[0], 0))
}
