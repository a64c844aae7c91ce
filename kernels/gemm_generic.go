//go:build !goexperiment.simd || !(amd64 || wasm)

package kernels

// archGemmVariants: no SIMD microkernels in this build; only the portable
// one is used.
func archGemmVariants() []*gemmKernel { return nil }
