//go:build linux

package cuda

import (
	"fmt"
	"runtime"
	"unsafe"
)

// The CUDA driver API functions the backend calls (cuda.h). Every one
// returns a CUresult, 0 on success.
var (
	cuInit                    func(flags uint32) int32
	cuDeviceGetCount          func(n *int32) int32
	cuDeviceGet               func(dev *int32, ordinal int32) int32
	cuDeviceGetName           func(name *byte, n int32, dev int32) int32
	cuDeviceTotalMem          func(bytes *uint64, dev int32) int32
	cuDevicePrimaryCtxRetain  func(ctx *uintptr, dev int32) int32
	cuDevicePrimaryCtxRelease func(dev int32) int32
	cuCtxSetCurrent           func(ctx uintptr) int32
	cuCtxSynchronize          func() int32
	cuMemGetInfo              func(free, total *uint64) int32
	cuMemAlloc                func(ptr *uintptr, bytes uint64) int32
	cuMemFree                 func(ptr uintptr) int32
	cuMemcpyHtoD              func(dst uintptr, src unsafe.Pointer, bytes uint64) int32
	cuMemcpyDtoH              func(dst unsafe.Pointer, src uintptr, bytes uint64) int32
	cuMemsetD32               func(dst uintptr, v uint32, n uint64) int32
	cuModuleLoadData          func(mod *uintptr, image *byte) int32
	cuModuleGetFunction       func(fn *uintptr, mod uintptr, name *byte) int32
	cuLaunchKernel            func(fn uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params *unsafe.Pointer, extra uintptr) int32
	cuGetErrorName            func(code int32, name **byte) int32
	cuDriverGetVersion        func(v *int32) int32
	driverSymbols             = []symbol{
		{"cuInit", &cuInit},
		{"cuDeviceGetCount", &cuDeviceGetCount},
		{"cuDeviceGet", &cuDeviceGet},
		{"cuDeviceGetName", &cuDeviceGetName},
		{"cuDeviceTotalMem_v2", &cuDeviceTotalMem},
		{"cuDevicePrimaryCtxRetain", &cuDevicePrimaryCtxRetain},
		{"cuDevicePrimaryCtxRelease_v2", &cuDevicePrimaryCtxRelease},
		{"cuCtxSetCurrent", &cuCtxSetCurrent},
		{"cuCtxSynchronize", &cuCtxSynchronize},
		{"cuMemGetInfo_v2", &cuMemGetInfo},
		{"cuMemAlloc_v2", &cuMemAlloc},
		{"cuMemFree_v2", &cuMemFree},
		{"cuMemcpyHtoD_v2", &cuMemcpyHtoD},
		{"cuMemcpyDtoH_v2", &cuMemcpyDtoH},
		{"cuMemsetD32_v2", &cuMemsetD32},
		{"cuModuleLoadData", &cuModuleLoadData},
		{"cuModuleGetFunction", &cuModuleGetFunction},
		{"cuLaunchKernel", &cuLaunchKernel},
		{"cuGetErrorName", &cuGetErrorName},
		{"cuDriverGetVersion", &cuDriverGetVersion},
	}
)

// cuErr turns a CUresult into an error naming the call.
func cuErr(call string, code int32) error {
	if code == 0 {
		return nil
	}
	name := "unknown error"
	var p *byte
	if cuGetErrorName != nil && cuGetErrorName(code, &p) == 0 && p != nil {
		name = cString(p)
	}
	return fmt.Errorf("%s: %s (%d)", call, name, code)
}

// cString copies a NUL-terminated C string.
func cString(p *byte) string {
	var b []byte
	for ; *p != 0; p = (*byte)(unsafe.Add(unsafe.Pointer(p), 1)) {
		b = append(b, *p)
	}
	return string(b)
}

// Device is one GPU with the backend's libraries loaded and its primary
// context retained.
type Device struct {
	Name     string // as the driver reports it, e.g. "NVIDIA H200"
	Memory   uint64 // total bytes
	Ordinal  int
	Driver   int // driver API version, e.g. 13000
	Libs     []Found
	dev, ctx uintptr
	blas     uintptr // cuBLAS handle
	dnn      uintptr // cuDNN handle
	kernels  kernelSet
}

// String is the one-line description the trainer logs.
func (d *Device) String() string {
	return fmt.Sprintf("%s, %.1f GiB, CUDA driver %d.%d", d.Name, float64(d.Memory)/(1<<30), d.Driver/1000, d.Driver%1000/10)
}

// Open finds and loads the libraries with f, initialises the driver and
// opens GPU 0 with cuBLAS and cuDNN handles on it. Any failure is an error
// that names the libraries looked for and, when one was missing, every
// place searched.
func Open(f Finder) (*Device, error) {
	libs, err := f.Find()
	if err != nil {
		return nil, err
	}
	if err := load(libs[0], driverSymbols); err != nil {
		return nil, err
	}
	d := &Device{Libs: libs}
	if err := d.init(); err != nil {
		return nil, fmt.Errorf("no usable NVIDIA GPU: %w (driver %s)", err, libs[0].Path)
	}
	if err := load(libs[1], blasSymbols); err != nil {
		return nil, err
	}
	if err := load(libs[2], dnnSymbols); err != nil {
		return nil, err
	}
	if err := d.openLibraries(); err != nil {
		return nil, fmt.Errorf("no usable NVIDIA GPU: %w", err)
	}
	return d, nil
}

func (d *Device) init() error {
	if err := cuErr("cuInit", cuInit(0)); err != nil {
		return err
	}
	var n, dev, ver int32
	if err := cuErr("cuDeviceGetCount", cuDeviceGetCount(&n)); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("the driver sees no GPU")
	}
	if err := cuErr("cuDeviceGet", cuDeviceGet(&dev, 0)); err != nil {
		return err
	}
	name := make([]byte, 256)
	if err := cuErr("cuDeviceGetName", cuDeviceGetName(&name[0], int32(len(name)), dev)); err != nil {
		return err
	}
	d.Name = cString(&name[0])
	if err := cuErr("cuDeviceTotalMem", cuDeviceTotalMem(&d.Memory, dev)); err != nil {
		return err
	}
	if err := cuErr("cuDriverGetVersion", cuDriverGetVersion(&ver)); err != nil {
		return err
	}
	d.Driver, d.dev = int(ver), uintptr(dev)
	return cuErr("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(&d.ctx, dev))
}

// enter makes the device's context current on this goroutine's OS thread
// and keeps the goroutine there: CUDA, cuBLAS and cuDNN calls act on the
// calling thread's current context. The caller defers the returned func.
func (d *Device) enter() (leave func(), err error) {
	runtime.LockOSThread()
	if err := cuErr("cuCtxSetCurrent", cuCtxSetCurrent(d.ctx)); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	return runtime.UnlockOSThread, nil
}

// Close releases the handles and the context.
func (d *Device) Close() error {
	leave, err := d.enter()
	if err != nil {
		return err
	}
	defer leave()
	if d.dnn != 0 {
		cudnnDestroy(d.dnn)
	}
	if d.blas != 0 {
		cublasDestroy(d.blas)
	}
	return cuErr("cuDevicePrimaryCtxRelease", cuDevicePrimaryCtxRelease(int32(d.dev)))
}

// MemoryInUse is the device memory in use by every process, in bytes.
func (d *Device) MemoryInUse() (uint64, error) {
	leave, err := d.enter()
	if err != nil {
		return 0, err
	}
	defer leave()
	var free, total uint64
	if err := cuErr("cuMemGetInfo", cuMemGetInfo(&free, &total)); err != nil {
		return 0, err
	}
	return total - free, nil
}

// Buffer is device memory holding float32 values.
type Buffer struct {
	Ptr uintptr
	N   int // values
}

// alloc allocates n float32 values, zeroed. The context must be current.
func alloc(n int) (Buffer, error) {
	b := Buffer{N: n}
	if n == 0 {
		return b, nil
	}
	if err := cuErr("cuMemAlloc", cuMemAlloc(&b.Ptr, uint64(4*n))); err != nil {
		return b, fmt.Errorf("%w (%d MiB)", err, 4*n>>20)
	}
	return b, cuErr("cuMemsetD32", cuMemsetD32(b.Ptr, 0, uint64(n)))
}

// upload copies src into b; len(src) must be b.N.
func (b Buffer) upload(src []float32) error {
	if len(src) != b.N {
		return fmt.Errorf("upload: %d values into a buffer of %d", len(src), b.N)
	}
	if b.N == 0 {
		return nil
	}
	return cuErr("cuMemcpyHtoD", cuMemcpyHtoD(b.Ptr, unsafe.Pointer(&src[0]), uint64(4*b.N)))
}

// download copies b into dst; len(dst) must be b.N.
func (b Buffer) download(dst []float32) error {
	if len(dst) != b.N {
		return fmt.Errorf("download: a buffer of %d values into %d", b.N, len(dst))
	}
	if b.N == 0 {
		return nil
	}
	return cuErr("cuMemcpyDtoH", cuMemcpyDtoH(unsafe.Pointer(&dst[0]), b.Ptr, uint64(4*b.N)))
}

func (b Buffer) free() {
	if b.Ptr != 0 {
		cuMemFree(b.Ptr)
	}
}
