// Package headspec describes a head-training run without running one: its
// settings, each epoch's result, and how the images are split to measure
// accuracy (a held-out part of each class, or k-fold when there are few).
// It imports only the standard library, so the page's program (app.wasm)
// can hold these types without linking the kernels; package headtrain runs
// what they describe.
package headspec

import (
	"fmt"
	"math/rand/v2"
)

// Settings are a head-training run's hyper-parameters, with the meaning of
// train fit's flags of the same names.
type Settings struct {
	Head      string  `json:"head"`      // "gap" or "linear" ("seed" too, on unpooled features)
	Hidden    []int   `json:"hidden"`    // hidden widths (gap: [256]; linear: none)
	Epochs    int     `json:"epochs"`    // epochs to run
	Batch     int     `json:"batch"`     // batch size
	LR        float64 `json:"lr"`        // learning rate (constant)
	Optimizer string  `json:"optimizer"` // adam, rmsprop or sgd
	Dropout   float64 `json:"dropout"`   // rate before the last dense layer
	Seed      uint64  `json:"seed"`      // initialisation, order, dropout and splits
}

// Default is the teach page's run: train fit's defaults for a gap head
// (256 hidden units, dropout 0.2, Adam at 0.001, batch 32) with 20 epochs,
// since a few dozen images make few steps per epoch. (On the default base
// and 3 hard Fashion-MNIST classes, 20 images each, held-out accuracy
// varied between 91 and 94 % over batch 16/32, 20/40 epochs and seeds 1-3:
// the fewest steps were picked, for speed.)
func Default() Settings {
	return Settings{Head: "gap", Hidden: []int{256}, Epochs: 20, Batch: 32, LR: 0.001, Optimizer: "adam", Dropout: 0.2, Seed: 1}
}

// Epoch is one finished epoch's training loss and accuracy.
type Epoch struct {
	Epoch    int     `json:"epoch"`
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
}

// Evaluation is the accuracy measured on images the evaluated heads did
// not train on.
type Evaluation struct {
	Method    string  `json:"method"`    // "holdout" or "kfold"
	Explain   string  `json:"explain"`   // one sentence for the user
	Folds     int     `json:"folds"`     // k (1 for a hold-out split)
	Evaluated int     `json:"evaluated"` // images predicted
	Accuracy  float64 `json:"accuracy"`
	Confusion [][]int `json:"confusion"` // [true class][predicted class]
}

// HoldoutMin is the fewest images per class for a hold-out split; below
// it every image is needed for training, and k-fold is used instead.
const HoldoutMin = 10

// HoldoutFraction is the part of each class a hold-out split keeps aside.
const HoldoutFraction = 0.2

// Split is an evaluation plan: Folds[i] lists the images held out in fold
// i (each image in at most one fold).
type Split struct {
	Method  string
	Explain string
	Folds   [][]int
}

// PlanSplit plans the evaluation of images with the given labels over
// names' classes: when every class has at least HoldoutMin images, hold out
// HoldoutFraction of each class (at random, from seed); else k-fold with k
// = the smallest class size, at most 5, each class spread evenly over the
// folds. Classes with fewer than 2 images cannot be evaluated: an error
// names them.
func PlanSplit(labels []int, names []string, seed uint64) (Split, error) {
	byClass := make([][]int, len(names))
	for i, l := range labels {
		if l < 0 || l >= len(names) {
			return Split{}, fmt.Errorf("image %d has label %d, want 0..%d", i, l, len(names)-1)
		}
		byClass[l] = append(byClass[l], i)
	}
	smallest := -1
	for k, idx := range byClass {
		if len(idx) < 2 {
			return Split{}, fmt.Errorf("class %q has %d image(s): give every class at least 2", names[k], len(idx))
		}
		if smallest < 0 || len(idx) < smallest {
			smallest = len(idx)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5b11))
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	if smallest >= HoldoutMin {
		var fold []int
		for _, idx := range byClass {
			n := max(1, int(float64(len(idx))*HoldoutFraction+0.5))
			fold = append(fold, idx[:n]...)
		}
		return Split{Method: "holdout", Folds: [][]int{fold},
			Explain: fmt.Sprintf("Accuracy on %d images (%.0f %% of each class, picked at random) that a first model did not train on; the saved model then trained on all %d.", len(fold), 100*HoldoutFraction, len(labels))}, nil
	}
	k := min(5, smallest)
	folds := make([][]int, k)
	for _, idx := range byClass {
		for j, i := range idx {
			folds[j%k] = append(folds[j%k], i)
		}
	}
	return Split{Method: "kfold", Folds: folds,
		Explain: fmt.Sprintf("Few images (the smallest class has %d), so %d-fold cross-validation: %d models each trained without one fold and tested on it, every image tested once; the saved model then trained on all %d.", smallest, k, k, len(labels))}, nil
}
