package hdf5

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Header message types used here (HDF5 spec, section IV.A.2).
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgFilters      = 0x0b
	msgAttribute    = 0x0c
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// messageFlagShared marks a message whose body lives elsewhere (a committed
// datatype or a shared message), which this reader does not follow.
const messageFlagShared = 0x02

// message is one object header message.
type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

// objectHeader is a decoded version 1 object header: its messages in order,
// continuation blocks already followed.
type objectHeader struct {
	msgs   []message
	blocks int // header blocks read: 1 + continuations
}

// find returns the first message of type typ, or nil.
func (h *objectHeader) find(typ uint16) *message {
	for i := range h.msgs {
		if h.msgs[i].typ == typ {
			return &h.msgs[i]
		}
	}
	return nil
}

// header reads (once; later calls hit a cache) the object header at the
// file address addr, for the object at path.
func (f *File) header(addr uint64, path string) (*objectHeader, error) {
	if h, ok := f.headers[addr]; ok {
		return h, nil
	}
	off, err := f.abs(addr, path, "object header")
	if err != nil {
		return nil, err
	}
	prefix, err := f.readAt(off, 16, path, "object header")
	if err != nil {
		return nil, err
	}
	if string(prefix[:4]) == "OHDR" {
		return nil, f.errorf(path, "version 2 object header (HDF5 1.8+ format, written with libver=\"latest\" or track_order=True) is not supported; only version 1, which h5py writes by default")
	}
	if prefix[0] != 1 {
		return nil, f.errorf(path, "object header version %d is not supported (want 1): corrupt file or not an object header", prefix[0])
	}
	// Prefix: version, reserved, message count (2), reference count (4),
	// header size (4), then padding to 16 bytes; messages follow.
	size := uint64(binary.LittleEndian.Uint32(prefix[8:12]))
	type block struct{ off, n uint64 }
	blocks := []block{{off + 16, size}}
	seen := map[uint64]bool{off + 16: true}
	h := &objectHeader{}
	for i := 0; i < len(blocks); i++ {
		if i >= maxHeaderBlocks {
			return nil, f.errorf(path, "object header has more than %d continuation blocks: corrupt", maxHeaderBlocks)
		}
		buf, err := f.readAt(blocks[i].off, blocks[i].n, path, "object header block")
		if err != nil {
			return nil, err
		}
		c := f.cursor(buf)
		for len(buf)-c.pos >= 8 {
			typ := c.u16()
			n := int(c.u16())
			flags := c.u8()
			c.skip(3)
			data := c.take(n)
			if c.err {
				return nil, f.errorf(path, "header message type %#x of %d bytes runs past its header block: corrupt", typ, n)
			}
			if typ == msgContinuation {
				cc := f.cursor(data)
				a, length := cc.addr(), cc.length()
				if cc.err {
					return nil, f.errorf(path, "continuation message is truncated")
				}
				coff, err := f.abs(a, path, "header continuation block")
				if err != nil {
					return nil, err
				}
				if seen[coff] {
					return nil, f.errorf(path, "object header continuation blocks form a loop: corrupt")
				}
				seen[coff] = true
				blocks = append(blocks, block{coff, length})
				continue
			}
			if typ != msgNil {
				h.msgs = append(h.msgs, message{typ: typ, flags: flags, data: data})
			}
		}
	}
	h.blocks = len(blocks)
	f.headers[addr] = h
	return h, nil
}

// Class is an HDF5 datatype class.
type Class uint8

// Datatype classes (HDF5 spec, datatype message).
const (
	ClassFixedPoint Class = 0
	ClassFloat      Class = 1
	ClassTime       Class = 2
	ClassString     Class = 3
	ClassBitfield   Class = 4
	ClassOpaque     Class = 5
	ClassCompound   Class = 6
	ClassReference  Class = 7
	ClassEnum       Class = 8
	ClassVarLen     Class = 9
	ClassArray      Class = 10
)

var classNames = [...]string{"integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum", "variable-length", "array"}

// Datatype describes the element type of a dataset or attribute.
type Datatype struct {
	Class     Class
	Size      int  // bytes per element
	BigEndian bool // byte order of numbers
	Signed    bool // integers only
	// VarLenString is set for variable-length strings (Class ClassVarLen).
	VarLenString bool
	// StringPad is the padding of fixed-length strings: 0 null-terminated,
	// 1 null-padded, 2 space-padded.
	StringPad int

	// Floating-point layout: bit precision and offset, exponent and
	// mantissa location and size, exponent bias.
	precision, bitOffset  int
	expLoc, expSize       int
	mantLoc, mantSize     int
	expBias, signLocation int
}

// IsFloat32 reports whether t is little-endian IEEE 754 binary32.
func (t Datatype) IsFloat32() bool {
	return t.Class == ClassFloat && t.Size == 4 && !t.BigEndian &&
		t.precision == 32 && t.bitOffset == 0 && t.expLoc == 23 && t.expSize == 8 &&
		t.mantLoc == 0 && t.mantSize == 23 && t.expBias == 127 && t.signLocation == 31
}

// String names the type the way numpy would, e.g. "float32", "int64
// big-endian", "string(5)", "variable-length string".
func (t Datatype) String() string {
	order := ""
	if t.BigEndian {
		order = " big-endian"
	}
	switch t.Class {
	case ClassFloat:
		return fmt.Sprintf("float%d%s", 8*t.Size, order)
	case ClassFixedPoint:
		if t.Signed {
			return fmt.Sprintf("int%d%s", 8*t.Size, order)
		}
		return fmt.Sprintf("uint%d%s", 8*t.Size, order)
	case ClassString:
		return fmt.Sprintf("string(%d)", t.Size)
	case ClassVarLen:
		if t.VarLenString {
			return "variable-length string"
		}
		return "variable-length sequence"
	}
	if int(t.Class) < len(classNames) {
		return classNames[t.Class]
	}
	return fmt.Sprintf("datatype class %d", t.Class)
}

// parseDatatype decodes a datatype message body. It returns a problem
// description instead of an error so callers can add the object path.
func parseDatatype(b []byte) (Datatype, string) {
	var t Datatype
	if len(b) < 8 {
		return t, "datatype message is truncated"
	}
	t.Class = Class(b[0] & 0x0f)
	version := b[0] >> 4
	if version < 1 || version > 3 {
		return t, fmt.Sprintf("datatype message version %d is not supported", version)
	}
	bits := uint32(b[1]) | uint32(b[2])<<8 | uint32(b[3])<<16
	size := binary.LittleEndian.Uint32(b[4:8])
	if size == 0 || size > 1<<20 {
		return t, fmt.Sprintf("datatype size %d is invalid", size)
	}
	t.Size = int(size)
	props := b[8:]
	switch t.Class {
	case ClassFixedPoint:
		t.BigEndian = bits&1 != 0
		t.Signed = bits&8 != 0
	case ClassFloat:
		t.BigEndian = bits&1 != 0 || bits&0x40 != 0 // bit 6: VAX order
		t.signLocation = int(bits >> 8 & 0xff)
		if len(props) < 12 {
			return t, "floating-point datatype properties are truncated"
		}
		t.bitOffset = int(binary.LittleEndian.Uint16(props[0:2]))
		t.precision = int(binary.LittleEndian.Uint16(props[2:4]))
		t.expLoc = int(props[4])
		t.expSize = int(props[5])
		t.mantLoc = int(props[6])
		t.mantSize = int(props[7])
		t.expBias = int(binary.LittleEndian.Uint32(props[8:12]))
	case ClassString:
		t.StringPad = int(bits & 0x0f)
	case ClassVarLen:
		t.VarLenString = bits&0x0f == 1
		t.StringPad = int(bits >> 4 & 0x0f)
	}
	return t, ""
}

// dataspace is a decoded dataspace message: the dimensions (empty for a
// scalar) and whether it is the null dataspace (no elements at all).
type dataspace struct {
	dims []uint64
	null bool
}

// count returns the number of elements, or ok=false on overflow.
func (s dataspace) count() (n uint64, ok bool) {
	if s.null {
		return 0, true
	}
	n = 1
	for _, d := range s.dims {
		if d != 0 && n > math.MaxUint64/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// shape returns the dimensions as ints, or ok=false if one does not fit.
func (s dataspace) shape() ([]int, bool) {
	out := make([]int, len(s.dims))
	for i, d := range s.dims {
		if d > math.MaxInt {
			return nil, false
		}
		out[i] = int(d)
	}
	return out, true
}

// parseDataspace decodes a dataspace message (versions 1 and 2).
func (f *File) parseDataspace(b []byte) (dataspace, string) {
	var s dataspace
	c := f.cursor(b)
	version := c.u8()
	rank := int(c.u8())
	flags := c.u8()
	switch version {
	case 1:
		c.skip(5) // reserved
	case 2:
		switch c.u8() {
		case 0: // scalar
		case 1: // simple
		case 2:
			s.null = true
		default:
			return s, "dataspace type is invalid"
		}
	default:
		return s, fmt.Sprintf("dataspace message version %d is not supported", version)
	}
	if rank > maxRank {
		return s, fmt.Sprintf("dataspace rank %d is above HDF5's limit of %d", rank, maxRank)
	}
	s.dims = make([]uint64, rank)
	for i := range s.dims {
		s.dims[i] = c.length()
	}
	if flags&1 != 0 {
		for range rank {
			c.length() // maximum dimensions: not needed to read
		}
	}
	if c.err {
		return s, "dataspace message is truncated"
	}
	if _, ok := s.count(); !ok {
		return s, fmt.Sprintf("dataspace %v has more elements than fit in 64 bits", s.dims)
	}
	return s, ""
}

// Storage layout classes.
const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
	layoutVirtual    = 3
)

// layout is a decoded data layout message.
type layout struct {
	class   int
	addr    uint64 // contiguous: data address (may be undefined)
	size    uint64 // contiguous: bytes of data; 0 when the message has no size (v1/v2)
	compact []byte // compact: the data itself
}

// parseLayout decodes a data layout message (versions 1 to 4).
func (f *File) parseLayout(b []byte) (layout, string) {
	var l layout
	c := f.cursor(b)
	version := c.u8()
	switch version {
	case 1, 2:
		rank := int(c.u8())
		l.class = int(c.u8())
		c.skip(5)
		if l.class != layoutCompact {
			l.addr = c.addr()
		}
		c.skip(4 * rank)
		switch l.class {
		case layoutChunked:
			c.skip(4)
		case layoutCompact:
			n := c.u32()
			l.compact = c.take(int(n))
		}
	case 3, 4, 5:
		l.class = int(c.u8())
		switch l.class {
		case layoutCompact:
			n := c.u16()
			l.compact = c.take(int(n))
		case layoutContiguous:
			l.addr = c.addr()
			l.size = c.length()
		}
	default:
		return l, fmt.Sprintf("data layout message version %d is not supported", version)
	}
	if c.err {
		return l, "data layout message is truncated"
	}
	return l, ""
}
