package main

import (
	"fmt"

	"vggo/model/rank"
	"vggo/train/cache"
	"vggo/train/nn"
	"vggo/train/report"
)

// fillBatch gathers the cached features of samples idx (copy cp) into x
// and their one-hot labels into targets; rows past len(idx) are zero.
func fillBatch(fc *cache.Cache, set *featureSet, idx []int, cp, per, classes int, x, targets []float32) error {
	clear(targets)
	for r, i := range idx {
		key := set.Keys[i][cp%len(set.Keys[i])]
		v, ok := fc.Get(key)
		if !ok {
			return fmt.Errorf("feature cache entry for %s vanished during training (cache folder %s)", set.Samples[i].Path, fc.Dir)
		}
		if len(v) != per {
			return fmt.Errorf("feature cache entry for %s has %d values, want %d", set.Samples[i].Path, len(v), per)
		}
		copy(x[r*per:(r+1)*per], v)
		targets[r*classes+set.Samples[i].Label] = 1
	}
	clear(x[len(idx)*per:])
	return nil
}

type evalResult struct {
	loss float64
	conf *report.Confusion
}

// evaluateSet runs the eval graph over a split's cached features.
func evaluateSet(g nn.Runner, fc *cache.Cache, set *featureSet, names []string, per, batch int, bar *imageBar) (*evalResult, error) {
	defer bar.Finish()
	classes := len(names)
	conf := report.NewConfusion(names)
	x := make([]float32, batch*per)
	targets := make([]float32, batch*classes)
	var lossSum float64
	n := len(set.Samples)
	for start := 0; start < n; start += batch {
		idx := make([]int, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			idx = append(idx, i)
		}
		if err := fillBatch(fc, set, idx, 0, per, classes, x, targets); err != nil {
			return nil, err
		}
		loss, err := g.Step(x, targets, nil)
		if err != nil {
			return nil, err
		}
		lossSum += float64(loss) * float64(len(idx))
		logits := g.LogitsValue()
		for r, i := range idx {
			conf.Add(set.Samples[i].Label, rank.Best(logits[r*classes:(r+1)*classes]))
		}
		bar.Add(len(idx))
	}
	res := &evalResult{conf: conf}
	if n > 0 {
		res.loss = lossSum / float64(n)
	}
	return res, nil
}
