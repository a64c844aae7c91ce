package main

import (
	"bytes"
	"strings"
	"testing"
)

// marked is a marked relaxed instruction as Go 1.27's assembler writes it.
func marked(op byte) []byte {
	b := append([]byte{opI64Const}, sleb128(relaxedMarker)...)
	return append(b, opDrop, prefixSIMD, op, 0x01, 0x02)
}

func TestFixRewritesMarkedInstructions(t *testing.T) {
	// local.get 0, (marked madd), local.set 1, (marked nmadd), end; and a
	// look-alike 0xfd 0x85 0x01 0x02 without a marker, which must stay.
	lookalike := []byte{prefixSIMD, 0x85, 0x01, 0x02}
	var in []byte
	in = append(in, 0x20, 0x00)
	in = append(in, marked(0x85)...)
	in = append(in, 0x21, 0x01)
	in = append(in, marked(0x86)...)
	in = append(in, lookalike...)
	in = append(in, 0x0b)
	bin := bytes.Clone(in)
	n, err := fix(bin)
	if err != nil || n != 2 {
		t.Fatalf("fix: %d, %v; want 2, nil", n, err)
	}
	if len(bin) != len(in) {
		t.Fatalf("length changed: %d, want %d", len(bin), len(in))
	}
	nops := bytes.Repeat([]byte{opNop}, len(marked(0x85))-3)
	var want []byte
	want = append(want, 0x20, 0x00, prefixSIMD, 0x85, 0x02)
	want = append(want, nops...)
	want = append(want, 0x21, 0x01, prefixSIMD, 0x86, 0x02)
	want = append(want, nops...)
	want = append(want, lookalike...)
	want = append(want, 0x0b)
	if !bytes.Equal(bin, want) {
		t.Fatalf("got  % x\nwant % x", bin, want)
	}
	if n, _ := fix(bin); n != 0 {
		t.Errorf("a fixed binary still has %d markers", n)
	}
}

// TestFixKeepsRightEncoding: a toolchain that encodes the opcode correctly
// gets only the marker replaced.
func TestFixKeepsRightEncoding(t *testing.T) {
	m := marked(0x85)
	right := append(bytes.Clone(m[:len(m)-4]), prefixSIMD, 0x85, 0x02, 0x0b)
	bin := bytes.Clone(right)
	if n, err := fix(bin); err != nil || n != 1 {
		t.Fatalf("fix: %d, %v", n, err)
	}
	want := append(bytes.Repeat([]byte{opNop}, len(m)-4), prefixSIMD, 0x85, 0x02, 0x0b)
	if !bytes.Equal(bin, want) {
		t.Fatalf("got  % x\nwant % x", bin, want)
	}
}

func TestFixRejectsUnknownInstruction(t *testing.T) {
	m := marked(0x85)
	bin := append(m[:len(m)-4], prefixSIMD, 0xe4, 0x01, 0x01) // f32x4.add
	_, err := fix(bin)
	if err == nil || !strings.Contains(err.Error(), "not followed by relaxed_madd") {
		t.Fatalf("err = %v", err)
	}
}

func TestSleb128(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want []byte
	}{{0, []byte{0}}, {63, []byte{0x3f}}, {64, []byte{0xc0, 0x00}}, {-1, []byte{0x7f}}, {-64, []byte{0x40}}, {624485, []byte{0xe5, 0x8e, 0x26}}} {
		if got := sleb128(c.v); !bytes.Equal(got, c.want) {
			t.Errorf("sleb128(%d) = % x, want % x", c.v, got, c.want)
		}
	}
}
