//go:build goexperiment.simd && wasm && relaxedsimd

package kernels

// RelaxedSIMD: see relaxed.go. This is the relaxedsimd build
// (gemm_relaxed_wasm.s, winograd_relaxed_wasm.s).
const RelaxedSIMD = true
