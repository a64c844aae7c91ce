//go:build goexperiment.simd && wasm

#include "textflag.h"

// Winograd F(4x4,3x3) transforms of interior tiles, 4 channels per step,
// in wasm assembly: the same arithmetic, in the same order, as winoIn6x4 and
// winoOut6x4 in winograd_wasm.go, but with every vector in a wasm local
// (Go's wasm backend keeps SIMD values in linear memory). Generated
// mechanically from the formulas; keep in step with winograd_wasm.go.
// All strides are in bytes; chunks >= 1.

// func winoIn4WasmAsm(src *float32, rowStep, colStep int, dst *float32, plane int, tmp *float32, chunks int)
TEXT ·winoIn4WasmAsm(SB), NOSPLIT, $0-56
	I64Load src+0(FP)
	Set R1
	I64Load rowStep+8(FP)
	Set R2
	I64Load colStep+16(FP)
	Set R3
	I64Load dst+24(FP)
	Set R4
	I64Load plane+32(FP)
	Set R5
	I64Load tmp+40(FP)
	Set R6
	I64Load chunks+48(FP)
	Set R0
	I32Const $1082130432
	I32x4Splat
	Set V12
	I32Const $1084227584
	I32x4Splat
	Set V13
	I32Const $1073741824
	I32x4Splat
	Set V14
loop:
	Loop
	Get R1
	Get R2
	I64Const $0
	I64Mul
	I64Add
	Get R3
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $0
	I64Mul
	I64Add
	Get R3
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $0
	I64Mul
	I64Add
	Get R3
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $0
	I64Mul
	I64Add
	Get R3
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $0
	I64Mul
	I64Add
	Get R3
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $0
	I64Mul
	I64Add
	Get R3
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R6
	I64Const $0
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R6
	I64Const $16
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R6
	I64Const $32
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R6
	I64Const $48
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R6
	I64Const $64
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R6
	I64Const $80
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R1
	Get R2
	I64Const $1
	I64Mul
	I64Add
	Get R3
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $1
	I64Mul
	I64Add
	Get R3
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $1
	I64Mul
	I64Add
	Get R3
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $1
	I64Mul
	I64Add
	Get R3
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $1
	I64Mul
	I64Add
	Get R3
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $1
	I64Mul
	I64Add
	Get R3
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R6
	I64Const $96
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R6
	I64Const $112
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R6
	I64Const $128
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R6
	I64Const $144
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R6
	I64Const $160
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R6
	I64Const $176
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R1
	Get R2
	I64Const $2
	I64Mul
	I64Add
	Get R3
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $2
	I64Mul
	I64Add
	Get R3
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $2
	I64Mul
	I64Add
	Get R3
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $2
	I64Mul
	I64Add
	Get R3
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $2
	I64Mul
	I64Add
	Get R3
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $2
	I64Mul
	I64Add
	Get R3
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R6
	I64Const $192
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R6
	I64Const $208
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R6
	I64Const $224
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R6
	I64Const $240
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R6
	I64Const $256
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R6
	I64Const $272
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R1
	Get R2
	I64Const $3
	I64Mul
	I64Add
	Get R3
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $3
	I64Mul
	I64Add
	Get R3
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $3
	I64Mul
	I64Add
	Get R3
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $3
	I64Mul
	I64Add
	Get R3
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $3
	I64Mul
	I64Add
	Get R3
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $3
	I64Mul
	I64Add
	Get R3
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R6
	I64Const $288
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R6
	I64Const $304
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R6
	I64Const $320
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R6
	I64Const $336
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R6
	I64Const $352
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R6
	I64Const $368
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R1
	Get R2
	I64Const $4
	I64Mul
	I64Add
	Get R3
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $4
	I64Mul
	I64Add
	Get R3
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $4
	I64Mul
	I64Add
	Get R3
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $4
	I64Mul
	I64Add
	Get R3
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $4
	I64Mul
	I64Add
	Get R3
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $4
	I64Mul
	I64Add
	Get R3
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R6
	I64Const $384
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R6
	I64Const $400
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R6
	I64Const $416
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R6
	I64Const $432
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R6
	I64Const $448
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R6
	I64Const $464
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R1
	Get R2
	I64Const $5
	I64Mul
	I64Add
	Get R3
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $5
	I64Mul
	I64Add
	Get R3
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $5
	I64Mul
	I64Add
	Get R3
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $5
	I64Mul
	I64Add
	Get R3
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $5
	I64Mul
	I64Add
	Get R3
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $5
	I64Mul
	I64Add
	Get R3
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R6
	I64Const $480
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R6
	I64Const $496
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R6
	I64Const $512
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R6
	I64Const $528
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R6
	I64Const $544
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R6
	I64Const $560
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R6
	I32WrapI64
	V128Load $0
	Set V0
	Get R6
	I32WrapI64
	V128Load $96
	Set V1
	Get R6
	I32WrapI64
	V128Load $192
	Set V2
	Get R6
	I32WrapI64
	V128Load $288
	Set V3
	Get R6
	I32WrapI64
	V128Load $384
	Set V4
	Get R6
	I32WrapI64
	V128Load $480
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R4
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R4
	Get R5
	I64Const $6
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R4
	Get R5
	I64Const $12
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R4
	Get R5
	I64Const $18
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R4
	Get R5
	I64Const $24
	I64Mul
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R4
	Get R5
	I64Const $30
	I64Mul
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R6
	I32WrapI64
	V128Load $16
	Set V0
	Get R6
	I32WrapI64
	V128Load $112
	Set V1
	Get R6
	I32WrapI64
	V128Load $208
	Set V2
	Get R6
	I32WrapI64
	V128Load $304
	Set V3
	Get R6
	I32WrapI64
	V128Load $400
	Set V4
	Get R6
	I32WrapI64
	V128Load $496
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R4
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R4
	Get R5
	I64Const $7
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R4
	Get R5
	I64Const $13
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R4
	Get R5
	I64Const $19
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R4
	Get R5
	I64Const $25
	I64Mul
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R4
	Get R5
	I64Const $31
	I64Mul
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R6
	I32WrapI64
	V128Load $32
	Set V0
	Get R6
	I32WrapI64
	V128Load $128
	Set V1
	Get R6
	I32WrapI64
	V128Load $224
	Set V2
	Get R6
	I32WrapI64
	V128Load $320
	Set V3
	Get R6
	I32WrapI64
	V128Load $416
	Set V4
	Get R6
	I32WrapI64
	V128Load $512
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R4
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R4
	Get R5
	I64Const $8
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R4
	Get R5
	I64Const $14
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R4
	Get R5
	I64Const $20
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R4
	Get R5
	I64Const $26
	I64Mul
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R4
	Get R5
	I64Const $32
	I64Mul
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R6
	I32WrapI64
	V128Load $48
	Set V0
	Get R6
	I32WrapI64
	V128Load $144
	Set V1
	Get R6
	I32WrapI64
	V128Load $240
	Set V2
	Get R6
	I32WrapI64
	V128Load $336
	Set V3
	Get R6
	I32WrapI64
	V128Load $432
	Set V4
	Get R6
	I32WrapI64
	V128Load $528
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R4
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R4
	Get R5
	I64Const $9
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R4
	Get R5
	I64Const $15
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R4
	Get R5
	I64Const $21
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R4
	Get R5
	I64Const $27
	I64Mul
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R4
	Get R5
	I64Const $33
	I64Mul
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R6
	I32WrapI64
	V128Load $64
	Set V0
	Get R6
	I32WrapI64
	V128Load $160
	Set V1
	Get R6
	I32WrapI64
	V128Load $256
	Set V2
	Get R6
	I32WrapI64
	V128Load $352
	Set V3
	Get R6
	I32WrapI64
	V128Load $448
	Set V4
	Get R6
	I32WrapI64
	V128Load $544
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R4
	Get R5
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R4
	Get R5
	I64Const $10
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R4
	Get R5
	I64Const $16
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R4
	Get R5
	I64Const $22
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R4
	Get R5
	I64Const $28
	I64Mul
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R4
	Get R5
	I64Const $34
	I64Mul
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R6
	I32WrapI64
	V128Load $80
	Set V0
	Get R6
	I32WrapI64
	V128Load $176
	Set V1
	Get R6
	I32WrapI64
	V128Load $272
	Set V2
	Get R6
	I32WrapI64
	V128Load $368
	Set V3
	Get R6
	I32WrapI64
	V128Load $464
	Set V4
	Get R6
	I32WrapI64
	V128Load $560
	Set V5
	Get V0
	Get V12
	F32x4Mul
	Get V2
	Get V13
	F32x4Mul
	F32x4Sub
	Get V4
	F32x4Add
	Set V6
	Get V3
	Get V4
	F32x4Add
	Get V1
	Get V2
	F32x4Add
	Get V12
	F32x4Mul
	F32x4Sub
	Set V7
	Get V1
	Get V2
	F32x4Sub
	Get V12
	F32x4Mul
	Get V4
	Get V3
	F32x4Sub
	F32x4Add
	Set V8
	Get V3
	Get V1
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V9
	Get V1
	Get V3
	F32x4Sub
	Get V14
	F32x4Mul
	Get V4
	Get V2
	F32x4Sub
	F32x4Add
	Set V10
	Get V1
	Get V12
	F32x4Mul
	Get V3
	Get V13
	F32x4Mul
	F32x4Sub
	Get V5
	F32x4Add
	Set V11
	Get R4
	Get R5
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R4
	Get R5
	I64Const $11
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R4
	Get R5
	I64Const $17
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R4
	Get R5
	I64Const $23
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R4
	Get R5
	I64Const $29
	I64Mul
	I64Add
	I32WrapI64
	Get V10
	V128Store $0
	Get R4
	Get R5
	I64Const $35
	I64Mul
	I64Add
	I32WrapI64
	Get V11
	V128Store $0
	Get R1
	I64Const $16
	I64Add
	Set R1
	Get R4
	I64Const $16
	I64Add
	Set R4
	Get R0
	I64Const $1
	I64Sub
	Tee R0
	I64Eqz
	I32Eqz
	BrIf loop
	End
	RET

// func winoOut4WasmAsm(mo *float32, plane int, bias, dst *float32, rowStep, colStep int, tmp *float32, chunks int)
TEXT ·winoOut4WasmAsm(SB), NOSPLIT, $0-64
	I64Load mo+0(FP)
	Set R1
	I64Load plane+8(FP)
	Set R2
	I64Load bias+16(FP)
	Set R6
	I64Load dst+24(FP)
	Set R3
	I64Load rowStep+32(FP)
	Set R4
	I64Load colStep+40(FP)
	Set R5
	I64Load tmp+48(FP)
	Set R7
	I64Load chunks+56(FP)
	Set R0
	I32Const $1073741824
	I32x4Splat
	Set V13
	I32Const $1082130432
	I32x4Splat
	Set V14
	I32Const $1090519040
	I32x4Splat
	Set V15
loop:
	Loop
	Get R1
	Get R2
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $6
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $12
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $18
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $24
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $30
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $0
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $16
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $32
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $48
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $7
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $13
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $19
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $25
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $31
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $64
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $80
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $96
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $112
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $8
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $14
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $20
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $26
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $32
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $128
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $144
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $160
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $176
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $9
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $15
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $21
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $27
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $33
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $192
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $208
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $224
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $240
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $10
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $16
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $22
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $28
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $34
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $256
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $272
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $288
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $304
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $11
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $17
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $23
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $29
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $35
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $320
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $336
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $352
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $368
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R6
	I32WrapI64
	V128Load $0
	Set V12
	Get R7
	I32WrapI64
	V128Load $0
	Set V0
	Get R7
	I32WrapI64
	V128Load $64
	Set V1
	Get R7
	I32WrapI64
	V128Load $128
	Set V2
	Get R7
	I32WrapI64
	V128Load $192
	Set V3
	Get R7
	I32WrapI64
	V128Load $256
	Set V4
	Get R7
	I32WrapI64
	V128Load $320
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get V6
	Get V12
	F32x4Add
	Set V6
	Get R3
	Get R4
	I64Const $0
	I64Mul
	I64Add
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get V7
	Get V12
	F32x4Add
	Set V7
	Get R3
	Get R4
	I64Const $0
	I64Mul
	I64Add
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get V8
	Get V12
	F32x4Add
	Set V8
	Get R3
	Get R4
	I64Const $0
	I64Mul
	I64Add
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get V9
	Get V12
	F32x4Add
	Set V9
	Get R3
	Get R4
	I64Const $0
	I64Mul
	I64Add
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R7
	I32WrapI64
	V128Load $16
	Set V0
	Get R7
	I32WrapI64
	V128Load $80
	Set V1
	Get R7
	I32WrapI64
	V128Load $144
	Set V2
	Get R7
	I32WrapI64
	V128Load $208
	Set V3
	Get R7
	I32WrapI64
	V128Load $272
	Set V4
	Get R7
	I32WrapI64
	V128Load $336
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get V6
	Get V12
	F32x4Add
	Set V6
	Get R3
	Get R4
	I64Const $1
	I64Mul
	I64Add
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get V7
	Get V12
	F32x4Add
	Set V7
	Get R3
	Get R4
	I64Const $1
	I64Mul
	I64Add
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get V8
	Get V12
	F32x4Add
	Set V8
	Get R3
	Get R4
	I64Const $1
	I64Mul
	I64Add
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get V9
	Get V12
	F32x4Add
	Set V9
	Get R3
	Get R4
	I64Const $1
	I64Mul
	I64Add
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R7
	I32WrapI64
	V128Load $32
	Set V0
	Get R7
	I32WrapI64
	V128Load $96
	Set V1
	Get R7
	I32WrapI64
	V128Load $160
	Set V2
	Get R7
	I32WrapI64
	V128Load $224
	Set V3
	Get R7
	I32WrapI64
	V128Load $288
	Set V4
	Get R7
	I32WrapI64
	V128Load $352
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get V6
	Get V12
	F32x4Add
	Set V6
	Get R3
	Get R4
	I64Const $2
	I64Mul
	I64Add
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get V7
	Get V12
	F32x4Add
	Set V7
	Get R3
	Get R4
	I64Const $2
	I64Mul
	I64Add
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get V8
	Get V12
	F32x4Add
	Set V8
	Get R3
	Get R4
	I64Const $2
	I64Mul
	I64Add
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get V9
	Get V12
	F32x4Add
	Set V9
	Get R3
	Get R4
	I64Const $2
	I64Mul
	I64Add
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R7
	I32WrapI64
	V128Load $48
	Set V0
	Get R7
	I32WrapI64
	V128Load $112
	Set V1
	Get R7
	I32WrapI64
	V128Load $176
	Set V2
	Get R7
	I32WrapI64
	V128Load $240
	Set V3
	Get R7
	I32WrapI64
	V128Load $304
	Set V4
	Get R7
	I32WrapI64
	V128Load $368
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get V6
	Get V12
	F32x4Add
	Set V6
	Get R3
	Get R4
	I64Const $3
	I64Mul
	I64Add
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get V7
	Get V12
	F32x4Add
	Set V7
	Get R3
	Get R4
	I64Const $3
	I64Mul
	I64Add
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get V8
	Get V12
	F32x4Add
	Set V8
	Get R3
	Get R4
	I64Const $3
	I64Mul
	I64Add
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get V9
	Get V12
	F32x4Add
	Set V9
	Get R3
	Get R4
	I64Const $3
	I64Mul
	I64Add
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	I64Const $16
	I64Add
	Set R1
	Get R6
	I64Const $16
	I64Add
	Set R6
	Get R3
	I64Const $16
	I64Add
	Set R3
	Get R0
	I64Const $1
	I64Sub
	Tee R0
	I64Eqz
	I32Eqz
	BrIf loop
	End
	RET

// func winoOut4ReLUWasmAsm(mo *float32, plane int, bias, dst *float32, rowStep, colStep int, tmp *float32, chunks int)
TEXT ·winoOut4ReLUWasmAsm(SB), NOSPLIT, $0-64
	I64Load mo+0(FP)
	Set R1
	I64Load plane+8(FP)
	Set R2
	I64Load bias+16(FP)
	Set R6
	I64Load dst+24(FP)
	Set R3
	I64Load rowStep+32(FP)
	Set R4
	I64Load colStep+40(FP)
	Set R5
	I64Load tmp+48(FP)
	Set R7
	I64Load chunks+56(FP)
	Set R0
	I32Const $1073741824
	I32x4Splat
	Set V13
	I32Const $1082130432
	I32x4Splat
	Set V14
	I32Const $1090519040
	I32x4Splat
	Set V15
loop:
	Loop
	Get R1
	Get R2
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $6
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $12
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $18
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $24
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $30
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $0
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $16
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $32
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $48
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $7
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $13
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $19
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $25
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $31
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $64
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $80
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $96
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $112
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $8
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $14
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $20
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $26
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $32
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $128
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $144
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $160
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $176
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $9
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $15
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $21
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $27
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $33
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $192
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $208
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $224
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $240
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $4
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $10
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $16
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $22
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $28
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $34
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $256
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $272
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $288
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $304
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	Get R2
	I64Const $5
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V0
	Get R1
	Get R2
	I64Const $11
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V1
	Get R1
	Get R2
	I64Const $17
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V2
	Get R1
	Get R2
	I64Const $23
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V3
	Get R1
	Get R2
	I64Const $29
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V4
	Get R1
	Get R2
	I64Const $35
	I64Mul
	I64Add
	I32WrapI64
	V128Load $0
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get R7
	I64Const $320
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get R7
	I64Const $336
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get R7
	I64Const $352
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get R7
	I64Const $368
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R6
	I32WrapI64
	V128Load $0
	Set V12
	Get R7
	I32WrapI64
	V128Load $0
	Set V0
	Get R7
	I32WrapI64
	V128Load $64
	Set V1
	Get R7
	I32WrapI64
	V128Load $128
	Set V2
	Get R7
	I32WrapI64
	V128Load $192
	Set V3
	Get R7
	I32WrapI64
	V128Load $256
	Set V4
	Get R7
	I32WrapI64
	V128Load $320
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get V6
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V6
	Get R3
	Get R4
	I64Const $0
	I64Mul
	I64Add
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get V7
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V7
	Get R3
	Get R4
	I64Const $0
	I64Mul
	I64Add
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get V8
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V8
	Get R3
	Get R4
	I64Const $0
	I64Mul
	I64Add
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get V9
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V9
	Get R3
	Get R4
	I64Const $0
	I64Mul
	I64Add
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R7
	I32WrapI64
	V128Load $16
	Set V0
	Get R7
	I32WrapI64
	V128Load $80
	Set V1
	Get R7
	I32WrapI64
	V128Load $144
	Set V2
	Get R7
	I32WrapI64
	V128Load $208
	Set V3
	Get R7
	I32WrapI64
	V128Load $272
	Set V4
	Get R7
	I32WrapI64
	V128Load $336
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get V6
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V6
	Get R3
	Get R4
	I64Const $1
	I64Mul
	I64Add
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get V7
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V7
	Get R3
	Get R4
	I64Const $1
	I64Mul
	I64Add
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get V8
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V8
	Get R3
	Get R4
	I64Const $1
	I64Mul
	I64Add
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get V9
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V9
	Get R3
	Get R4
	I64Const $1
	I64Mul
	I64Add
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R7
	I32WrapI64
	V128Load $32
	Set V0
	Get R7
	I32WrapI64
	V128Load $96
	Set V1
	Get R7
	I32WrapI64
	V128Load $160
	Set V2
	Get R7
	I32WrapI64
	V128Load $224
	Set V3
	Get R7
	I32WrapI64
	V128Load $288
	Set V4
	Get R7
	I32WrapI64
	V128Load $352
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get V6
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V6
	Get R3
	Get R4
	I64Const $2
	I64Mul
	I64Add
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get V7
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V7
	Get R3
	Get R4
	I64Const $2
	I64Mul
	I64Add
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get V8
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V8
	Get R3
	Get R4
	I64Const $2
	I64Mul
	I64Add
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get V9
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V9
	Get R3
	Get R4
	I64Const $2
	I64Mul
	I64Add
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R7
	I32WrapI64
	V128Load $48
	Set V0
	Get R7
	I32WrapI64
	V128Load $112
	Set V1
	Get R7
	I32WrapI64
	V128Load $176
	Set V2
	Get R7
	I32WrapI64
	V128Load $240
	Set V3
	Get R7
	I32WrapI64
	V128Load $304
	Set V4
	Get R7
	I32WrapI64
	V128Load $368
	Set V5
	Get V1
	Get V2
	F32x4Add
	Set V10
	Get V1
	Get V2
	F32x4Sub
	Set V11
	Get V3
	Get V4
	F32x4Add
	Set V1
	Get V3
	Get V4
	F32x4Sub
	Set V2
	Get V0
	Get V10
	F32x4Add
	Get V1
	F32x4Add
	Set V6
	Get V11
	Get V2
	Get V13
	F32x4Mul
	F32x4Add
	Set V7
	Get V10
	Get V1
	Get V14
	F32x4Mul
	F32x4Add
	Set V8
	Get V11
	Get V2
	Get V15
	F32x4Mul
	F32x4Add
	Get V5
	F32x4Add
	Set V9
	Get V6
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V6
	Get R3
	Get R4
	I64Const $3
	I64Mul
	I64Add
	Get R5
	I64Const $0
	I64Mul
	I64Add
	I32WrapI64
	Get V6
	V128Store $0
	Get V7
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V7
	Get R3
	Get R4
	I64Const $3
	I64Mul
	I64Add
	Get R5
	I64Const $1
	I64Mul
	I64Add
	I32WrapI64
	Get V7
	V128Store $0
	Get V8
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V8
	Get R3
	Get R4
	I64Const $3
	I64Mul
	I64Add
	Get R5
	I64Const $2
	I64Mul
	I64Add
	I32WrapI64
	Get V8
	V128Store $0
	Get V9
	Get V12
	F32x4Add
	I32Const $0
	I32x4Splat
	F32x4Max
	Set V9
	Get R3
	Get R4
	I64Const $3
	I64Mul
	I64Add
	Get R5
	I64Const $3
	I64Mul
	I64Add
	I32WrapI64
	Get V9
	V128Store $0
	Get R1
	I64Const $16
	I64Add
	Set R1
	Get R6
	I64Const $16
	I64Add
	Set R6
	Get R3
	I64Const $16
	I64Add
	Set R3
	Get R0
	I64Const $1
	I64Sub
	Tee R0
	I64Eqz
	I32Eqz
	BrIf loop
	End
	RET

