//go:build !(goexperiment.simd && wasm && relaxedsimd)

package kernels

// RelaxedSIMD reports whether this build's wasm microkernels (SGEMM and the
// Winograd transforms) use f32x4.relaxed_madd: only GOEXPERIMENT=simd wasm
// builds with the relaxedsimd build tag do, and only engines with the
// relaxed-SIMD proposal (Chromium; node with --experimental-wasm-relaxed-simd)
// can load them.
const RelaxedSIMD = false
