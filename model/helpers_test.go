package model

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
)

// pngHeaderOnly returns a PNG signature, an IHDR chunk for a w×h 8-bit RGB
// image and IEND: a valid header with no pixel data.
func pngHeaderOnly(w, h int) []byte {
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, body []byte) {
		binary.Write(&buf, binary.BigEndian, uint32(len(body)))
		buf.WriteString(kind)
		buf.Write(body)
		binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), body...)))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 8, 2
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return buf.Bytes()
}
