package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"

	"vggo/model"
	"vggo/train/augment"
	"vggo/train/cache"
	"vggo/train/data"
)

// featureSource computes and caches each image's activation at the freeze
// boundary: the output of conv layer boundary−1 (the preprocessed image
// itself when boundary is 0).
type featureSource struct {
	cache     *cache.Cache
	net       *model.Net // frozen prefix; nil when boundary is 0
	boundary  int
	size      int
	mode      string
	weightsID string // identifies the frozen weights (file hash or scratch seed)
	widthDiv  int
	aug       augment.Params
	augSeed   uint64
	batch     int // images per forward pass of the frozen prefix

	computed int // activations computed (cache misses filled) in this process
}

// featureSet is one split's images that decoded, with their cache keys
// (one per augmentation copy).
type featureSet struct {
	Samples []data.Sample
	Keys    [][]string
	Skipped []string // files that could not be read or decoded
}

// key is the cache key for one image content hash and augmentation copy
// (copy < 0: no augmentation).
func (f *featureSource) key(content string, copy int) string {
	augDesc := "none"
	if copy >= 0 {
		augDesc = f.aug.String() + "/seed=" + strconv.FormatUint(f.augSeed, 10) + "/copy=" + strconv.Itoa(copy)
	}
	// With nothing frozen the cached feature is the preprocessed image, which
	// no weights touch: runs that continue from other weights share it.
	weights, div := f.weightsID, f.widthDiv
	if f.boundary == 0 {
		weights, div = "none", 0
	}
	// v2: model.Preprocess antialiases where it shrinks an axis (v1 entries
	// of images larger than the input hold the old, aliased resize).
	return cache.Key("vggo-features-v2", weights, "div="+strconv.Itoa(div), "size="+strconv.Itoa(f.size),
		"mode="+f.mode, "boundary="+strconv.Itoa(f.boundary), content, augDesc)
}

// prepare makes sure every (image, copy) of samples is in the cache,
// computing what is missing in batches, and returns the kept samples with
// their keys. copies > 1 or augment set draw augmented copies; unreadable
// or corrupt files are reported on warn, naming the file, and left out.
func (f *featureSource) prepare(ctx context.Context, label string, samples []data.Sample, copies int, doAug bool, progress, warn io.Writer) (*featureSet, error) {
	set := &featureSet{}
	bar := newBar(len(samples), "features "+label, progress)
	type pending struct {
		key string
		x   []float32
	}
	var queue []pending
	waiting := 0 // samples whose features are queued, shown on the bar once computed
	flush := func() error {
		defer func() { bar.Add(waiting); waiting = 0 }()
		if len(queue) == 0 {
			return nil
		}
		per := f.size * f.size * 3
		var out []float32
		outPer := per
		if f.boundary > 0 {
			x := make([]float32, 0, len(queue)*per)
			for _, q := range queue {
				x = append(x, q.x...)
			}
			out = f.net.ForwardTo(len(queue), x, f.boundary-1)
			outPer = len(out) / len(queue)
		}
		for i, q := range queue {
			v := q.x
			if out != nil {
				v = out[i*outPer : (i+1)*outPer]
			}
			if err := f.cache.Put(q.key, v); err != nil {
				return err
			}
			f.computed++
		}
		queue = queue[:0]
		return nil
	}
	for _, s := range samples {
		if ctx.Err() != nil {
			if err := flush(); err != nil {
				return nil, err
			}
			return nil, errCachingInterrupted
		}
		raw, err := os.ReadFile(s.Path)
		if err != nil {
			fmt.Fprintf(warn, "warning: skipping %s: %v\n", s.Path, err)
			set.Skipped = append(set.Skipped, s.Path)
			bar.AddFree(1)
			continue
		}
		sum := sha256.Sum256(raw)
		content := hex.EncodeToString(sum[:])
		keys := make([]string, copies)
		missing := false
		for c := range keys {
			cp := -1
			if doAug {
				cp = c
			}
			keys[c] = f.key(content, cp)
			if !f.cache.Has(keys[c]) {
				missing = true
			}
		}
		if !missing {
			bar.AddFree(1)
		} else {
			img, err := model.DecodeImage(bytes.NewReader(raw), s.Path)
			if err != nil {
				fmt.Fprintf(warn, "warning: skipping %s: %v\n", s.Path, err)
				set.Skipped = append(set.Skipped, s.Path)
				bar.AddFree(1)
				continue
			}
			waiting++
			for c, k := range keys {
				if f.cache.Has(k) {
					continue
				}
				src := img
				if doAug {
					b := img.Bounds()
					d := f.aug.Sample(augment.RNG(f.augSeed, content, c), b.Dx(), b.Dy())
					src = d.Apply(img)
				}
				queue = append(queue, pending{k, model.Preprocess(src, f.size, f.mode)})
				if len(queue) >= f.batch {
					if err := flush(); err != nil {
						return nil, err
					}
				}
			}
		}
		set.Samples = append(set.Samples, s)
		set.Keys = append(set.Keys, keys)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	bar.Finish()
	return set, nil
}
