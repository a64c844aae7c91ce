// Package safetensors reads and writes the Hugging Face safetensors format:
// an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping
// each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (plus
// an optional "__metadata__" object of string→string), then the raw
// little-endian tensor bytes. Offsets are relative to the first byte after
// the header.
//
// The reader treats every file as hostile: the header length is bounded by
// MaxHeaderSize and by the file size, every byte range must lie inside the
// data section, match shape×dtype exactly, and the ranges together must tile
// the data section without gaps or overlaps (as the reference implementation
// demands). Nothing is allocated from a header number before that number has
// been checked against the file size.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"unicode/utf8"
)

// MaxHeaderSize is the largest JSON header accepted (the reference
// implementation's limit, 100 MB).
const MaxHeaderSize = 100 << 20

// metadataKey is the reserved header entry holding string→string metadata.
const metadataKey = "__metadata__"

// TensorInfo describes one tensor in a header. Begin and End are byte
// offsets relative to the start of the data section (Header.DataStart).
type TensorInfo struct {
	Name       string
	DType      DType
	Shape      []int
	Begin, End int64
}

// NumElements is the product of the shape (1 for a scalar).
func (t TensorInfo) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Header is a parsed, validated safetensors header.
type Header struct {
	Tensors   []TensorInfo      // in header order
	Metadata  map[string]string // "__metadata__", nil when absent
	DataStart int64             // file offset of the data section: 8 + header length
	DataSize  int64             // bytes in the data section
	index     map[string]int
}

// Lookup returns the tensor called name.
func (h *Header) Lookup(name string) (TensorInfo, bool) {
	i, ok := h.index[name]
	if !ok {
		return TensorInfo{}, false
	}
	return h.Tensors[i], true
}

// ReadData reads the bytes of tensor t (from this header) out of r.
func (h *Header) ReadData(r io.ReaderAt, t TensorInfo) ([]byte, error) {
	if t.Begin < 0 || t.End < t.Begin || t.End > h.DataSize {
		return nil, fmt.Errorf("safetensors: tensor %q: byte range [%d, %d) outside the %d-byte data section", t.Name, t.Begin, t.End, h.DataSize)
	}
	buf := make([]byte, t.End-t.Begin)
	if _, err := r.ReadAt(buf, h.DataStart+t.Begin); err != nil {
		return nil, fmt.Errorf("safetensors: reading tensor %q: %w", t.Name, truncated(err))
	}
	return buf, nil
}

// Tensor is one tensor with its raw little-endian bytes.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements is the product of the shape (1 for a scalar).
func (t Tensor) NumElements() int {
	return TensorInfo{Shape: t.Shape}.NumElements()
}

// FromFloat32s is an F32 tensor holding v, little-endian, as the format
// stores it; Float32s reads it back.
func FromFloat32s(name string, shape []int, v []float32) Tensor {
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: F32, Shape: shape, Data: data}
}

// Float32s converts a F32, F16, BF16 or F64 tensor to float32.
func (t Tensor) Float32s() ([]float32, error) {
	if !t.DType.IsFloat() {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, not a float type", t.Name, t.DType)
	}
	out := make([]float32, len(t.Data)/t.DType.Size())
	if err := ToFloat32(t.DType, t.Data, out); err != nil {
		return nil, fmt.Errorf("safetensors: tensor %q: %w", t.Name, err)
	}
	return out, nil
}

// File is a whole safetensors file held in memory.
type File struct {
	Metadata map[string]string
	Tensors  []Tensor // in header order
	index    map[string]int
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (Tensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return Tensor{}, false
	}
	return f.Tensors[i], true
}

// ReadFile reads and validates the safetensors file at path; errors name it.
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sf, err := Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sf, nil
}

// Read parses and validates the whole file (size bytes of r) and reads all
// tensor data with one ReadAt.
func Read(r io.ReaderAt, size int64) (*File, error) {
	h, err := ReadHeader(r, size)
	if err != nil {
		return nil, err
	}
	data := make([]byte, h.DataSize)
	// A file of metadata alone has no data to read; ReadAt at its end would
	// report io.EOF.
	if _, err := r.ReadAt(data, h.DataStart); err != nil && len(data) > 0 {
		return nil, fmt.Errorf("safetensors: reading %d data bytes: %w", h.DataSize, truncated(err))
	}
	f := &File{Metadata: h.Metadata, Tensors: make([]Tensor, len(h.Tensors)), index: h.index}
	for i, t := range h.Tensors {
		f.Tensors[i] = Tensor{Name: t.Name, DType: t.DType, Shape: t.Shape, Data: data[t.Begin:t.End:t.End]}
	}
	return f, nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// tensorEntry is one tensor's header entry as JSON.
type tensorEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// ReadHeader parses and validates the header of a size-byte file without
// reading tensor data.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	if size < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: reading header length: %w", truncated(err))
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d-byte limit (not a safetensors file?)", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the file size %d (truncated or not a safetensors file)", n, size)
	}
	if n < 2 {
		return nil, fmt.Errorf("safetensors: header length %d is too small for a JSON object", n)
	}
	text := make([]byte, n)
	if _, err := r.ReadAt(text, 8); err != nil {
		return nil, fmt.Errorf("safetensors: reading %d-byte header: %w", n, truncated(err))
	}
	h := &Header{DataStart: 8 + int64(n), DataSize: size - 8 - int64(n), index: map[string]int{}}
	if err := h.parse(text); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Header) parse(text []byte) error {
	if text[0] != '{' {
		return fmt.Errorf("safetensors: header does not start with '{' (not a safetensors file?)")
	}
	if !utf8.Valid(text) {
		return fmt.Errorf("safetensors: header is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	if _, err := dec.Token(); err != nil { // the '{'
		return fmt.Errorf("safetensors: header JSON: %v", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("safetensors: header JSON: %v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return fmt.Errorf("safetensors: header JSON: key %v is not a string", tok)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("safetensors: header JSON at %q: %v", name, err)
		}
		if name == metadataKey {
			if h.Metadata != nil {
				return fmt.Errorf("safetensors: header has two %s entries", metadataKey)
			}
			var md map[string]string
			if err := json.Unmarshal(raw, &md); err != nil || md == nil {
				return fmt.Errorf("safetensors: %s must be an object of string values: %v", metadataKey, err)
			}
			h.Metadata = md
			continue
		}
		if _, dup := h.index[name]; dup {
			return fmt.Errorf("safetensors: tensor %q appears twice in the header", name)
		}
		t, err := h.parseTensor(name, raw)
		if err != nil {
			return err
		}
		h.index[name] = len(h.Tensors)
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := dec.Token(); err != nil { // the '}'
		return fmt.Errorf("safetensors: header JSON: %v", err)
	}
	if rest := bytes.TrimRight(text[dec.InputOffset():], " "); len(rest) != 0 {
		return fmt.Errorf("safetensors: %d bytes of trailing data after the header JSON", len(rest))
	}
	return h.checkLayout()
}

func (h *Header) parseTensor(name string, raw json.RawMessage) (TensorInfo, error) {
	var e tensorEntry
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: bad header entry: %v", name, err)
	}
	if e.DType == nil || e.Shape == nil || e.DataOffsets == nil {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: header entry needs dtype, shape and data_offsets", name)
	}
	t := TensorInfo{Name: name, DType: DType(*e.DType)}
	if t.DType.Size() == 0 {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: unknown dtype %q", name, *e.DType)
	}
	if len(*e.DataOffsets) != 2 {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: data_offsets has %d numbers, want 2", name, len(*e.DataOffsets))
	}
	t.Begin, t.End = (*e.DataOffsets)[0], (*e.DataOffsets)[1]
	if t.Begin < 0 || t.End < t.Begin || t.End > h.DataSize {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] outside the %d-byte data section (truncated file?)", name, t.Begin, t.End, h.DataSize)
	}
	// Element count, checked step by step against the byte range so that a
	// lying shape can neither overflow nor allocate.
	zero := false
	for _, d := range *e.Shape {
		if d < 0 {
			return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", name, *e.Shape)
		}
		zero = zero || d == 0
	}
	var nbytes int64
	if !zero {
		nbytes = int64(t.DType.Size())
		for _, d := range *e.Shape {
			if d > (t.End-t.Begin)/nbytes {
				return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: shape %v of %s needs more than its %d bytes", name, *e.Shape, t.DType, t.End-t.Begin)
			}
			nbytes *= d
		}
	}
	if nbytes != t.End-t.Begin {
		return TensorInfo{}, fmt.Errorf("safetensors: tensor %q: shape %v of %s is %d bytes but data_offsets span %d", name, *e.Shape, t.DType, nbytes, t.End-t.Begin)
	}
	t.Shape = make([]int, len(*e.Shape))
	for i, d := range *e.Shape {
		t.Shape[i] = int(d)
	}
	return t, nil
}

// checkLayout verifies that the byte ranges tile the data section exactly.
func (h *Header) checkLayout() error {
	order := make([]int, len(h.Tensors))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ta, tb := h.Tensors[order[a]], h.Tensors[order[b]]
		if ta.Begin != tb.Begin {
			return ta.Begin < tb.Begin
		}
		return ta.End < tb.End
	})
	var end int64
	for _, i := range order {
		t := h.Tensors[i]
		if t.Begin != end {
			if t.Begin < end {
				return fmt.Errorf("safetensors: tensor %q: bytes [%d, %d) overlap the previous tensor ending at %d", t.Name, t.Begin, t.End, end)
			}
			return fmt.Errorf("safetensors: tensor %q: gap in the data section: starts at %d, previous tensor ends at %d", t.Name, t.Begin, end)
		}
		end = t.End
	}
	if end != h.DataSize {
		return fmt.Errorf("safetensors: tensors cover %d bytes but the data section has %d (truncated file or trailing garbage)", end, h.DataSize)
	}
	return nil
}

// Write writes tensors (in the given order, contiguous) and metadata as a
// safetensors file. The header is padded with spaces to a multiple of 8
// bytes so that the data section is aligned.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	if len(metadata) > 0 {
		md, err := json.Marshal(metadata) // keys sorted
		if err != nil {
			return fmt.Errorf("safetensors: metadata: %v", err)
		}
		hdr.WriteString(`"` + metadataKey + `":`)
		hdr.Write(md)
	}
	seen := map[string]bool{}
	var offset int64
	for _, t := range tensors {
		if t.Name == metadataKey || seen[t.Name] {
			return fmt.Errorf("safetensors: tensor name %q is reserved or used twice", t.Name)
		}
		seen[t.Name] = true
		if t.DType.Size() == 0 {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		for _, d := range t.Shape {
			if d < 0 {
				return fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
		}
		if want := t.NumElements() * t.DType.Size(); len(t.Data) != want {
			return fmt.Errorf("safetensors: tensor %q: %d data bytes, shape %v of %s needs %d", t.Name, len(t.Data), t.Shape, t.DType, want)
		}
		name, _ := json.Marshal(t.Name)
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		sh, _ := json.Marshal(shape)
		if hdr.Len() > 1 {
			hdr.WriteByte(',')
		}
		fmt.Fprintf(&hdr, `%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, name, t.DType, sh, offset, offset+int64(len(t.Data)))
		offset += int64(len(t.Data))
	}
	hdr.WriteByte('}')
	for hdr.Len()%8 != 0 {
		hdr.WriteByte(' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}
