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

// readModelMeta reads a model file's metadata from its bytes (an open
// file, never a path: the server opens model files itself, see
// openDiskModel). It is the only place in the server that knows how: it
// calls package model and never parses safetensors itself. sum is the
// file's SHA-256 if model.ReadModelInfo computed it, else "" (a header-only
// reader does not hash).
func readModelMeta(r io.ReaderAt, size int64, name string) (meta modelMeta, sum string, err error) {
	info, err := model.ReadModelInfo(r, size, name)
	if err != nil {
		return modelMeta{}, "", err
	}
	return modelMeta{
		Arch:       info.Arch,
		InputSize:  info.InputSize,
		WidthDiv:   info.WidthDiv,
		Head:       info.Head,
		Classes:    info.Classes,
		Preprocess: info.Preprocess,
	}, info.SHA256, nil
}
