package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The -models directory is read through an os.Root, so no name can reach
// outside it, and only regular files are served: symbolic links (even
// ones that stay inside), FIFOs, devices and directories are refused. See
// docs/security.md.

// errNotRegular is the error for a directory entry that is not a regular
// file.
var errNotRegular = errors.New("not a regular file: links, FIFOs and devices are never served")

// openDiskModel opens the model file name of root for reading. The Lstat
// before opening refuses links and FIFOs without following or opening them;
// the non-blocking open keeps a FIFO swapped in after that check from
// blocking; and the opened file must be the very one that was checked.
func openDiskModel(root *os.Root, name string) (*os.File, fileVersion, error) {
	checked, err := root.Lstat(name)
	if err != nil {
		return nil, fileVersion{}, err
	}
	if !checked.Mode().IsRegular() {
		return nil, fileVersion{}, fmt.Errorf("%s: %w", name, errNotRegular)
	}
	f, err := root.OpenFile(name, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, fileVersion{}, err
	}
	opened, err := f.Stat()
	if err == nil && (!opened.Mode().IsRegular() || !os.SameFile(checked, opened)) {
		err = fmt.Errorf("%s: replaced while being opened", name)
	}
	if err != nil {
		f.Close()
		return nil, fileVersion{}, err
	}
	return f, versionOf(opened), nil
}

// oddNameReason says why a model file name is not listed or served although
// it has the right extension, or "" when it is fine. Names that are not
// UTF-8 cannot be written faithfully in the JSON index, and control
// characters are refused in request paths (checkPath), so such files could
// never be downloaded by the name the index gives.
func oddNameReason(name string) string {
	if !utf8.ValidString(name) {
		return "file name is not valid UTF-8"
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "file name contains a control character"
	}
	return ""
}

// versionedFile reads an open model file and fails as soon as the file is
// no longer the version it was opened as (its hash is the ETag being
// served): every read is followed by an fstat, so bytes from an in-place
// rewrite are never handed out. The cost is one fstat per read (32 KiB to
// 1 MiB), and downloads do not use sendfile.
type versionedFile struct {
	f       *os.File
	version fileVersion
	changed bool // a read found the file changed
}

func (v *versionedFile) check(n int, err error) (int, error) {
	if n == 0 {
		return n, err
	}
	info, serr := v.f.Stat()
	if serr != nil {
		return 0, serr
	}
	if versionOf(info) != v.version {
		v.changed = true
		return 0, errModelChanged
	}
	return n, err
}

func (v *versionedFile) Read(p []byte) (int, error) { return v.check(v.f.Read(p)) }

func (v *versionedFile) ReadAt(p []byte, off int64) (int, error) { return v.check(v.f.ReadAt(p, off)) }

func (v *versionedFile) Seek(offset int64, whence int) (int64, error) {
	return v.f.Seek(offset, whence)
}
