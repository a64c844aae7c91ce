//go:build ignore

// This program writes winograd_simd128_wasm.s, the wasm assembly of the
// F(4x4,3x3) Winograd transforms: go run winograd_gen_wasm.go.
// The arithmetic and its order are those of winoIn6x4 and winoOut6x4 in
// winograd_wasm.go. With -relaxed it writes winograd_relaxed_wasm.s instead,
// for builds with the relaxedsimd tag: each product that is added to or
// subtracted from something is one f32x4.relaxed_madd or relaxed_nmadd.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

var b strings.Builder

// relaxed selects the relaxed_madd forms of in6 and out6 (-relaxed).
var relaxed bool

// relaxedMarker precedes every relaxed-SIMD instruction so that
// scripts/wasmfix can correct the assembler's encoding after linking (see
// gemm_gen_wasm.go).
const relaxedMarker = 0x3a6c6178656c6572

// Relaxed-SIMD instructions, each with its marker.
var (
	madd  = fmt.Sprintf("I64Const $%d\n\tDrop\n\tF32x4RelaxedMadd", relaxedMarker)
	nmadd = fmt.Sprintf("I64Const $%d\n\tDrop\n\tF32x4RelaxedNmadd", relaxedMarker)
)

func e(xs ...string) {
	for _, x := range xs {
		b.WriteString("\t" + x + "\n")
	}
}

func v(i int) string { return fmt.Sprintf("V%d", i) }

// Bit patterns of the float32 constants, splatted as i32 lanes.
const (
	f2 = 0x40000000
	f4 = 0x40800000
	f5 = 0x40a00000
	f8 = 0x41000000
)

func splat(reg string, bits int) { e(fmt.Sprintf("I32Const $%d", bits), "I32x4Splat", "Set "+reg) }

// in6 applies B^T to d (6 registers) into r (6 registers).
func in6(d, r []string, four, five, two string) {
	if relaxed { // relaxed_madd(a, b, c) = a*b + c, relaxed_nmadd(a, b, c) = c - a*b
		e("Get "+d[0], "Get "+four, "Get "+d[2], "Get "+five, "Get "+d[4], nmadd, madd, "Set "+r[0])
		e("Get "+d[1], "Get "+d[2], "F32x4Add", "Get "+four, "Get "+d[3], "Get "+d[4], "F32x4Add", nmadd, "Set "+r[1])
		e("Get "+d[1], "Get "+d[2], "F32x4Sub", "Get "+four, "Get "+d[4], "Get "+d[3], "F32x4Sub", madd, "Set "+r[2])
		e("Get "+d[3], "Get "+d[1], "F32x4Sub", "Get "+two, "Get "+d[4], "Get "+d[2], "F32x4Sub", madd, "Set "+r[3])
		e("Get "+d[1], "Get "+d[3], "F32x4Sub", "Get "+two, "Get "+d[4], "Get "+d[2], "F32x4Sub", madd, "Set "+r[4])
		e("Get "+d[1], "Get "+four, "Get "+d[3], "Get "+five, "Get "+d[5], nmadd, madd, "Set "+r[5])
		return
	}
	e("Get "+d[0], "Get "+four, "F32x4Mul", "Get "+d[2], "Get "+five, "F32x4Mul", "F32x4Sub", "Get "+d[4], "F32x4Add", "Set "+r[0])
	e("Get "+d[3], "Get "+d[4], "F32x4Add", "Get "+d[1], "Get "+d[2], "F32x4Add", "Get "+four, "F32x4Mul", "F32x4Sub", "Set "+r[1])
	e("Get "+d[1], "Get "+d[2], "F32x4Sub", "Get "+four, "F32x4Mul", "Get "+d[4], "Get "+d[3], "F32x4Sub", "F32x4Add", "Set "+r[2])
	e("Get "+d[3], "Get "+d[1], "F32x4Sub", "Get "+two, "F32x4Mul", "Get "+d[4], "Get "+d[2], "F32x4Sub", "F32x4Add", "Set "+r[3])
	e("Get "+d[1], "Get "+d[3], "F32x4Sub", "Get "+two, "F32x4Mul", "Get "+d[4], "Get "+d[2], "F32x4Sub", "F32x4Add", "Set "+r[4])
	e("Get "+d[1], "Get "+four, "F32x4Mul", "Get "+d[3], "Get "+five, "F32x4Mul", "F32x4Sub", "Get "+d[5], "F32x4Add", "Set "+r[5])
}

// out6 applies A^T to m (6 registers; m[1], m[2] are clobbered) into o (4).
func out6(m, o []string, s12, d12, two, four, eight string) {
	e("Get "+m[1], "Get "+m[2], "F32x4Add", "Set "+s12)
	e("Get "+m[1], "Get "+m[2], "F32x4Sub", "Set "+d12)
	s34, d34 := m[1], m[2]
	e("Get "+m[3], "Get "+m[4], "F32x4Add", "Set "+s34)
	e("Get "+m[3], "Get "+m[4], "F32x4Sub", "Set "+d34)
	e("Get "+m[0], "Get "+s12, "F32x4Add", "Get "+s34, "F32x4Add", "Set "+o[0])
	if relaxed {
		e("Get "+d34, "Get "+two, "Get "+d12, madd, "Set "+o[1])
		e("Get "+s34, "Get "+four, "Get "+s12, madd, "Set "+o[2])
		e("Get "+d34, "Get "+eight, "Get "+d12, madd, "Get "+m[5], "F32x4Add", "Set "+o[3])
		return
	}
	e("Get "+d12, "Get "+d34, "Get "+two, "F32x4Mul", "F32x4Add", "Set "+o[1])
	e("Get "+s12, "Get "+s34, "Get "+four, "F32x4Mul", "F32x4Add", "Set "+o[2])
	e("Get "+d12, "Get "+d34, "Get "+eight, "F32x4Mul", "F32x4Add", "Get "+m[5], "F32x4Add", "Set "+o[3])
}

func regs(from, n int) []string {
	r := make([]string, n)
	for i := range r {
		r[i] = v(from + i)
	}
	return r
}

func i64(n int) string { return fmt.Sprintf("I64Const $%d", n) }

// storeAt stores register val at address base + off (all explicit: the
// assembler's store offset immediates are not used).
func storeAt(base string, off int, val string) {
	e("Get "+base, i64(off), "I64Add", "I32WrapI64", "Get "+val, "V128Store $0")
}

func loadAt(base string, off int, dst string) {
	e("Get "+base, i64(off), "I64Add", "I32WrapI64", "V128Load $0", "Set "+dst)
}

func loopEnd(pointers ...string) {
	for _, p := range pointers {
		e("Get "+p, i64(16), "I64Add", "Set "+p)
	}
	e("Get R0", i64(1), "I64Sub", "Tee R0", "I64Eqz", "I32Eqz", "BrIf loop", "End", "RET")
}

func input() {
	b.WriteString("// func winoIn4WasmAsm(src *float32, rowStep, colStep int, dst *float32, plane int, tmp *float32, chunks int)\n")
	b.WriteString("TEXT ·winoIn4WasmAsm(SB), NOSPLIT, $0-56\n")
	e("I64Load src+0(FP)", "Set R1", "I64Load rowStep+8(FP)", "Set R2", "I64Load colStep+16(FP)", "Set R3",
		"I64Load dst+24(FP)", "Set R4", "I64Load plane+32(FP)", "Set R5", "I64Load tmp+40(FP)", "Set R6",
		"I64Load chunks+48(FP)", "Set R0")
	splat("V12", f4)
	splat("V13", f5)
	splat("V14", f2)
	b.WriteString("loop:\n")
	e("Loop")
	d, r := regs(0, 6), regs(6, 6)
	for i := 0; i < 6; i++ { // rows of the patch: B^T along x, into tmp
		for j := 0; j < 6; j++ {
			e("Get R1", "Get R2", i64(i), "I64Mul", "I64Add", "Get R3", i64(j), "I64Mul", "I64Add", "I32WrapI64", "V128Load $0", "Set "+d[j])
		}
		in6(d, r, "V12", "V13", "V14")
		for j := 0; j < 6; j++ {
			storeAt("R6", (i*6+j)*16, r[j])
		}
	}
	for j := 0; j < 6; j++ { // columns: B^T along y, into the frequency planes
		for i := 0; i < 6; i++ {
			loadAt("R6", (i*6+j)*16, d[i])
		}
		in6(d, r, "V12", "V13", "V14")
		for i := 0; i < 6; i++ {
			e("Get R4", "Get R5", i64(i*6+j), "I64Mul", "I64Add", "I32WrapI64", "Get "+r[i], "V128Store $0")
		}
	}
	loopEnd("R1", "R4")
	b.WriteString("\n")
}

func output(relu bool) {
	name := "winoOut4WasmAsm"
	if relu {
		name = "winoOut4ReLUWasmAsm"
	}
	fmt.Fprintf(&b, "// func %s(mo *float32, plane int, bias, dst *float32, rowStep, colStep int, tmp *float32, chunks int)\n", name)
	fmt.Fprintf(&b, "TEXT ·%s(SB), NOSPLIT, $0-64\n", name)
	e("I64Load mo+0(FP)", "Set R1", "I64Load plane+8(FP)", "Set R2", "I64Load bias+16(FP)", "Set R6",
		"I64Load dst+24(FP)", "Set R3", "I64Load rowStep+32(FP)", "Set R4", "I64Load colStep+40(FP)", "Set R5",
		"I64Load tmp+48(FP)", "Set R7", "I64Load chunks+56(FP)", "Set R0")
	splat("V13", f2)
	splat("V14", f4)
	splat("V15", f8)
	b.WriteString("loop:\n")
	e("Loop")
	m, o := regs(0, 6), regs(6, 4)
	for j := 0; j < 6; j++ { // columns of M: A^T along y, into tmp
		for i := 0; i < 6; i++ {
			e("Get R1", "Get R2", i64(i*6+j), "I64Mul", "I64Add", "I32WrapI64", "V128Load $0", "Set "+m[i])
		}
		out6(m, o, "V10", "V11", "V13", "V14", "V15")
		for i := 0; i < 4; i++ {
			storeAt("R7", (j*4+i)*16, o[i])
		}
	}
	e("Get R6", "I32WrapI64", "V128Load $0", "Set V12") // bias
	// Output rows: A^T along x, + bias, ReLU, store.
	for i := 0; i < 4; i++ {
		for j := 0; j < 6; j++ {
			loadAt("R7", (j*4+i)*16, m[j])
		}
		out6(m, o, "V10", "V11", "V13", "V14", "V15")
		for j := 0; j < 4; j++ {
			e("Get "+o[j], "Get V12", "F32x4Add")
			if relu {
				e("I32Const $0", "I32x4Splat", "F32x4Max")
			}
			e("Set " + o[j])
			e("Get R3", "Get R4", i64(i), "I64Mul", "I64Add", "Get R5", i64(j), "I64Mul", "I64Add", "I32WrapI64", "Get "+o[j], "V128Store $0")
		}
	}
	loopEnd("R1", "R6", "R3")
	b.WriteString("\n")
}

func main() {
	flag.BoolVar(&relaxed, "relaxed", false, "use f32x4.relaxed_madd and relaxed_nmadd (the relaxedsimd build)")
	flag.Parse()
	out, buildTag, order := "winograd_simd128_wasm.s", "!relaxedsimd", "in the same order,\n//"
	if relaxed {
		out, buildTag, order = "winograd_relaxed_wasm.s", "relaxedsimd", "each product and the sum it feeds in one relaxed_madd or relaxed_nmadd,\n//"
	}
	fmt.Fprintf(&b, `// Code generated by winograd_gen_wasm.go; DO NOT EDIT.

//go:build goexperiment.simd && wasm && %s

#include "textflag.h"

// Winograd F(4x4,3x3) transforms, 4 channels per loop step, in wasm
// assembly: the arithmetic of winoIn6x4 and winoOut6x4 in winograd_wasm.go,
// %s every vector in a wasm local (Go's wasm backend keeps SIMD
// values in linear memory). Strides are in bytes; chunks >= 1.

`, buildTag, order)
	input()
	output(false)
	output(true)
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
