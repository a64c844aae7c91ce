package headtrain

import (
	"errors"
	"fmt"

	"vggo/model/headtrain/headspec"
)

// Subset returns the samples idx of f (copied).
func (f *Features) Subset(idx []int) *Features {
	per := f.Per()
	s := &Features{H: f.H, W: f.W, C: f.C, X: make([]float32, 0, len(idx)*per), Labels: make([]int, 0, len(idx))}
	for _, i := range idx {
		s.X = append(s.X, f.X[i*per:(i+1)*per]...)
		s.Labels = append(s.Labels, f.Labels[i])
	}
	return s
}

// Evaluate measures how well heads trained with s generalise on f: it
// plans the split (headspec.PlanSplit), and for each fold trains a head on
// the other images and predicts the fold. progress gets each epoch with
// the fold's phase name ("held-out split", "fold 2/5"); returning false
// stops the evaluation (the error then says so).
func Evaluate(f *Features, names []string, s Settings, progress func(phase string, e Epoch) bool) (Evaluation, error) {
	return EvaluateWith(f, names, s, func(train, test *Features, progress func(Epoch) bool) ([]int, error) {
		head, _, err := Fit(train, len(names), s, progress)
		if err != nil {
			return nil, err
		}
		return Predict(head, test)
	}, progress)
}

// FitPredict trains a model on train (calling progress after each epoch,
// stopping when it returns false) and predicts the classes of test.
type FitPredict func(train, test *Features, progress func(Epoch) bool) ([]int, error)

// EvaluateWith is Evaluate for any model fit trains: a head (Evaluate),
// or a head with the last conv layer (package lastconv).
func EvaluateWith(f *Features, names []string, s Settings, fit FitPredict, progress func(phase string, e Epoch) bool) (Evaluation, error) {
	split, err := headspec.PlanSplit(f.Labels, names, s.Seed)
	if err != nil {
		return Evaluation{}, err
	}
	ev := Evaluation{Method: split.Method, Explain: split.Explain, Folds: len(split.Folds), Confusion: make([][]int, len(names))}
	for i := range ev.Confusion {
		ev.Confusion[i] = make([]int, len(names))
	}
	correct := 0
	for k, fold := range split.Folds {
		phase := "held-out split"
		if split.Method == "kfold" {
			phase = fmt.Sprintf("fold %d/%d", k+1, len(split.Folds))
		}
		held := make(map[int]bool, len(fold))
		for _, i := range fold {
			held[i] = true
		}
		var rest []int
		for i := range f.Labels {
			if !held[i] {
				rest = append(rest, i)
			}
		}
		stopped := false
		test := f.Subset(fold)
		pred, err := fit(f.Subset(rest), test, func(e Epoch) bool {
			if progress != nil && !progress(phase, e) {
				stopped = true
			}
			return !stopped
		})
		if stopped {
			return ev, errStopped
		}
		if err != nil {
			return ev, fmt.Errorf("%s: %w", phase, err)
		}
		for j, p := range pred {
			ev.Confusion[test.Labels[j]][p]++
			if p == test.Labels[j] {
				correct++
			}
			ev.Evaluated++
		}
	}
	if ev.Evaluated > 0 {
		ev.Accuracy = float64(correct) / float64(ev.Evaluated)
	}
	return ev, nil
}

// errStopped: the user stopped the evaluation.
var errStopped = errors.New("stopped")

// IsStopped reports whether err means the run was stopped by its progress
// callback.
func IsStopped(err error) bool { return err == errStopped }
