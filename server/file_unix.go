//go:build unix

package main

import (
	"os"
	"syscall"
)

// openNonBlock makes open(2) return at once on a FIFO or device that was
// swapped in for a model file between our Lstat and our open, instead of
// holding an OS thread until a writer appears. It does not change reads of
// regular files.
const openNonBlock = syscall.O_NONBLOCK

// fileIdentity returns the device and inode of a file. Writers that replace
// a model atomically (write a temporary file, rename it over the old one)
// always produce a new inode, so the identity tells versions apart even
// when size and mtime happen to match.
func fileIdentity(info os.FileInfo) (dev, ino uint64) {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}
