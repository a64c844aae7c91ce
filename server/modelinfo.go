package main

import (
	"io"

	"vggo/model"
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
	r    io.ReaderAt // the bytes, used when path is ""
	size int64
}

// readModelMeta reads a model file's metadata. It is the only place in the
// server that knows how: it calls package model and never parses
// safetensors itself. Files on disk are read with model.ReadInfo (header
// only); embedded files have no path and are read from memory with
// model.ReadModelInfo (header only too).
func readModelMeta(src modelSource) (modelMeta, error) {
	var info model.Info
	if src.path != "" {
		var err error
		if info, err = model.ReadInfo(src.path); err != nil {
			return modelMeta{}, err
		}
	} else {
		var err error
		if info, err = model.ReadModelInfo(src.r, src.size, src.name); err != nil {
			return modelMeta{}, err
		}
	}
	return modelMeta{
		Arch:       info.Arch,
		InputSize:  info.InputSize,
		WidthDiv:   info.WidthDiv,
		Head:       info.Head,
		Classes:    info.Classes,
		Preprocess: info.Preprocess,
	}, nil
}
