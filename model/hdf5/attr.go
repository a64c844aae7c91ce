package hdf5

import (
	"bytes"
	"fmt"
	"strings"
)

// Attribute is a small named value attached to a group or dataset.
type Attribute struct {
	Name  string
	Shape []int    // dimensions; empty for a scalar
	Type  Datatype // element type
	file  *File
	path  string // owner's path, for errors
	count uint64 // number of elements
	data  []byte // raw element data, count*Type.Size bytes
}

// attributes decodes every attribute message of the object at addr.
func (f *File) attributes(addr uint64, path string) ([]*Attribute, error) {
	h, err := f.header(addr, path)
	if err != nil {
		return nil, err
	}
	if m := h.find(msgAttrInfo); m != nil {
		// Dense attribute storage (fractal heap) only exists with v2 headers
		// in practice; refuse it if it ever shows up in a v1 header.
		return nil, f.errorf(path, "dense attribute storage (attribute info message) is not supported")
	}
	var out []*Attribute
	for i := range h.msgs {
		m := &h.msgs[i]
		if m.typ != msgAttribute {
			continue
		}
		if len(out) >= maxAttributesPerNode {
			return nil, f.errorf(path, "more than %d attributes", maxAttributesPerNode)
		}
		a, err := f.parseAttribute(m, path)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// attribute returns the attribute called name of the object at addr.
func (f *File) attribute(addr uint64, path, name string) (*Attribute, error) {
	attrs, err := f.attributes(addr, path)
	if err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%s: hdf5 %s: no attribute %q: %w", f.name, path, name, ErrNotFound)
}

// parseAttribute decodes one attribute message (versions 1 to 3).
func (f *File) parseAttribute(m *message, path string) (*Attribute, error) {
	if m.flags&messageFlagShared != 0 {
		return nil, f.errorf(path, "shared attribute messages are not supported")
	}
	c := f.cursor(m.data)
	version := c.u8()
	flags := c.u8() // reserved in version 1
	nameSize := int(c.u16())
	typeSize := int(c.u16())
	spaceSize := int(c.u16())
	switch version {
	case 1:
	case 2, 3:
		if flags&3 != 0 {
			return nil, f.errorf(path, "attribute with a shared datatype or dataspace is not supported")
		}
		if version == 3 {
			c.u8() // name character set
		}
	default:
		return nil, f.errorf(path, "attribute message version %d is not supported", version)
	}
	name := c.take(nameSize)
	if version == 1 {
		c.align8()
	}
	typ := c.take(typeSize)
	if version == 1 {
		c.align8()
	}
	space := c.take(spaceSize)
	if version == 1 {
		c.align8()
	}
	if c.err {
		return nil, f.errorf(path, "attribute message is truncated")
	}
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	a := &Attribute{Name: string(name), file: f, path: path}
	where := path + " attribute " + a.Name
	var problem string
	a.Type, problem = parseDatatype(typ)
	if problem != "" {
		return nil, f.errorf(where, "%s", problem)
	}
	ds, problem := f.parseDataspace(space)
	if problem != "" {
		return nil, f.errorf(where, "%s", problem)
	}
	var ok bool
	if a.Shape, ok = ds.shape(); !ok {
		return nil, f.errorf(where, "dimensions %v are too large", ds.dims)
	}
	a.count, _ = ds.count()
	rest := uint64(len(m.data) - c.pos)
	if a.count > rest || a.count*uint64(a.Type.Size) > rest {
		return nil, f.errorf(where, "%d elements of %d bytes do not fit in the %d bytes of the attribute message: corrupt", a.count, a.Type.Size, rest)
	}
	a.data = c.take(int(a.count) * a.Type.Size)
	return a, nil
}

// Len returns the number of elements.
func (a *Attribute) Len() int { return int(a.count) }

// Strings returns the attribute's elements as strings. It accepts
// fixed-length strings (trailing NULs or spaces removed, as h5py does),
// variable-length strings (read from the global heap), and any empty
// attribute (Keras writes an empty float64 array for a layer without
// weights), which gives an empty list.
func (a *Attribute) Strings() ([]string, error) {
	f := a.file
	where := a.path + " attribute " + a.Name
	if a.count == 0 {
		return []string{}, nil
	}
	out := make([]string, 0, a.count)
	switch {
	case a.Type.Class == ClassString:
		for i := range int(a.count) {
			s := a.data[i*a.Type.Size : (i+1)*a.Type.Size]
			out = append(out, trimFixed(s, a.Type.StringPad))
		}
	case a.Type.Class == ClassVarLen && a.Type.VarLenString:
		elem := 4 + f.offsetSize + 4
		if a.Type.Size != elem {
			return nil, f.errorf(where, "variable-length element size %d, want %d", a.Type.Size, elem)
		}
		for i := range int(a.count) {
			c := f.cursor(a.data[i*elem : (i+1)*elem])
			n := c.u32()
			coll := c.addr()
			index := c.u32()
			if n == 0 {
				out = append(out, "")
				continue
			}
			obj, err := f.globalHeapObject(coll, index, where)
			if err != nil {
				return nil, err
			}
			if uint64(n) > uint64(len(obj)) {
				return nil, f.errorf(where, "string of %d bytes but its heap object has %d: corrupt", n, len(obj))
			}
			out = append(out, trimFixed(obj[:n], a.Type.StringPad))
		}
	default:
		return nil, f.errorf(where, "datatype is %s, not a string", a.Type)
	}
	return out, nil
}

// String returns a single-string attribute (scalar or one element).
func (a *Attribute) String() (string, error) {
	s, err := a.Strings()
	if err != nil {
		return "", err
	}
	if len(s) != 1 {
		return "", a.file.errorf(a.path+" attribute "+a.Name, "holds %d strings, want 1", len(s))
	}
	return s[0], nil
}

// trimFixed removes a fixed-length string's padding.
func trimFixed(b []byte, pad int) string {
	if pad == 2 {
		return strings.TrimRight(string(b), " ")
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// globalHeapObject returns object index of the global heap collection at
// address coll (collections are cached).
func (f *File) globalHeapObject(coll uint64, index uint32, where string) ([]byte, error) {
	data, ok := f.heaps[coll]
	if !ok {
		off, err := f.abs(coll, where, "global heap collection")
		if err != nil {
			return nil, err
		}
		hsize := uint64(8 + f.lengthSize)
		h, err := f.readAt(off, hsize, where, "global heap collection")
		if err != nil {
			return nil, err
		}
		if string(h[:4]) != "GCOL" {
			return nil, f.errorf(where, "global heap signature missing at offset %d: corrupt", off)
		}
		if h[4] != 1 {
			return nil, f.errorf(where, "global heap version %d is not supported", h[4])
		}
		size := f.cursor(h[8:]).length()
		if size < hsize {
			return nil, f.errorf(where, "global heap collection size %d is too small: corrupt", size)
		}
		data, err = f.readAt(off, size, where, "global heap collection")
		if err != nil {
			return nil, err
		}
		f.heaps[coll] = data
	}
	c := f.cursor(data)
	c.skip(8 + f.lengthSize)
	for len(data)-c.pos >= 8+f.lengthSize {
		idx := c.u16()
		c.u16() // reference count
		c.skip(4)
		n := c.length()
		if idx == 0 { // free space: the rest of the collection
			break
		}
		if n > uint64(len(data)-c.pos) {
			return nil, f.errorf(where, "global heap object %d of %d bytes runs past its collection: corrupt", idx, n)
		}
		obj := c.take(int(n))
		if uint32(idx) == index {
			return obj, nil
		}
		c.align8()
		if c.err {
			break
		}
	}
	return nil, f.errorf(where, "global heap object %d not found in collection at %d: corrupt", index, coll)
}
