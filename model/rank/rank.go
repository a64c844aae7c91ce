// Package rank orders a classifier's class probabilities. Its Prediction is
// the one prediction type of vggo: model's Net.Classify returns it, the
// browser worker sends it in its results, and the embeddable widget hands it
// to the host page. It imports nothing of vggo, so the browser UI can decode
// results without linking the forward pass.
package rank

import (
	"fmt"
	"sort"
)

// Prediction is one class and its probability. The JSON names are part of
// the worker's result and of the widget's vggo-result event.
type Prediction struct {
	Class string  `json:"class"`
	Index int     `json:"index"`
	Prob  float32 `json:"prob"`
}

// TopK returns the k most probable classes of one probability vector,
// most probable first (ties: lower index first, so the order is
// deterministic). classes names the indices; missing names are reported as
// "class N". k larger than len(probs) returns all, k below 1 none.
func TopK(probs []float32, classes []string, k int) []Prediction {
	preds := make([]Prediction, len(probs))
	for i, p := range probs {
		name := fmt.Sprintf("class %d", i)
		if i < len(classes) {
			name = classes[i]
		}
		preds[i] = Prediction{Class: name, Index: i, Prob: p}
	}
	sort.SliceStable(preds, func(a, b int) bool { return preds[a].Prob > preds[b].Prob })
	if k < len(preds) {
		preds = preds[:max(k, 0)]
	}
	return preds
}

// Best is the index of the largest probability (the first of equals), the
// top-1 class without building Predictions; 0 for an empty vector.
func Best(probs []float32) int {
	best := 0
	for i, p := range probs {
		if p > probs[best] {
			best = i
		}
	}
	return best
}
