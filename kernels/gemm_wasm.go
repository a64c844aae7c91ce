//go:build goexperiment.simd && wasm

package kernels

// archGemmVariants returns the wasm SIMD128 microkernels, fastest first.
func archGemmVariants() []*gemmKernel { return nil }
