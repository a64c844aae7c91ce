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

// softenHead scales the last dense layer's kernel and bias by f. A random
// network's softmax saturates (probabilities of 1 and 1e-30), where any
// two computations agree to 1e-6 whatever they did; a softened head keeps
// the probabilities apart, so a comparison of them can fail.
func softenHead(m *Model, f float32) {
	d := &m.Head.Dense[len(m.Head.Dense)-1]
	for i := range d.Kernel {
		d.Kernel[i] *= f
	}
	for i := range d.Bias {
		d.Bias[i] *= f
	}
}
