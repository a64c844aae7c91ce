package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"vggo/internal/atomicfile"
	"vggo/model/safetensors"
)

// cmdExtract computes (or reuses from the cache) the frozen-base features
// of every image of a dataset and writes them as a safetensors dataset:
// <split>.features (N × H × W × C, float16, exactly as cached) and
// <split>.labels (N, int32), with class names and settings in the metadata.
func cmdExtract(args []string, stdout, stderr io.Writer) error {
	out := "features.safetensors"
	var rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-o" || args[i] == "--o" || args[i] == "-output" || args[i] == "--output" {
			if i+1 < len(args) {
				out = args[i+1]
				i++
				continue
			}
		}
		rest = append(rest, args[i])
	}
	c, err := parseFitFlags("extract", rest, stderr)
	if err != nil {
		return err
	}
	if err := openDevice("extract", c.Device, stdout); err != nil {
		return err
	}
	progress := stderr
	if c.Quiet {
		progress = io.Discard
	}
	pr, err := prepare(context.Background(), c, stdout, progress, stderr)
	if err != nil {
		return err
	}
	sets := map[string]*featureSet{"train": pr.train, "validation": pr.val, "test": pr.test}
	classes, shape := pr.ds.Classes, pr.spec.InputShape()
	var tensors []safetensors.Tensor
	for _, name := range []string{"train", "validation", "test"} {
		set := sets[name]
		n := len(set.Samples)
		if n == 0 {
			continue
		}
		per := shape[0] * shape[1] * shape[2]
		feat := make([]byte, 2*n*per)
		lab := make([]byte, 4*n)
		for i, s := range set.Samples {
			v, ok := pr.cache.Get(set.Keys[i][0])
			if !ok || len(v) != per {
				return fmt.Errorf("extract: cache entry for %s missing", s.Path)
			}
			for j, f := range v { // cached as float16, so this is exact
				binary.LittleEndian.PutUint16(feat[2*(i*per+j):], safetensors.Float32ToFloat16(f))
			}
			binary.LittleEndian.PutUint32(lab[4*i:], uint32(s.Label))
		}
		tensors = append(tensors,
			safetensors.Tensor{Name: name + ".features", DType: safetensors.F16, Shape: []int{n, shape[0], shape[1], shape[2]}, Data: feat},
			safetensors.Tensor{Name: name + ".labels", DType: safetensors.I32, Shape: []int{n}, Data: lab})
	}
	cj, _ := json.Marshal(classes)
	meta := map[string]string{"classes": string(cj), "boundary_layer": strconv.Itoa(pr.spec.Boundary), "base_layers": strconv.Itoa(pr.spec.Arch.Depth()), "input_size": strconv.Itoa(c.InputSize),
		"width_div": strconv.Itoa(c.WidthDiv), "preprocess": c.Preprocess, "weights": c.Weights, "config": c.fingerprint()}
	if err := atomicfile.Write(out, 0o644, func(w io.Writer) error { return safetensors.Write(w, tensors, meta) }); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: features %v per image, %d bytes\n", out, shape, st.Size())
	return nil
}
