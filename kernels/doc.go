// Package kernels is the compute core of vggo: packed single-precision
// matrix multiplication (SGEMM), 3x3 convolution, and the small layers built
// on them. Tensors are float32 in NHWC order with explicit sizes; the package
// imports only the standard library (plus simd/archsimd where available).
//
// Every hot kernel exists as a portable pure-Go twin and, where the build
// allows (GOEXPERIMENT=simd on amd64 or wasm), as SIMD variants chosen at run
// time: AVX-512 or AVX2+FMA on amd64, SIMD128 on wasm. The SGEMM
// microkernels that run by default are Go assembly, kept because they
// measured 1.6-2x faster than the same tiles written with simd/archsimd
// (on amd64 those stay as compiled twins, see gemm_amd64.go; on wasm the
// archsimd tile was dropped, see gemm_wasm.go). The
// variants are listed in internal tables so the tests run every one
// available on the machine against the same float64 reference.
//
// Parallel work is split over output tiles only, never over the reduction
// dimension, so results are bit-identical for any thread count (SetThreads).
// Under GOOS=js (the browser) the default is a single thread.
package kernels
