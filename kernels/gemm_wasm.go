//go:build goexperiment.simd && wasm

package kernels

import "simd/archsimd"

// wasm SIMD128 SGEMM microkernels (GOEXPERIMENT=simd builds). WebAssembly
// has no fused multiply-add outside the relaxed-SIMD proposal, so each step
// is a multiply and an add, rounded separately.
//
// The kernel is a 6x8 tile hand-written in Go wasm assembly
// (gemm_simd128_wasm.s): 12 v128 accumulators, the B row and the broadcast
// A value all in locals (the Go wasm ABI gives 16 v128 locals). Tiles of
// 5x8, 4x8, 4x12 and 6x8 measured within noise of each other (~19-20
// GFLOP/s of CPU time in node 20 on a loaded 2-core Xeon); the same tiles
// written with simd/archsimd Float32x4 measured ~11 GFLOP/s, so only the
// assembly kernel is kept and simd/archsimd does just the epilogue. nr = 8 divides every
// VGG16 channel count, so no panel is padded.

// archGemmVariants returns the wasm SIMD128 microkernels, fastest first.
func archGemmVariants() []*gemmKernel {
	return []*gemmKernel{simd128AsmGemm}
}

var simd128AsmGemm = &gemmKernel{name: "simd128asm", mr: 6, nr: 8, kc: 512, mc: 96, micro: microSIMD128Asm}

// gemmSIMD128Asm6x8 accumulates a 6x8 tile of packed A times packed B
// over kc >= 1 steps into tile (row-major, 8 floats a row); see the .s file.
//
//go:noescape
func gemmSIMD128Asm6x8(kc int, a, b, tile *float32)

// microSIMD128Asm runs the assembly kernel and applies the epilogue.
func microSIMD128Asm(kc int, a, b, c []float32, ldc, rows, cols int, load bool, bias []float32, relu bool) {
	a = a[:kc*6]
	b = b[:kc*8]
	var tile [6 * 8]float32
	gemmSIMD128Asm6x8(kc, &a[0], &b[0], &tile[0])
	if rows < 6 || cols < 8 {
		storeTile(tile[:], 8, c, ldc, rows, cols, load, bias, relu)
		return
	}
	// The epilogue is written out here rather than in a helper: with K = 27
	// (the first VGG16 layer) it is a large share of each call, and inline
	// it measured ~25% faster for that layer in node.
	var zero, bv0, bv1 archsimd.Float32x4
	hasBias := bias != nil
	if hasBias {
		bv0 = archsimd.LoadFloat32x4Array((*[4]float32)(bias[0:4]))
		bv1 = archsimd.LoadFloat32x4Array((*[4]float32)(bias[4:8]))
	}
	for i := 0; i < 6; i++ {
		t := tile[i*8 : i*8+8]
		row := c[i*ldc : i*ldc+8]
		v0 := archsimd.LoadFloat32x4Array((*[4]float32)(t[0:4]))
		v1 := archsimd.LoadFloat32x4Array((*[4]float32)(t[4:8]))
		if load {
			v0 = archsimd.LoadFloat32x4Array((*[4]float32)(row[0:4])).Add(v0)
			v1 = archsimd.LoadFloat32x4Array((*[4]float32)(row[4:8])).Add(v1)
		}
		if hasBias {
			v0 = v0.Add(bv0)
			v1 = v1.Add(bv1)
		}
		if relu {
			v0 = v0.Max(zero)
			v1 = v1.Max(zero)
		}
		v0.StoreArray((*[4]float32)(row[0:4]))
		v1.StoreArray((*[4]float32)(row[4:8]))
	}
}
