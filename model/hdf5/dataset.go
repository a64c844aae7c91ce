package hdf5

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// Dataset is an HDF5 dataset: a typed n-dimensional array.
type Dataset struct {
	file    *File
	path    string
	addr    uint64
	Shape   []int    // dimensions; empty for a scalar
	Type    Datatype // element type
	count   uint64   // number of elements
	layout  layout
	filters bool // a filter pipeline (compression, shuffle, ...) is present
}

// openDataset decodes the dataset whose object header is at addr.
func (f *File) openDataset(addr uint64, path string) (*Dataset, error) {
	h, err := f.header(addr, path)
	if err != nil {
		return nil, err
	}
	if kindOf(h) != KindDataset {
		return nil, f.errorf(path, "is a %s, not a dataset", kindOf(h))
	}
	d := &Dataset{file: f, path: path, addr: addr}
	space := h.find(msgDataspace)
	dtype := h.find(msgDatatype)
	lay := h.find(msgLayout)
	if space == nil || dtype == nil {
		return nil, f.errorf(path, "dataset has no dataspace or datatype message: corrupt")
	}
	if dtype.flags&messageFlagShared != 0 {
		return nil, f.errorf(path, "committed (shared) datatypes are not supported")
	}
	if space.flags&messageFlagShared != 0 || lay.flags&messageFlagShared != 0 {
		return nil, f.errorf(path, "shared dataspace or layout messages are not supported")
	}
	ds, problem := f.parseDataspace(space.data)
	if problem != "" {
		return nil, f.errorf(path, "%s", problem)
	}
	shape, ok := ds.shape()
	if !ok {
		return nil, f.errorf(path, "dimensions %v are too large", ds.dims)
	}
	d.Shape = shape
	d.count, _ = ds.count()
	if d.count > math.MaxInt64/16 {
		return nil, f.errorf(path, "dimensions %v give %d elements: corrupt", ds.dims, d.count)
	}
	d.Type, problem = parseDatatype(dtype.data)
	if problem != "" {
		return nil, f.errorf(path, "%s", problem)
	}
	d.layout, problem = f.parseLayout(lay.data)
	if problem != "" {
		return nil, f.errorf(path, "%s", problem)
	}
	if h.find(msgExternal) != nil {
		return nil, f.errorf(path, "external storage (data in another file) is not supported")
	}
	d.filters = h.find(msgFilters) != nil
	return d, nil
}

// Path returns the dataset's HDF5 path.
func (d *Dataset) Path() string { return d.path }

// Len returns the number of elements.
func (d *Dataset) Len() int { return int(d.count) }

// Attrs returns the dataset's attributes in stored order.
func (d *Dataset) Attrs() ([]*Attribute, error) { return d.file.attributes(d.addr, d.path) }

// Attr returns the named attribute; the error wraps ErrNotFound if there is
// none.
func (d *Dataset) Attr(name string) (*Attribute, error) {
	return d.file.attribute(d.addr, d.path, name)
}

// Float32s reads the whole dataset, which must hold little-endian float32.
func (d *Dataset) Float32s() ([]float32, error) {
	if err := d.checkReadable(); err != nil {
		return nil, err
	}
	dst := make([]float32, d.count)
	if err := d.ReadFloat32(dst); err != nil {
		return nil, err
	}
	return dst, nil
}

// checkReadable verifies the type and storage before anything is
// allocated: the data must be float32 and lie inside the file.
func (d *Dataset) checkReadable() error {
	f := d.file
	if !d.Type.IsFloat32() {
		return f.errorf(d.path, "datatype is %s; only little-endian float32 is supported", d.Type)
	}
	switch d.layout.class {
	case layoutContiguous, layoutCompact:
	case layoutChunked:
		return f.errorf(d.path, "chunked storage (h5py's chunks=, compression= or maxshape=) is not supported; only contiguous and compact datasets, h5py's default")
	case layoutVirtual:
		return f.errorf(d.path, "virtual datasets are not supported")
	default:
		return f.errorf(d.path, "unknown storage layout class %d", d.layout.class)
	}
	if d.filters {
		return f.errorf(d.path, "filters (compression) are not supported")
	}
	nbytes := d.count * 4
	if d.count > math.MaxUint64/4 || nbytes > f.size {
		return f.errorf(d.path, "%d float32 values (%d bytes) cannot fit in the file (%d bytes): truncated or corrupt", d.count, nbytes, f.size)
	}
	if d.layout.class == layoutCompact {
		if uint64(len(d.layout.compact)) < nbytes {
			return f.errorf(d.path, "compact data has %d bytes, want %d: corrupt", len(d.layout.compact), nbytes)
		}
		return nil
	}
	if d.count == 0 {
		return nil
	}
	if f.undefined(d.layout.addr) {
		return f.errorf(d.path, "no data was ever written (storage not allocated)")
	}
	if d.layout.size != 0 && d.layout.size < nbytes {
		return f.errorf(d.path, "contiguous storage has %d bytes, want %d for %v float32: corrupt", d.layout.size, nbytes, d.Shape)
	}
	off := f.base + d.layout.addr
	if off < d.layout.addr || off > f.size || nbytes > f.size-off {
		return f.errorf(d.path, "data (%d bytes at offset %d) runs past the end of the file (%d bytes): truncated", nbytes, off, f.size)
	}
	return nil
}

// hostLittleEndian is true on little-endian machines (amd64, arm64, wasm).
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// ReadFloat32 reads the whole dataset into dst, whose length must equal
// Len(). Contiguous data is read with one ReadAt straight into dst.
func (d *Dataset) ReadFloat32(dst []float32) error {
	f := d.file
	if err := d.checkReadable(); err != nil {
		return err
	}
	if uint64(len(dst)) != d.count {
		return f.errorf(d.path, "destination has %d elements, dataset %d", len(dst), d.count)
	}
	if d.count == 0 {
		return nil
	}
	if d.layout.class == layoutCompact {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(d.layout.compact[4*i:]))
		}
		return nil
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst))
	off := int64(f.base + d.layout.addr)
	if n, err := f.r.ReadAt(raw, off); n != len(raw) {
		return f.errorf(d.path, "reading %d bytes at offset %d: got %d: %v", len(raw), off, n, err)
	}
	if !hostLittleEndian {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	}
	return nil
}
