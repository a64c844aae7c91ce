package hdf5

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures under testdata/ are written by h5py with default settings by
// testdata/gen_keras_h5.py --features model/hdf5/testdata (see
// TestFixturesReproducible in ../keras_test.go for the check that they are
// up to date).

func openFixture(t testing.TB, name string) *File {
	t.Helper()
	f, err := Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// features is testdata/features.json: what features.h5 holds.
type features struct {
	Datasets map[string]struct {
		Shape  []int
		Values []float64
	}
	Attrs   map[string][]string
	Many    int
	Refused map[string]string
}

func TestFeatures(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "features.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want features
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	f := openFixture(t, "features.h5")
	root := f.Root()
	// The root's attributes were added after it was created, so HDF5 had
	// to continue its object header elsewhere: continuation blocks are
	// exercised.
	if h, err := f.header(f.rootAddr, "/"); err != nil || h.blocks < 2 {
		t.Errorf("root object header: %v, %+v; want more than one block", err, h)
	}

	for name, strs := range want.Attrs {
		a, err := root.Attr(name)
		if err != nil {
			t.Errorf("attr %s: %v", name, err)
			continue
		}
		got, err := a.Strings()
		if err != nil {
			t.Errorf("attr %s: %v", name, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(strs) || len(got) != len(strs) {
			t.Errorf("attr %s = %q, want %q", name, got, strs)
		}
	}
	if a, err := root.Attr("int_scalar"); err != nil {
		t.Error(err)
	} else if _, err := a.Strings(); err == nil || !strings.Contains(err.Error(), "int64, not a string") {
		t.Errorf("int64 attribute as strings: error %v, want a clear refusal", err)
	}
	if _, err := root.Attr("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing attribute: error %v, want ErrNotFound", err)
	}

	for name, d := range want.Datasets {
		ds, err := root.Dataset(name)
		if err != nil {
			t.Errorf("dataset %s: %v", name, err)
			continue
		}
		if fmt.Sprint(ds.Shape) != fmt.Sprint(d.Shape) || len(ds.Shape) != len(d.Shape) {
			t.Errorf("dataset %s shape %v, want %v", name, ds.Shape, d.Shape)
		}
		got, err := ds.Float32s()
		if err != nil {
			t.Errorf("dataset %s: %v", name, err)
			continue
		}
		if len(got) != len(d.Values) {
			t.Errorf("dataset %s: %d values, want %d", name, len(got), len(d.Values))
			continue
		}
		for i := range got {
			// JSON holds the float32 values widened to float64: exact.
			if float64(got[i]) != d.Values[i] {
				t.Errorf("dataset %s[%d] = %v, want %v", name, i, got[i], d.Values[i])
				break
			}
		}
	}

	// Nested lookup through groups, and a group opened as a dataset.
	if _, err := root.Group("a/b/c"); err != nil {
		t.Error(err)
	}
	if _, err := root.Dataset("a/b"); err == nil || !strings.Contains(err.Error(), "not a dataset") {
		t.Errorf("group as dataset: error %v", err)
	}
	if _, err := root.Dataset("a/x/tensor"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing path: error %v, want ErrNotFound", err)
	}

	// 300 members need a B-tree with more than one level.
	many, err := root.Group("many")
	if err != nil {
		t.Fatal(err)
	}
	h, err := f.header(many.addr, many.path)
	if err != nil {
		t.Fatal(err)
	}
	btree := f.cursor(h.find(msgSymbolTable).data).addr()
	node, err := f.readAt(f.base+btree, 8, "many", "B-tree node")
	if err != nil {
		t.Fatal(err)
	}
	if string(node[:4]) != "TREE" || node[5] == 0 {
		t.Errorf("many: B-tree root %q level %d, want level >= 1", node[:4], node[5])
	}
	members, err := many.Members()
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != want.Many {
		t.Fatalf("many: %d members, want %d", len(members), want.Many)
	}
	for i, m := range members {
		if m.Name != fmt.Sprintf("m%03d", i) || m.Kind != KindDataset {
			t.Fatalf("many member %d = %+v", i, m)
		}
		d, err := many.Dataset(m.Name)
		if err != nil {
			t.Fatal(err)
		}
		v, err := d.Float32s()
		if err != nil || len(v) != 1 || v[0] != float32(i) {
			t.Fatalf("many/%s = %v, %v; want [%d]", m.Name, v, err, i)
		}
	}

	for name, problem := range want.Refused {
		d, err := root.Dataset(name)
		if err != nil {
			t.Errorf("dataset %s: %v", name, err)
			continue
		}
		_, err = d.Float32s()
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("dataset %s: error %v, want a *FormatError", name, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, problem) || !strings.Contains(msg, "features.h5") || fe.Object != "/"+name {
			t.Errorf("dataset %s: error %q should name the file, the path /%s and %q", name, msg, name, problem)
		}
	}
}

// A user block before the superblock (addresses relative to the base
// address), and superblock version 1.
func TestSuperblockVariants(t *testing.T) {
	for _, name := range []string{"userblock.h5", "superblock1.h5"} {
		f := openFixture(t, name)
		d, err := f.Root().Dataset("x")
		if err != nil {
			t.Fatal(err)
		}
		v, err := d.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(v) != "[0 1 2 3]" {
			t.Errorf("%s: x = %v, want [0 1 2 3]", name, v)
		}
	}
}

// A group created with track_order=True stores its members as link
// messages, not a symbol table: opening it is refused with a clear error.
func TestRefusedOrderedGroup(t *testing.T) {
	f := openFixture(t, "ordered.h5")
	_, err := f.Root().Group("g")
	if err == nil || !strings.Contains(err.Error(), "ordered.h5: hdf5 /g: new-style group") || !strings.Contains(err.Error(), "track_order") {
		t.Errorf("error %v, want a refusal of /g as a new-style group", err)
	}
}

func TestRefusedFiles(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"latest.h5", nil, "superblock: version 3 is not supported"},
		{"empty", []byte{}, "not an HDF5 file"},
		{"text", []byte("hello, this is not HDF5 at all, just some words\n"), "not an HDF5 file"},
		{"signature only", signature, "runs past the end of the file"},
	}
	for _, tc := range tests {
		data := tc.data
		if data == nil {
			var err error
			if data, err = os.ReadFile(filepath.Join("testdata", tc.name)); err != nil {
				t.Fatal(err)
			}
		}
		_, err := NewFile(bytes.NewReader(data), int64(len(data)), tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), tc.name+": ") {
			t.Errorf("%s: error %v, want one starting with the file name and containing %q", tc.name, err, tc.want)
		}
	}
}
