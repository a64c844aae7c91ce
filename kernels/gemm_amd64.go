//go:build goexperiment.simd && amd64

package kernels

// archGemmVariants returns the amd64 SIMD microkernels this CPU supports,
// fastest first.
func archGemmVariants() []*gemmKernel { return nil }
