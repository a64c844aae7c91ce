package hdf5

import (
	"bytes"
	"fmt"
	"strings"
)

// Group is an HDF5 group: a directory of named members (groups and
// datasets) with attributes.
type Group struct {
	file *File
	path string
	addr uint64 // object header address
}

// Kind tells what a group member is.
type Kind int

// Member kinds.
const (
	KindOther Kind = iota // e.g. a committed datatype
	KindGroup
	KindDataset
)

func (k Kind) String() string {
	switch k {
	case KindGroup:
		return "group"
	case KindDataset:
		return "dataset"
	}
	return "other"
}

// Member is one entry of a group.
type Member struct {
	Name string
	Kind Kind
}

// link is a group entry as stored: its name and object header address.
type link struct {
	name   string
	header uint64
}

// newStyleGroup is the problem reported for HDF5 1.8 link-message groups.
const newStyleGroup = "new-style group (link messages, written with libver=\"latest\" or track_order=True) is not supported; only symbol-table groups, which h5py writes by default"

// Path returns the group's HDF5 path, e.g. "/" or "/block1_conv1".
func (g *Group) Path() string { return g.path }

// File returns the file the group belongs to.
func (g *Group) File() *File { return g.file }

// childPath joins a parent path and a member name.
func childPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// links reads the group's symbol table: every member's name and object
// header address, in the B-tree's (byte-wise name) order.
func (g *Group) links() ([]link, error) {
	f := g.file
	if l, ok := f.links[g.addr]; ok {
		return l, nil
	}
	h, err := f.header(g.addr, g.path)
	if err != nil {
		return nil, err
	}
	st := h.find(msgSymbolTable)
	if st == nil {
		if h.find(msgLinkInfo) != nil || h.find(msgLink) != nil {
			return nil, f.errorf(g.path, "%s", newStyleGroup)
		}
		return nil, f.errorf(g.path, "not a group (no symbol table message)")
	}
	c := f.cursor(st.data)
	btree, heapAddr := c.addr(), c.addr()
	if c.err {
		return nil, f.errorf(g.path, "symbol table message is truncated")
	}
	heap, err := f.localHeap(heapAddr, g.path)
	if err != nil {
		return nil, err
	}
	var out []link
	seen := map[uint64]bool{}
	if err := f.walkGroupBTree(btree, -1, heap, g.path, 0, seen, &out); err != nil {
		return nil, err
	}
	f.links[g.addr] = out
	return out, nil
}

// localHeap returns the data segment of the local heap at addr (cached).
func (f *File) localHeap(addr uint64, path string) ([]byte, error) {
	if d, ok := f.localHeaps[addr]; ok {
		return d, nil
	}
	off, err := f.abs(addr, path, "local heap")
	if err != nil {
		return nil, err
	}
	n := uint64(8 + 2*f.lengthSize + f.offsetSize)
	b, err := f.readAt(off, n, path, "local heap header")
	if err != nil {
		return nil, err
	}
	if string(b[:4]) != "HEAP" {
		return nil, f.errorf(path, "local heap signature missing at offset %d: corrupt", off)
	}
	if b[4] != 0 {
		return nil, f.errorf(path, "local heap version %d is not supported", b[4])
	}
	c := f.cursor(b[8:])
	size := c.length()
	c.length() // free list head
	dataAddr := c.addr()
	doff, err := f.abs(dataAddr, path, "local heap data")
	if err != nil {
		return nil, err
	}
	data, err := f.readAt(doff, size, path, "local heap data")
	if err != nil {
		return nil, err
	}
	f.localHeaps[addr] = data
	return data, nil
}

// heapString returns the NUL-terminated string at offset off of a local heap.
func (f *File) heapString(heap []byte, off uint64, path string) (string, error) {
	if off >= uint64(len(heap)) {
		return "", f.errorf(path, "member name offset %d is outside the local heap (%d bytes): corrupt", off, len(heap))
	}
	s := heap[off:]
	end := bytes.IndexByte(s, 0)
	if end < 0 {
		return "", f.errorf(path, "member name at heap offset %d is not NUL-terminated: corrupt", off)
	}
	return string(s[:end]), nil
}

// walkGroupBTree appends the members found under the version 1 B-tree node
// at addr. wantLevel is the level the parent expects (-1 at the root).
func (f *File) walkGroupBTree(addr uint64, wantLevel int, heap []byte, path string, depth int, seen map[uint64]bool, out *[]link) error {
	if depth > maxBTreeDepth {
		return f.errorf(path, "group B-tree deeper than %d levels: corrupt", maxBTreeDepth)
	}
	off, err := f.abs(addr, path, "group B-tree node")
	if err != nil {
		return err
	}
	if seen[off] {
		return f.errorf(path, "group B-tree nodes form a loop: corrupt")
	}
	seen[off] = true
	hsize := uint64(8 + 2*f.offsetSize)
	b, err := f.readAt(off, hsize, path, "group B-tree node")
	if err != nil {
		return err
	}
	if string(b[:4]) != "TREE" {
		return f.errorf(path, "group B-tree signature missing at offset %d: corrupt", off)
	}
	if b[4] != 0 {
		return f.errorf(path, "B-tree node type %d where a group node (0) was expected: corrupt", b[4])
	}
	level := int(b[5])
	if wantLevel >= 0 && level != wantLevel {
		return f.errorf(path, "group B-tree node at level %d where level %d was expected: corrupt", level, wantLevel)
	}
	entries := uint64(b[6]) | uint64(b[7])<<8
	// Keys (heap offsets) and child addresses alternate: key, child, ..., key.
	body, err := f.readAt(off+hsize, entries*uint64(f.lengthSize+f.offsetSize)+uint64(f.lengthSize), path, "group B-tree node")
	if err != nil {
		return err
	}
	c := f.cursor(body)
	for range entries {
		c.length() // key: heap offset of the largest name in the child
		child := c.addr()
		if c.err {
			return f.errorf(path, "group B-tree node is truncated")
		}
		if level > 0 {
			if err := f.walkGroupBTree(child, level-1, heap, path, depth+1, seen, out); err != nil {
				return err
			}
			continue
		}
		if err := f.readSymbolNode(child, heap, path, seen, out); err != nil {
			return err
		}
	}
	return nil
}

// readSymbolNode appends the entries of the symbol table node at addr.
func (f *File) readSymbolNode(addr uint64, heap []byte, path string, seen map[uint64]bool, out *[]link) error {
	off, err := f.abs(addr, path, "symbol table node")
	if err != nil {
		return err
	}
	if seen[off] {
		return f.errorf(path, "symbol table node referenced twice: corrupt")
	}
	seen[off] = true
	b, err := f.readAt(off, 8, path, "symbol table node")
	if err != nil {
		return err
	}
	if string(b[:4]) != "SNOD" {
		return f.errorf(path, "symbol table node signature missing at offset %d: corrupt", off)
	}
	if b[4] != 1 {
		return f.errorf(path, "symbol table node version %d is not supported", b[4])
	}
	n := uint64(b[6]) | uint64(b[7])<<8
	body, err := f.readAt(off+8, n*uint64(symbolEntrySize(f.offsetSize)), path, "symbol table node")
	if err != nil {
		return err
	}
	c := f.cursor(body)
	for range n {
		e := c.symbolEntry()
		if c.err {
			return f.errorf(path, "symbol table node is truncated")
		}
		name, err := f.heapString(heap, e.nameOffset, path)
		if err != nil {
			return err
		}
		if len(*out) >= maxGroupMembers {
			return f.errorf(path, "group has more than %d members", maxGroupMembers)
		}
		*out = append(*out, link{name: name, header: e.header})
	}
	return nil
}

// Names returns the names of the group's members in stored (byte-wise
// sorted) order.
func (g *Group) Names() ([]string, error) {
	links, err := g.links()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(links))
	for i, l := range links {
		names[i] = l.name
	}
	return names, nil
}

// Members returns the group's members with their kinds, in stored order.
func (g *Group) Members() ([]Member, error) {
	links, err := g.links()
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(links))
	for i, l := range links {
		h, err := g.file.header(l.header, childPath(g.path, l.name))
		if err != nil {
			return nil, err
		}
		out[i] = Member{Name: l.name, Kind: kindOf(h)}
	}
	return out, nil
}

// kindOf classifies an object by its header messages.
func kindOf(h *objectHeader) Kind {
	switch {
	case h.find(msgSymbolTable) != nil || h.find(msgLinkInfo) != nil:
		return KindGroup
	case h.find(msgLayout) != nil:
		return KindDataset
	}
	return KindOther
}

// lookup resolves a relative path ("a/b/c"; a leading "/" starts at the
// group itself too) to an object header address and its full path.
func (g *Group) lookup(rel string) (uint64, string, error) {
	parts := strings.Split(rel, "/")
	if len(parts) > maxPathDepth {
		return 0, "", g.file.errorf(g.path, "path %q has more than %d components", rel, maxPathDepth)
	}
	cur := g
	addr := g.addr
	path := g.path
	for i, p := range parts {
		if p == "" || p == "." {
			continue
		}
		links, err := cur.links()
		if err != nil {
			return 0, "", err
		}
		found := false
		for _, l := range links {
			if l.name == p {
				addr = l.header
				path = childPath(path, p)
				found = true
				break
			}
		}
		if !found {
			return 0, "", fmt.Errorf("%s: hdf5 %s: no member %q: %w", g.file.name, cur.path, p, ErrNotFound)
		}
		if i < len(parts)-1 {
			cur = &Group{file: g.file, path: path, addr: addr}
		}
	}
	return addr, path, nil
}

// Group opens the group at the relative path rel (e.g. "layers/conv2d").
func (g *Group) Group(rel string) (*Group, error) {
	addr, path, err := g.lookup(rel)
	if err != nil {
		return nil, err
	}
	h, err := g.file.header(addr, path)
	if err != nil {
		return nil, err
	}
	if kindOf(h) != KindGroup {
		return nil, g.file.errorf(path, "is a %s, not a group", kindOf(h))
	}
	if h.find(msgSymbolTable) == nil {
		return nil, g.file.errorf(path, "%s", newStyleGroup)
	}
	return &Group{file: g.file, path: path, addr: addr}, nil
}

// Dataset opens the dataset at the relative path rel.
func (g *Group) Dataset(rel string) (*Dataset, error) {
	addr, path, err := g.lookup(rel)
	if err != nil {
		return nil, err
	}
	return g.file.openDataset(addr, path)
}

// Attrs returns the group's attributes in stored order.
func (g *Group) Attrs() ([]*Attribute, error) { return g.file.attributes(g.addr, g.path) }

// Attr returns the named attribute; the error wraps ErrNotFound if there is
// none.
func (g *Group) Attr(name string) (*Attribute, error) { return g.file.attribute(g.addr, g.path, name) }
