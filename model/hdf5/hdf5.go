// Package hdf5 is a small pure-Go reader for the subset of HDF5 that h5py
// writes with its default settings, enough to read Keras weight files:
//
//   - superblock version 0 or 1 (at offset 0 or after a user block);
//   - version 1 object headers with continuation blocks;
//   - "old-style" groups: symbol table message, version 1 B-tree of group
//     nodes, symbol table nodes and a local heap for the names;
//   - datasets with contiguous or compact storage, read as little-endian
//     IEEE float32;
//   - attributes (message versions 1 to 3) holding fixed-length or
//     variable-length strings (the latter in the global heap).
//
// Anything else (superblock v2/v3, v2 object headers and link-message
// groups, written with libver="latest" or track_order=True; chunked or
// filtered storage; external storage; big-endian or non-float32 data;
// shared datatypes) is refused with a *FormatError that names the file, the
// object path and the problem.
//
// The reader never trusts a length in the file: every size is checked
// against the file's size before memory is allocated for it, and every walk
// over file structures is bounded, so a corrupt or hostile file gives an
// error, never a panic, a hang or a huge allocation.
//
// The layout is described by the HDF5 File Format Specification (version 3.0
// of the document; the structures used here date from HDF5 1.0–1.8).
package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// FormatError reports a problem with the contents of an HDF5 file: the file
// name, the object (an HDF5 path such as "/block1_conv1/kernel:0", or a
// structure such as "superblock"), and what is wrong.
type FormatError struct {
	File    string
	Object  string
	Problem string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: hdf5 %s: %s", e.File, e.Object, e.Problem)
}

// ErrNotFound is wrapped by the errors returned when a group member or an
// attribute does not exist.
var ErrNotFound = errors.New("not found")

// signature is the 8 bytes every HDF5 superblock starts with.
var signature = []byte("\x89HDF\r\n\x1a\n")

// Limits on walks over file structures; real Keras files are far below them.
const (
	maxBTreeDepth        = 32      // levels of a group B-tree
	maxHeaderBlocks      = 1024    // continuation blocks of one object header
	maxPathDepth         = 64      // components in a path given to Lookup
	maxRank              = 32      // HDF5's own limit on dataspace rank
	maxGroupMembers      = 1 << 20 // members of one group
	maxAttributesPerNode = 1 << 16
)

// File is an open HDF5 file. Its methods are not safe for concurrent use.
type File struct {
	r    io.ReaderAt
	size uint64
	name string
	c    io.Closer // non-nil when Open opened the file

	offsetSize int    // bytes in an address ("size of offsets")
	lengthSize int    // bytes in a length ("size of lengths")
	base       uint64 // base address: every address is relative to it
	rootAddr   uint64 // root group's object header address

	headers    map[uint64]*objectHeader
	heaps      map[uint64][]byte // global heap collections by address
	localHeaps map[uint64][]byte // local heap data segments by heap address
	links      map[uint64][]link // group members by group object header address
}

// Open opens the named HDF5 file. Close it when done.
func Open(path string) (*File, error) {
	osf, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := osf.Stat()
	if err != nil {
		osf.Close()
		return nil, err
	}
	f, err := NewFile(osf, st.Size(), path)
	if err != nil {
		osf.Close()
		return nil, err
	}
	f.c = osf
	return f, nil
}

// NewFile reads the HDF5 file of the given size from r; name is used in
// error messages. Close on the result does not close r.
func NewFile(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 0 {
		return nil, &FormatError{name, "file", "negative size"}
	}
	f := &File{
		r:          r,
		size:       uint64(size),
		name:       name,
		headers:    map[uint64]*objectHeader{},
		heaps:      map[uint64][]byte{},
		localHeaps: map[uint64][]byte{},
		links:      map[uint64][]link{},
	}
	if err := f.readSuperblock(); err != nil {
		return nil, err
	}
	// Parse the root object header now so that a file whose root is broken
	// fails at open time.
	if _, err := f.header(f.rootAddr, "/"); err != nil {
		return nil, err
	}
	return f, nil
}

// Close closes the underlying file if Open opened it.
func (f *File) Close() error {
	if f.c != nil {
		err := f.c.Close()
		f.c = nil
		return err
	}
	return nil
}

// Name returns the file name used in error messages.
func (f *File) Name() string { return f.name }

// Size returns the file size in bytes.
func (f *File) Size() int64 { return int64(f.size) }

// Root returns the root group "/".
func (f *File) Root() *Group {
	return &Group{file: f, path: "/", addr: f.rootAddr}
}

// errorf returns a *FormatError for object.
func (f *File) errorf(object, format string, args ...any) error {
	return &FormatError{File: f.name, Object: object, Problem: fmt.Sprintf(format, args...)}
}

// readAt reads n bytes at the absolute file offset off, after checking that
// they lie inside the file (so n is bounded by the file size before any
// allocation).
func (f *File) readAt(off, n uint64, object, what string) ([]byte, error) {
	if off > f.size || n > f.size-off {
		return nil, f.errorf(object, "%s of %d bytes at offset %d runs past the end of the file (%d bytes): truncated or corrupt", what, n, off, f.size)
	}
	buf := make([]byte, n)
	if n == 0 {
		return buf, nil
	}
	if _, err := f.r.ReadAt(buf, int64(off)); err != nil && !(err == io.EOF) {
		return nil, f.errorf(object, "reading %s at offset %d: %v", what, off, err)
	}
	return buf, nil
}

// undefined reports whether a is the "undefined address" (all bits set).
func (f *File) undefined(a uint64) bool {
	if f.offsetSize == 8 {
		return a == ^uint64(0)
	}
	return a == (uint64(1)<<(8*f.offsetSize))-1
}

// abs turns a file address into an absolute offset, checking it lies in
// the file.
func (f *File) abs(a uint64, object, what string) (uint64, error) {
	if f.undefined(a) {
		return 0, f.errorf(object, "%s address is undefined", what)
	}
	off := f.base + a
	if off < a || off >= f.size {
		return 0, f.errorf(object, "%s address %d is outside the file (%d bytes): truncated or corrupt", what, a, f.size)
	}
	return off, nil
}

// readSuperblock finds and decodes the superblock. The format allows it at
// offset 0, 512, 1024, 2048, ... (after a user block).
func (f *File) readSuperblock() error {
	var at uint64
	found := false
	for at = 0; at+8 <= f.size; at = nextSuperblockOffset(at) {
		sig, err := f.readAt(at, 8, "superblock", "signature")
		if err != nil {
			return err
		}
		if bytes.Equal(sig, signature) {
			found = true
			break
		}
	}
	if !found {
		return f.errorf("superblock", "no HDF5 signature found: not an HDF5 file")
	}
	head, err := f.readAt(at, 9, "superblock", "header")
	if err != nil {
		return err
	}
	version := head[8]
	if version > 1 {
		return f.errorf("superblock", "version %d is not supported (only versions 0 and 1, which h5py writes by default; this file was probably written with libver=\"latest\")", version)
	}
	// Fixed part: 8 signature + 16 bytes of versions, sizes and K values
	// (+4 in version 1), then 4 addresses and the root symbol table entry.
	fixed := uint64(24)
	if version == 1 {
		fixed += 4
	}
	b, err := f.readAt(at, fixed, "superblock", "header")
	if err != nil {
		return err
	}
	if b[9] != 0 || b[10] != 0 || b[12] != 0 {
		return f.errorf("superblock", "unsupported free-space (%d), root symbol table entry (%d) or shared header message (%d) version", b[9], b[10], b[12])
	}
	f.offsetSize = int(b[13])
	f.lengthSize = int(b[14])
	if !validSize(f.offsetSize) || !validSize(f.lengthSize) {
		return f.errorf("superblock", "unsupported size of offsets %d / lengths %d (want 2, 4 or 8)", f.offsetSize, f.lengthSize)
	}
	rest := uint64(4*f.offsetSize) + uint64(symbolEntrySize(f.offsetSize))
	b, err = f.readAt(at+fixed, rest, "superblock", "addresses")
	if err != nil {
		return err
	}
	c := f.cursor(b)
	f.base = c.addr()
	c.addr() // free-space info address: unused
	eof := c.addr()
	c.addr() // driver information block address
	entry := c.symbolEntry()
	if c.err {
		return f.errorf("superblock", "truncated")
	}
	if f.base != at && f.base != 0 {
		return f.errorf("superblock", "base address %d does not match the superblock position %d", f.base, at)
	}
	// The end-of-file address counts from the start of the file (user
	// block included), unlike every other address.
	if !f.undefined(eof) && eof > f.size {
		return f.errorf("superblock", "file is truncated: the superblock says it ends at byte %d but it has %d bytes", eof, f.size)
	}
	f.rootAddr = entry.header
	return nil
}

// nextSuperblockOffset returns the next place a superblock may start.
func nextSuperblockOffset(at uint64) uint64 {
	if at == 0 {
		return 512
	}
	return at * 2
}

func validSize(n int) bool { return n == 2 || n == 4 || n == 8 }

// symbolEntrySize is the size of a symbol table entry: link name offset,
// object header address, cache type, reserved, 16-byte scratch pad.
func symbolEntrySize(offsetSize int) int { return 2*offsetSize + 4 + 4 + 16 }

// cursor decodes little-endian fields from a byte slice. Reading past the
// end sets err and returns zeros, so callers check err once at the end.
type cursor struct {
	b          []byte
	pos        int
	err        bool
	offsetSize int
	lengthSize int
}

func (f *File) cursor(b []byte) *cursor {
	return &cursor{b: b, offsetSize: f.offsetSize, lengthSize: f.lengthSize}
}

func (c *cursor) take(n int) []byte {
	if c.err || n < 0 || n > len(c.b)-c.pos {
		c.err = true
		return nil
	}
	p := c.b[c.pos : c.pos+n]
	c.pos += n
	return p
}

func (c *cursor) skip(n int) { c.take(n) }

func (c *cursor) u8() uint8 {
	p := c.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (c *cursor) u16() uint16 {
	p := c.take(2)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(p)
}

func (c *cursor) u32() uint32 {
	p := c.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

// uint reads an n-byte little-endian unsigned integer (n in 1..8).
func (c *cursor) uint(n int) uint64 {
	p := c.take(n)
	if p == nil {
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(p[i])
	}
	return v
}

func (c *cursor) addr() uint64   { return c.uint(c.offsetSize) }
func (c *cursor) length() uint64 { return c.uint(c.lengthSize) }

// align8 advances to the next multiple of 8 from the start of the slice.
func (c *cursor) align8() {
	if r := c.pos % 8; r != 0 {
		c.skip(8 - r)
	}
}

// symbolEntry is a decoded symbol table entry.
type symbolEntry struct {
	nameOffset uint64
	header     uint64
}

func (c *cursor) symbolEntry() symbolEntry {
	var e symbolEntry
	e.nameOffset = c.addr()
	e.header = c.addr()
	c.skip(4 + 4 + 16) // cache type, reserved, scratch pad: not needed
	return e
}
