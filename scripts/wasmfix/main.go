// Command wasmfix corrects, in place, the relaxed-SIMD instructions of a
// wasm binary built with the relaxedsimd tag (kernels/gemm_relaxed_wasm.s,
// kernels/winograd_relaxed_wasm.s):
//
//	go run ./scripts/wasmfix FILE...
//
// Go 1.27's wasm assembler encodes relaxed-SIMD opcodes wrongly: it writes
// f32x4.relaxed_madd (0xFD, LEB128 0x105) as 0xFD 0x85 0x01 0x02, which an
// engine reads as another SIMD opcode followed by a `block`, and rejects.
// The kernels' generators put a marker, "i64.const relaxedMarker; drop",
// before every relaxed instruction, so this program finds exactly those
// instructions (never bytes that merely look like one), writes the right
// encoding and fills the rest of the marked span with nops: same length, so
// no offset in the binary moves. A toolchain that encodes them correctly
// needs only the markers turned into nops, which is done too.
//
// It fails if a file holds no marked instruction (not a relaxedsimd build)
// or a marker followed by anything but relaxed_madd or relaxed_nmadd.
package main

import (
	"bytes"
	"fmt"
	"os"
)

// relaxedMarker is the i64.const value of the marker; the same value is in
// kernels/gemm_gen_wasm.go and kernels/winograd_gen_wasm.go.
const relaxedMarker = 0x3a6c6178656c6572

const (
	opI64Const = 0x42
	opDrop     = 0x1a
	opNop      = 0x01
	prefixSIMD = 0xfd
)

// relaxedOps are the relaxed-SIMD opcodes the kernels use, by the low byte
// of their LEB128 encoding (0x105 and 0x106: the second byte is 0x02).
var relaxedOps = map[byte]string{0x85: "f32x4.relaxed_madd", 0x86: "f32x4.relaxed_nmadd"}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wasmfix FILE...")
		os.Exit(2)
	}
	for _, name := range os.Args[1:] {
		if err := fixFile(name); err != nil {
			fmt.Fprintln(os.Stderr, "wasmfix:", err)
			os.Exit(1)
		}
	}
}

func fixFile(name string) error {
	bin, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	n, err := fix(bin)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: no marked relaxed-SIMD instruction (not built with -tags relaxedsimd and GOEXPERIMENT=simd, or fixed already)", name)
	}
	info, err := os.Stat(name)
	if err != nil {
		return err
	}
	return os.WriteFile(name, bin, info.Mode().Perm())
}

// fix rewrites every marked relaxed instruction in bin and returns how many
// it found.
func fix(bin []byte) (int, error) {
	marker := append(append([]byte{opI64Const}, sleb128(relaxedMarker)...), opDrop)
	n := 0
	for i := 0; ; {
		j := bytes.Index(bin[i:], marker)
		if j < 0 {
			return n, nil
		}
		at := i + j
		rest := bin[at+len(marker):]
		switch {
		case len(rest) >= 4 && rest[0] == prefixSIMD && relaxedOps[rest[1]] != "" && rest[2] == 0x01 && rest[3] == 0x02:
			// Go's encoding: fd XX 01 02. Right: fd XX 02.
			span := bin[at : at+len(marker)+4]
			copy(span, []byte{prefixSIMD, rest[1], 0x02})
			fill(span[3:], opNop)
		case len(rest) >= 3 && rest[0] == prefixSIMD && relaxedOps[rest[1]] != "" && rest[2] == 0x02:
			fill(bin[at:at+len(marker)], opNop)
		default:
			return n, fmt.Errorf("offset %d: relaxed-SIMD marker not followed by relaxed_madd or relaxed_nmadd (% x)", at, rest[:min(len(rest), 4)])
		}
		n++
		i = at + len(marker)
	}
}

func fill(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// sleb128 is the signed LEB128 encoding of v, as i64.const's immediate.
func sleb128(v int64) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(out, c)
		}
		out = append(out, c|0x80)
	}
}
