package hdf5

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// walkAll reads everything in f that this package can read: every group,
// attribute and float32 dataset. Errors from unsupported or corrupt parts
// are collected; the point is that it terminates without panicking.
func walkAll(f *File) (objects int, errs []error) {
	var walk func(g *Group, depth int)
	walk = func(g *Group, depth int) {
		objects++
		if depth > 16 || objects > 5000 { // hard links can make cycles
			return
		}
		if attrs, err := g.Attrs(); err != nil {
			errs = append(errs, err)
		} else {
			for _, a := range attrs {
				if _, err := a.Strings(); err != nil {
					errs = append(errs, err)
				}
			}
		}
		members, err := g.Members()
		if err != nil {
			errs = append(errs, err)
			return
		}
		for _, m := range members {
			switch m.Kind {
			case KindGroup:
				sub, err := g.Group(m.Name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				walk(sub, depth+1)
			case KindDataset:
				objects++
				d, err := g.Dataset(m.Name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if _, err := d.Attrs(); err != nil {
					errs = append(errs, err)
				}
				if _, err := d.Float32s(); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	walk(f.Root(), 0)
	return objects, errs
}

// Every prefix of a valid file is an error (the superblock records the
// file's length), with the file name in it, and never a panic.
func TestTruncatedFiles(t *testing.T) {
	for _, name := range []string{"small.h5", "userblock.h5", "superblock1.h5", "features.h5"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		step := 1 + len(data)/600
		for n := 0; n < len(data); n += step {
			f, err := NewFile(bytes.NewReader(data[:n]), int64(n), name)
			if err == nil {
				t.Fatalf("%s truncated to %d of %d bytes: opened without error", name, n, len(data))
			}
			if f != nil || !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("%s truncated to %d: error %q does not start with the file name", name, n, err)
			}
		}
	}
}

// Flipping bytes anywhere in a file must give errors or (for bytes in
// data or padding) different values, never a panic or a hang.
func TestFlippedBytes(t *testing.T) {
	for _, name := range []string{"small.h5", "features.h5"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		step := 1 + len(data)/1500
		for i := 0; i < len(data); i += step {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				mut := bytes.Clone(data)
				mut[i] ^= mask
				f, err := NewFile(bytes.NewReader(mut), int64(len(mut)), name)
				if err != nil {
					if !strings.HasPrefix(err.Error(), name+": ") {
						t.Fatalf("flip %#x at %d: error %q does not start with the file name", mask, i, err)
					}
					continue
				}
				_, errs := walkAll(f)
				for _, err := range errs {
					if !strings.HasPrefix(err.Error(), name+": hdf5 ") {
						t.Fatalf("flip %#x at %d: error %q does not start with the file name", mask, i, err)
					}
				}
			}
		}
	}
}

func TestWalkValidFiles(t *testing.T) {
	for _, name := range []string{"small.h5", "userblock.h5", "superblock1.h5"} {
		f := openFixture(t, name)
		n, errs := walkAll(f)
		if len(errs) > 0 || n < 2 {
			t.Errorf("%s: walked %d objects, errors %v", name, n, errs)
		}
	}
}

// FuzzOpen opens arbitrary bytes as HDF5 and reads everything readable.
// Seeds: the committed corpus in testdata/fuzz/FuzzOpen plus the small
// fixtures. Run with: go test -fuzz=FuzzOpen ./model/hdf5/
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"small.h5", "userblock.h5", "superblock1.h5", "latest.h5"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(data []byte) {
			file, err := NewFile(bytes.NewReader(data), int64(len(data)), "fuzz.h5")
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz.h5: ") {
					t.Fatalf("error %q does not name the file", err)
				}
				return
			}
			_, errs := walkAll(file)
			for _, err := range errs {
				if !strings.HasPrefix(err.Error(), "fuzz.h5: hdf5 ") {
					t.Fatalf("error %q does not name the file", err)
				}
			}
		}
		check(data)
		// Inserting or deleting bytes breaks the superblock's end-of-file
		// address, which stops parsing early; fix it up so the fuzzer
		// also reaches the structures behind it.
		if len(data) >= 48 && bytes.Equal(data[:8], signature) && data[8] == 0 && data[13] == 8 {
			fixed := bytes.Clone(data)
			binary.LittleEndian.PutUint64(fixed[40:], uint64(len(data)))
			check(fixed)
		}
	})
}

// A dataspace claiming 2^60 elements must be refused before anything that
// size is allocated.
func TestLyingDataspaceDoesNotAllocate(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "small.h5"))
	if err != nil {
		t.Fatal(err)
	}
	// g/d:0's dataspace message: version 1, rank 2, then dims 2 and 2.
	dims := []byte{2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0}
	at := -1
	for i := 0; i+8+len(dims) <= len(data); i++ {
		if data[i] == 1 && data[i+1] == 2 && bytes.Equal(data[i+8:i+8+len(dims)], dims) {
			at = i + 8
			break
		}
	}
	if at < 0 {
		t.Fatal("dataspace message of g/d:0 not found in small.h5")
	}
	mut := bytes.Clone(data)
	mut[at+5] = 1   // dims[0] = 2 + 2^40
	mut[at+8+7] = 1 // dims[1] = 2 + 2^56
	f, err := NewFile(bytes.NewReader(mut), int64(len(mut)), "lying.h5")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	d, err := f.Root().Dataset("g/d:0")
	if err == nil {
		_, err = d.Float32s()
	}
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "lying.h5: hdf5 /g/d:0") {
		t.Errorf("error %v, want a refusal naming the file and /g/d:0", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("allocated %d bytes for a lying dataspace", grew)
	}
}
