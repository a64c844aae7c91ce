package main

import (
	"errors"
	"io"
)

// modelMeta is what the /models index tells about a model, taken from the
// model file's metadata (model.Info).
type modelMeta struct {
	Arch       string
	InputSize  int
	WidthDiv   int
	Head       string
	Classes    []string
	Preprocess string
}

// modelSource is a model file to read metadata from: a path on disk, or
// (for embedded models) its bytes.
type modelSource struct {
	name string      // file name, for error messages
	path string      // on disk; "" for embedded files
	r    io.ReaderAt // embedded bytes when path is ""
	size int64
}

// errNoModelReader is returned until package model provides ReadInfo.
var errNoModelReader = errors.New("model metadata reader not available yet")

// readModelMeta reads a model file's metadata. It is the only place in the
// server that knows how: it calls package model and never parses
// safetensors itself.
func readModelMeta(src modelSource) (modelMeta, error) {
	return modelMeta{}, errNoModelReader
}
