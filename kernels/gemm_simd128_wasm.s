//go:build goexperiment.simd && wasm

#include "textflag.h"

// func gemmSIMD128Asm6x8(kc int, a, b, tile *float32)
//
// Accumulates a 6x8 tile over kc >= 1 steps: tile[i*8+j] =
// sum_k a[i*kc+k] * b[k*8+j] (packed layouts of gemmKernel).
// Locals: R0 = steps left, R1 = a (row 0, step k), R2 = b, R3 = tile,
// R4-R8 = byte offsets of A rows 1-5 from row 0; V0-V11 accumulators
// (row i, vector v in V(i*2+v)), V12-V13 the B row, V14 the broadcast A value.
// Addresses are computed explicitly (Get Rn; I32WrapI64) before every load
// and store; loads carry their constant offset.
TEXT ·gemmSIMD128Asm6x8(SB), NOSPLIT, $0-32
	I64Load kc+0(FP)
	I64Const $2
	I64Shl
	Set R4
	Get R4
	I64Const $2
	I64Mul
	Set R5
	Get R4
	I64Const $3
	I64Mul
	Set R6
	Get R4
	I64Const $4
	I64Mul
	Set R7
	Get R4
	I64Const $5
	I64Mul
	Set R8
	I64Load kc+0(FP)
	Set R0
	I64Load a+8(FP)
	Set R1
	I64Load b+16(FP)
	Set R2
	I64Load tile+24(FP)
	Set R3
	I32Const $0
	I32x4Splat
	Set V0
	I32Const $0
	I32x4Splat
	Set V1
	I32Const $0
	I32x4Splat
	Set V2
	I32Const $0
	I32x4Splat
	Set V3
	I32Const $0
	I32x4Splat
	Set V4
	I32Const $0
	I32x4Splat
	Set V5
	I32Const $0
	I32x4Splat
	Set V6
	I32Const $0
	I32x4Splat
	Set V7
	I32Const $0
	I32x4Splat
	Set V8
	I32Const $0
	I32x4Splat
	Set V9
	I32Const $0
	I32x4Splat
	Set V10
	I32Const $0
	I32x4Splat
	Set V11
loop:
	Loop
		Get R2
		I32WrapI64
		V128Load $0
		Set V12
		Get R2
		I32WrapI64
		V128Load $16
		Set V13
		Get R1
		I32WrapI64
		F32Load $0
		F32x4Splat
		Set V14
		Get V14
		Get V12
		F32x4Mul
		Get V0
		F32x4Add
		Set V0
		Get V14
		Get V13
		F32x4Mul
		Get V1
		F32x4Add
		Set V1
		Get R1
		Get R4
		I64Add
		I32WrapI64
		F32Load $0
		F32x4Splat
		Set V14
		Get V14
		Get V12
		F32x4Mul
		Get V2
		F32x4Add
		Set V2
		Get V14
		Get V13
		F32x4Mul
		Get V3
		F32x4Add
		Set V3
		Get R1
		Get R5
		I64Add
		I32WrapI64
		F32Load $0
		F32x4Splat
		Set V14
		Get V14
		Get V12
		F32x4Mul
		Get V4
		F32x4Add
		Set V4
		Get V14
		Get V13
		F32x4Mul
		Get V5
		F32x4Add
		Set V5
		Get R1
		Get R6
		I64Add
		I32WrapI64
		F32Load $0
		F32x4Splat
		Set V14
		Get V14
		Get V12
		F32x4Mul
		Get V6
		F32x4Add
		Set V6
		Get V14
		Get V13
		F32x4Mul
		Get V7
		F32x4Add
		Set V7
		Get R1
		Get R7
		I64Add
		I32WrapI64
		F32Load $0
		F32x4Splat
		Set V14
		Get V14
		Get V12
		F32x4Mul
		Get V8
		F32x4Add
		Set V8
		Get V14
		Get V13
		F32x4Mul
		Get V9
		F32x4Add
		Set V9
		Get R1
		Get R8
		I64Add
		I32WrapI64
		F32Load $0
		F32x4Splat
		Set V14
		Get V14
		Get V12
		F32x4Mul
		Get V10
		F32x4Add
		Set V10
		Get V14
		Get V13
		F32x4Mul
		Get V11
		F32x4Add
		Set V11
		Get R1
		I64Const $4
		I64Add
		Set R1
		Get R2
		I64Const $32
		I64Add
		Set R2
		Get R0
		I64Const $1
		I64Sub
		Tee R0
		I64Eqz
		I32Eqz
		BrIf loop
	End
	Get R3
	I64Const $0
	I64Add
	I32WrapI64
	Get V0
	V128Store $0
	Get R3
	I64Const $16
	I64Add
	I32WrapI64
	Get V1
	V128Store $0
	Get R3
	I64Const $32
	I64Add
	I32WrapI64
	Get V2
	V128Store $0
	Get R3
	I64Const $48
	I64Add
	I32WrapI64
	Get V3
	V128Store $0
	Get R3
	I64Const $64
	I64Add
	I32WrapI64
	Get V4
	V128Store $0
	Get R3
	I64Const $80
	I64Add
	I32WrapI64
	Get V5
	V128Store $0
	Get R3
	I64Const $96
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R3
	I64Const $112
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R3
	I64Const $128
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R3
	I64Const $144
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R3
	I64Const $160
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R3
	I64Const $176
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	RET
