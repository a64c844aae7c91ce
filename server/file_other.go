//go:build !unix

package main

import "os"

// openNonBlock has no equivalent here; FIFOs are refused by the Lstat
// check before opening.
const openNonBlock = 0

// fileIdentity is not available here; versions are told apart by size and
// modification time only.
func fileIdentity(info os.FileInfo) (dev, ino uint64) { return 0, 0 }
