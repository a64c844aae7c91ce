// Package cuda is the trainer's NVIDIA GPU backend: the driver (libcuda),
// cuBLAS and cuDNN loaded at run time with purego, so every build stays
// pure Go (CGO_ENABLED=0 builds and links it) and machines without a GPU
// run the same binary on the CPU.
//
// Discovery (Finder) looks for libcuda.so.1, libcublas.so.13/12 and
// libcudnn.so.9 in VGGO_CUDA_PATH, the folders `ldconfig -p` lists for them,
// LD_LIBRARY_PATH, /usr/local/cuda*/lib64 (and the container runtime's
// /usr/local/nvidia/lib64), then the nvidia/*/lib folders of Python
// site-packages (PyTorch's wheels). Open reports the GPU's name and memory,
// or an error listing every library looked for and every place searched.
//
// # Lowering, not gorgonia ops
//
// The trainable network is a fixed VGG16 suffix plus a head, so one
// training step is always the same sequence of calls over buffers of the
// same shapes. NewPlan lowers it to that sequence once (Plan: forward,
// loss, backward in reverse, Adam), and Runner issues it: cuDNN for the
// convolutions, bias, ReLU, pooling and the dropout multiply, cuBLAS for
// the dense layers, one hand-written PTX kernel (adam.ptx) for Adam, whose
// division cuDNN's element-wise ops lack. The loss and its gradient (B×K
// values) are computed on the host by kernels.SoftmaxCrossEntropy and SoftmaxCrossEntropyBackward, the CPU
// trainer's own functions. Putting GPU implementations under gorgonia's
// graph instead would mean a device-aware tape machine, device values behind
// gorgonia's tensor interface and the solver's state on the device: far
// more code, all of it fighting gorgonia's host-memory assumptions, for a
// graph that never changes shape. Descriptors, algorithms and memory are
// chosen once per plan, so a step does no allocation.
//
// Layouts are the project's (activations NHWC, dense kernels [In][Out]),
// except conv kernels, which cuDNN's NHWC convolutions want as KRSC; they
// are transposed on upload and download, so parameters, checkpoints and
// model files are the CPU path's.
//
// # What has been verified
//
// Without a GPU: discovery and its errors, the load error on files that are
// not libraries, that purego accepts every binding's signature, the plans
// (call order, shapes, buffer sizes) for frozen, fine-tuned and all-layer
// cases, and the kernel layout transposition. Nothing in this package has
// run on a GPU yet: the bindings' argument layouts, the PTX (not assembled
// here: there is no ptxas on the build machines), cuDNN's NHWC support for
// each call and the GPU-vs-CPU agreement are checked only by the tests
// behind the `gpu` build tag (not `cuda`: that tag switches on gorgonia's own cgo CUDA code), which scripts/gpu-check.sh runs on a machine
// with an NVIDIA GPU. Until that run is green the trainer does not train on
// the GPU (see train's -device flag).
package cuda
