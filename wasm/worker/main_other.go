//go:build !(js && wasm)

// Command worker only does something when built with GOOS=js GOARCH=wasm
// (see scripts/build-wasm.sh); this stub keeps `go build ./...` working on
// every other target.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "worker: build with GOOS=js GOARCH=wasm (scripts/build-wasm.sh) and run it in a browser Web Worker")
	os.Exit(2)
}
