//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// amd64 SGEMM microkernels (GOEXPERIMENT=simd builds), chosen at run time
// from the CPU features reported by simd/archsimd:
//
//   - avx512asm: 14x32 tile, hand-written Go assembly (gemm_kernels_amd64.s):
//     28 zmm accumulators, VBROADCASTSS from memory (a load, no shuffle port),
//     2 FMAs per broadcast. The fastest: ~145 GFLOP/s per second of CPU time,
//     single-thread, at 512x512x512 on the Xeon (Emerald Rapids) this was
//     tuned on.
//   - avx512: 4x64 tile in simd/archsimd (Float32x16). The Go 1.27 compiler
//     keeps loop-carried vectors in Z0-Z14 only, lowers MulAdd to the
//     213 form (result in a multiplicand, so it adds register copies) and
//     broadcasts through a register (VBROADCASTSS reg, port 5), so bigger
//     tiles spill; of 2x96 .. 6x32 and K unrolled by 1 or 2 this measured
//     best (~90 GFLOP/s of CPU time). Kept as the compiler-built twin of the
//     assembly kernel.
//   - avx2asm: 6x16 tile in Go assembly for AVX2+FMA CPUs without AVX-512:
//     12 ymm accumulators, broadcasts from memory (~77 GFLOP/s of CPU time
//     here).
//   - avx2: the same 6x16 tile in archsimd (Float32x8), its compiler-built
//     twin (~37 GFLOP/s of CPU time here).
//
// The archsimd bodies are unrolled by hand (every row of the tile written
// out the same way) so the accumulators stay in registers.

// archGemmVariants returns the amd64 SIMD microkernels this CPU supports,
// fastest first.
func archGemmVariants() []*gemmKernel {
	var v []*gemmKernel
	if archsimd.X86.AVX512() {
		v = append(v, avx512AsmGemm, avx512Gemm)
	}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		v = append(v, avx2AsmGemm, avx2Gemm)
	}
	return v
}

var (
	avx512Gemm    = &gemmKernel{name: "avx512", mr: 4, nr: 64, kc: 384, mc: 120, micro: microAVX512}
	avx512AsmGemm = &gemmKernel{name: "avx512asm", mr: 14, nr: 32, kc: 256, mc: 112, micro: microAVX512Asm}
	avx2AsmGemm   = &gemmKernel{name: "avx2asm", mr: 6, nr: 16, kc: 256, mc: 96, micro: microAVX2Asm}
	avx2Gemm      = &gemmKernel{name: "avx2", mr: 6, nr: 16, kc: 256, mc: 96, micro: microAVX2}
)

// gemmAVX512Asm14x32 accumulates a 14x32 tile of packed A times packed B
// over kc >= 1 steps into tile (row-major, 32 floats a row); see the .s file.
//
//go:noescape
func gemmAVX512Asm14x32(kc int, a, b, tile *float32)

// microAVX512Asm runs the assembly 14x32 kernel and applies the epilogue.
func microAVX512Asm(kc int, a, b, c []float32, ldc, rows, cols int, load bool, bias []float32, relu bool) {
	a = a[:kc*14]
	b = b[:kc*32]
	var tile [14 * 32]float32
	gemmAVX512Asm14x32(kc, &a[0], &b[0], &tile[0])
	if rows < 14 || cols < 32 {
		storeTile(tile[:], 32, c, ldc, rows, cols, load, bias, relu)
		return
	}
	var zero, bv0, bv1 archsimd.Float32x16
	if bias != nil {
		bv0 = archsimd.LoadFloat32x16Array((*[16]float32)(bias[0:16]))
		bv1 = archsimd.LoadFloat32x16Array((*[16]float32)(bias[16:32]))
	}
	for i := 0; i < 14; i++ {
		v0 := archsimd.LoadFloat32x16Array((*[16]float32)(tile[i*32 : i*32+16]))
		v1 := archsimd.LoadFloat32x16Array((*[16]float32)(tile[i*32+16 : i*32+32]))
		storeRowFloat32x16x2(c[i*ldc:i*ldc+32], load, bias != nil, relu, zero, bv0, bv1, v0, v1)
	}
}

// gemmAVX2Asm6x16 is the AVX2+FMA assembly kernel: a 6x16 tile, same
// contract as gemmAVX512Asm14x32.
//
//go:noescape
func gemmAVX2Asm6x16(kc int, a, b, tile *float32)

// microAVX2Asm runs the AVX2 assembly kernel and applies the epilogue.
func microAVX2Asm(kc int, a, b, c []float32, ldc, rows, cols int, load bool, bias []float32, relu bool) {
	a = a[:kc*6]
	b = b[:kc*16]
	var tile [6 * 16]float32
	gemmAVX2Asm6x16(kc, &a[0], &b[0], &tile[0])
	if rows < 6 || cols < 16 {
		storeTile(tile[:], 16, c, ldc, rows, cols, load, bias, relu)
		return
	}
	var zero, bv0, bv1 archsimd.Float32x8
	if bias != nil {
		bv0 = archsimd.LoadFloat32x8Array((*[8]float32)(bias[0:8]))
		bv1 = archsimd.LoadFloat32x8Array((*[8]float32)(bias[8:16]))
	}
	for i := 0; i < 6; i++ {
		v0 := archsimd.LoadFloat32x8Array((*[8]float32)(tile[i*16 : i*16+8]))
		v1 := archsimd.LoadFloat32x8Array((*[8]float32)(tile[i*16+8 : i*16+16]))
		storeRowFloat32x8x2(c[i*ldc:i*ldc+16], load, bias != nil, relu, zero, bv0, bv1, v0, v1)
	}
}

// microAVX512 is the 4x64 microkernel: 16 Float32x16 accumulators,
// 4 B vectors and one broadcast A value per step, K unrolled by 1.
func microAVX512(kc int, a, b, c []float32, ldc, rows, cols int, load bool, bias []float32, relu bool) {
	var c0_0, c0_1, c0_2, c0_3 archsimd.Float32x16
	var c1_0, c1_1, c1_2, c1_3 archsimd.Float32x16
	var c2_0, c2_1, c2_2, c2_3 archsimd.Float32x16
	var c3_0, c3_1, c3_2, c3_3 archsimd.Float32x16
	a = a[:kc*4]
	a0 := a[0*kc : 1*kc : 1*kc]
	a1 := a[1*kc : 2*kc : 2*kc]
	a2 := a[2*kc : 3*kc : 3*kc]
	a3 := a[3*kc : 4*kc : 4*kc]
	b = b[:kc*64]
	kk := 0
	for ; kk < kc; kk++ {
		bk := b[kk*64 : kk*64+64 : kk*64+64]
		b0 := archsimd.LoadFloat32x16Array((*[16]float32)(bk[0:16]))
		b1 := archsimd.LoadFloat32x16Array((*[16]float32)(bk[16:32]))
		b2 := archsimd.LoadFloat32x16Array((*[16]float32)(bk[32:48]))
		b3 := archsimd.LoadFloat32x16Array((*[16]float32)(bk[48:64]))
		x0 := archsimd.BroadcastFloat32x16(a0[kk])
		c0_0 = b0.MulAdd(x0, c0_0)
		c0_1 = b1.MulAdd(x0, c0_1)
		c0_2 = b2.MulAdd(x0, c0_2)
		c0_3 = b3.MulAdd(x0, c0_3)
		x1 := archsimd.BroadcastFloat32x16(a1[kk])
		c1_0 = b0.MulAdd(x1, c1_0)
		c1_1 = b1.MulAdd(x1, c1_1)
		c1_2 = b2.MulAdd(x1, c1_2)
		c1_3 = b3.MulAdd(x1, c1_3)
		x2 := archsimd.BroadcastFloat32x16(a2[kk])
		c2_0 = b0.MulAdd(x2, c2_0)
		c2_1 = b1.MulAdd(x2, c2_1)
		c2_2 = b2.MulAdd(x2, c2_2)
		c2_3 = b3.MulAdd(x2, c2_3)
		x3 := archsimd.BroadcastFloat32x16(a3[kk])
		c3_0 = b0.MulAdd(x3, c3_0)
		c3_1 = b1.MulAdd(x3, c3_1)
		c3_2 = b2.MulAdd(x3, c3_2)
		c3_3 = b3.MulAdd(x3, c3_3)
	}
	if rows == 4 && cols == 64 {
		var zero, bv0, bv1, bv2, bv3 archsimd.Float32x16
		if bias != nil {
			bv0 = archsimd.LoadFloat32x16Array((*[16]float32)(bias[0:16]))
			bv1 = archsimd.LoadFloat32x16Array((*[16]float32)(bias[16:32]))
			bv2 = archsimd.LoadFloat32x16Array((*[16]float32)(bias[32:48]))
			bv3 = archsimd.LoadFloat32x16Array((*[16]float32)(bias[48:64]))
		}
		storeRowFloat32x16x4(c[0*ldc:0*ldc+64], load, bias != nil, relu, zero, bv0, bv1, bv2, bv3, c0_0, c0_1, c0_2, c0_3)
		storeRowFloat32x16x4(c[1*ldc:1*ldc+64], load, bias != nil, relu, zero, bv0, bv1, bv2, bv3, c1_0, c1_1, c1_2, c1_3)
		storeRowFloat32x16x4(c[2*ldc:2*ldc+64], load, bias != nil, relu, zero, bv0, bv1, bv2, bv3, c2_0, c2_1, c2_2, c2_3)
		storeRowFloat32x16x4(c[3*ldc:3*ldc+64], load, bias != nil, relu, zero, bv0, bv1, bv2, bv3, c3_0, c3_1, c3_2, c3_3)
		return
	}
	var tile [256]float32
	c0_0.StoreArray((*[16]float32)(tile[0:16]))
	c0_1.StoreArray((*[16]float32)(tile[16:32]))
	c0_2.StoreArray((*[16]float32)(tile[32:48]))
	c0_3.StoreArray((*[16]float32)(tile[48:64]))
	c1_0.StoreArray((*[16]float32)(tile[64:80]))
	c1_1.StoreArray((*[16]float32)(tile[80:96]))
	c1_2.StoreArray((*[16]float32)(tile[96:112]))
	c1_3.StoreArray((*[16]float32)(tile[112:128]))
	c2_0.StoreArray((*[16]float32)(tile[128:144]))
	c2_1.StoreArray((*[16]float32)(tile[144:160]))
	c2_2.StoreArray((*[16]float32)(tile[160:176]))
	c2_3.StoreArray((*[16]float32)(tile[176:192]))
	c3_0.StoreArray((*[16]float32)(tile[192:208]))
	c3_1.StoreArray((*[16]float32)(tile[208:224]))
	c3_2.StoreArray((*[16]float32)(tile[224:240]))
	c3_3.StoreArray((*[16]float32)(tile[240:256]))
	storeTile(tile[:], 64, c, ldc, rows, cols, load, bias, relu)
}

// storeRowFloat32x16x4 writes one full row of 4 vectors with the GEMM epilogue.
func storeRowFloat32x16x4(row []float32, load, hasBias, relu bool, zero, b0, b1, b2, b3, v0, v1, v2, v3 archsimd.Float32x16) {
	row = row[:64]
	if load {
		v0 = archsimd.LoadFloat32x16Array((*[16]float32)(row[0:16])).Add(v0)
	}
	if hasBias {
		v0 = v0.Add(b0)
	}
	if relu {
		v0 = v0.Max(zero)
	}
	v0.StoreArray((*[16]float32)(row[0:16]))
	if load {
		v1 = archsimd.LoadFloat32x16Array((*[16]float32)(row[16:32])).Add(v1)
	}
	if hasBias {
		v1 = v1.Add(b1)
	}
	if relu {
		v1 = v1.Max(zero)
	}
	v1.StoreArray((*[16]float32)(row[16:32]))
	if load {
		v2 = archsimd.LoadFloat32x16Array((*[16]float32)(row[32:48])).Add(v2)
	}
	if hasBias {
		v2 = v2.Add(b2)
	}
	if relu {
		v2 = v2.Max(zero)
	}
	v2.StoreArray((*[16]float32)(row[32:48]))
	if load {
		v3 = archsimd.LoadFloat32x16Array((*[16]float32)(row[48:64])).Add(v3)
	}
	if hasBias {
		v3 = v3.Add(b3)
	}
	if relu {
		v3 = v3.Max(zero)
	}
	v3.StoreArray((*[16]float32)(row[48:64]))
}

// storeRowFloat32x16x2 writes one full row of 2 vectors with the GEMM epilogue.
func storeRowFloat32x16x2(row []float32, load, hasBias, relu bool, zero, b0, b1, v0, v1 archsimd.Float32x16) {
	row = row[:32]
	if load {
		v0 = archsimd.LoadFloat32x16Array((*[16]float32)(row[0:16])).Add(v0)
	}
	if hasBias {
		v0 = v0.Add(b0)
	}
	if relu {
		v0 = v0.Max(zero)
	}
	v0.StoreArray((*[16]float32)(row[0:16]))
	if load {
		v1 = archsimd.LoadFloat32x16Array((*[16]float32)(row[16:32])).Add(v1)
	}
	if hasBias {
		v1 = v1.Add(b1)
	}
	if relu {
		v1 = v1.Max(zero)
	}
	v1.StoreArray((*[16]float32)(row[16:32]))
}

// microAVX2 is the 6x16 microkernel: 12 Float32x8 accumulators,
// 2 B vectors and one broadcast A value per step, K unrolled by 1.
func microAVX2(kc int, a, b, c []float32, ldc, rows, cols int, load bool, bias []float32, relu bool) {
	var c0_0, c0_1 archsimd.Float32x8
	var c1_0, c1_1 archsimd.Float32x8
	var c2_0, c2_1 archsimd.Float32x8
	var c3_0, c3_1 archsimd.Float32x8
	var c4_0, c4_1 archsimd.Float32x8
	var c5_0, c5_1 archsimd.Float32x8
	a = a[:kc*6]
	a0 := a[0*kc : 1*kc : 1*kc]
	a1 := a[1*kc : 2*kc : 2*kc]
	a2 := a[2*kc : 3*kc : 3*kc]
	a3 := a[3*kc : 4*kc : 4*kc]
	a4 := a[4*kc : 5*kc : 5*kc]
	a5 := a[5*kc : 6*kc : 6*kc]
	b = b[:kc*16]
	kk := 0
	for ; kk < kc; kk++ {
		bk := b[kk*16 : kk*16+16 : kk*16+16]
		b0 := archsimd.LoadFloat32x8Array((*[8]float32)(bk[0:8]))
		b1 := archsimd.LoadFloat32x8Array((*[8]float32)(bk[8:16]))
		x0 := archsimd.BroadcastFloat32x8(a0[kk])
		c0_0 = b0.MulAdd(x0, c0_0)
		c0_1 = b1.MulAdd(x0, c0_1)
		x1 := archsimd.BroadcastFloat32x8(a1[kk])
		c1_0 = b0.MulAdd(x1, c1_0)
		c1_1 = b1.MulAdd(x1, c1_1)
		x2 := archsimd.BroadcastFloat32x8(a2[kk])
		c2_0 = b0.MulAdd(x2, c2_0)
		c2_1 = b1.MulAdd(x2, c2_1)
		x3 := archsimd.BroadcastFloat32x8(a3[kk])
		c3_0 = b0.MulAdd(x3, c3_0)
		c3_1 = b1.MulAdd(x3, c3_1)
		x4 := archsimd.BroadcastFloat32x8(a4[kk])
		c4_0 = b0.MulAdd(x4, c4_0)
		c4_1 = b1.MulAdd(x4, c4_1)
		x5 := archsimd.BroadcastFloat32x8(a5[kk])
		c5_0 = b0.MulAdd(x5, c5_0)
		c5_1 = b1.MulAdd(x5, c5_1)
	}
	if rows == 6 && cols == 16 {
		var zero, bv0, bv1 archsimd.Float32x8
		if bias != nil {
			bv0 = archsimd.LoadFloat32x8Array((*[8]float32)(bias[0:8]))
			bv1 = archsimd.LoadFloat32x8Array((*[8]float32)(bias[8:16]))
		}
		storeRowFloat32x8x2(c[0*ldc:0*ldc+16], load, bias != nil, relu, zero, bv0, bv1, c0_0, c0_1)
		storeRowFloat32x8x2(c[1*ldc:1*ldc+16], load, bias != nil, relu, zero, bv0, bv1, c1_0, c1_1)
		storeRowFloat32x8x2(c[2*ldc:2*ldc+16], load, bias != nil, relu, zero, bv0, bv1, c2_0, c2_1)
		storeRowFloat32x8x2(c[3*ldc:3*ldc+16], load, bias != nil, relu, zero, bv0, bv1, c3_0, c3_1)
		storeRowFloat32x8x2(c[4*ldc:4*ldc+16], load, bias != nil, relu, zero, bv0, bv1, c4_0, c4_1)
		storeRowFloat32x8x2(c[5*ldc:5*ldc+16], load, bias != nil, relu, zero, bv0, bv1, c5_0, c5_1)
		return
	}
	var tile [96]float32
	c0_0.StoreArray((*[8]float32)(tile[0:8]))
	c0_1.StoreArray((*[8]float32)(tile[8:16]))
	c1_0.StoreArray((*[8]float32)(tile[16:24]))
	c1_1.StoreArray((*[8]float32)(tile[24:32]))
	c2_0.StoreArray((*[8]float32)(tile[32:40]))
	c2_1.StoreArray((*[8]float32)(tile[40:48]))
	c3_0.StoreArray((*[8]float32)(tile[48:56]))
	c3_1.StoreArray((*[8]float32)(tile[56:64]))
	c4_0.StoreArray((*[8]float32)(tile[64:72]))
	c4_1.StoreArray((*[8]float32)(tile[72:80]))
	c5_0.StoreArray((*[8]float32)(tile[80:88]))
	c5_1.StoreArray((*[8]float32)(tile[88:96]))
	storeTile(tile[:], 16, c, ldc, rows, cols, load, bias, relu)
}

// storeRowFloat32x8x2 writes one full row of 2 vectors with the GEMM epilogue.
func storeRowFloat32x8x2(row []float32, load, hasBias, relu bool, zero, b0, b1, v0, v1 archsimd.Float32x8) {
	row = row[:16]
	if load {
		v0 = archsimd.LoadFloat32x8Array((*[8]float32)(row[0:8])).Add(v0)
	}
	if hasBias {
		v0 = v0.Add(b0)
	}
	if relu {
		v0 = v0.Max(zero)
	}
	v0.StoreArray((*[8]float32)(row[0:8]))
	if load {
		v1 = archsimd.LoadFloat32x8Array((*[8]float32)(row[8:16])).Add(v1)
	}
	if hasBias {
		v1 = v1.Add(b1)
	}
	if relu {
		v1 = v1.Max(zero)
	}
	v1.StoreArray((*[8]float32)(row[8:16]))
}
