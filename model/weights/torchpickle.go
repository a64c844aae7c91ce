package weights

import (
	"encoding/binary"
	"fmt"
)

// checkPickle walks the opcodes of a pickle stream without executing them
// and verifies that every length-prefixed argument fits inside the stream.
// It runs before the stream is handed to gopickle's unpickler, which would
// otherwise allocate whatever length a hostile file claims. Opcodes that a
// torch.save state dict never uses and that reach outside the stream
// (extension registry, out-of-band buffers) are refused.
func checkPickle(p []byte) error {
	const maxNumberLine = 4096 // digits of a text INT/LONG/FLOAT, as Python's own limit
	i := 0
	need := func(n uint64) error {
		if n > uint64(len(p)-i) {
			return fmt.Errorf("pickle: opcode at byte %d needs %d bytes, only %d left (truncated or corrupt)", i, n, len(p)-i)
		}
		return nil
	}
	// skipLen reads a little-endian length of width bytes, then skips it.
	skipLen := func(width int) error {
		if err := need(uint64(width)); err != nil {
			return err
		}
		var n uint64
		switch width {
		case 1:
			n = uint64(p[i])
		case 4:
			n = uint64(binary.LittleEndian.Uint32(p[i:]))
		case 8:
			n = binary.LittleEndian.Uint64(p[i:])
		}
		i += width
		if err := need(n); err != nil {
			return err
		}
		i += int(n)
		return nil
	}
	skipLine := func(limit int) error {
		for j := i; j < len(p); j++ {
			if p[j] == '\n' {
				if j-i > limit {
					return fmt.Errorf("pickle: %d-byte text argument at byte %d is too long", j-i, i)
				}
				i = j + 1
				return nil
			}
		}
		return fmt.Errorf("pickle: unterminated text argument at byte %d (truncated)", i)
	}
	for i < len(p) {
		op := p[i]
		i++
		var err error
		switch op {
		case '.': // STOP
			return nil
		case '(', '0', '1', '2', 'N', 'Q', 'R', 'a', 'b', 'd', '}', 'e', 'l', ']', 'o', 's', 't', ')', 'u',
			0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x81:
			// no argument
		case 'K', 'h', 'q', 0x80: // one byte
			err = need(1)
			i++
		case 'M': // two bytes
			err = need(2)
			i += 2
		case 'J', 'j', 'r': // four bytes
			err = need(4)
			i += 4
		case 'G', 0x95: // eight bytes (FRAME's size covers the opcodes that follow: they are scanned too)
			if err = need(8); err == nil && op == 0x95 {
				i += 8
				if err = need(binary.LittleEndian.Uint64(p[i-8:])); err != nil {
					return err
				}
				continue
			}
			i += 8
		case 'U', 'C', 0x8c, 0x8a: // 1-byte length + data
			err = skipLen(1)
		case 'T', 'X', 'B', 0x8b: // 4-byte length + data
			err = skipLen(4)
		case 0x8d, 0x8e, 0x96: // 8-byte length + data
			err = skipLen(8)
		case 'I', 'L', 'F':
			err = skipLine(maxNumberLine)
		case 'S', 'V', 'P', 'g', 'p':
			err = skipLine(len(p))
		case 'c', 'i': // module and name lines
			if err = skipLine(1024); err == nil {
				err = skipLine(1024)
			}
		default:
			return fmt.Errorf("pickle: unsupported opcode 0x%02x at byte %d", op, i-1)
		}
		if err != nil {
			return err
		}
	}
	return fmt.Errorf("pickle: no STOP opcode (truncated)")
}
