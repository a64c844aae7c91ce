// Package report turns a training run into files a person reads: the
// per-epoch history (JSON), loss and accuracy curves and a confusion matrix
// (PNG), and per-class precision, recall and F1.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Confusion is a confusion matrix: M[true][predicted] counts.
type Confusion struct {
	Classes []string
	M       [][]int
}

// NewConfusion returns an empty matrix for the classes.
func NewConfusion(classes []string) *Confusion {
	m := make([][]int, len(classes))
	for i := range m {
		m[i] = make([]int, len(classes))
	}
	return &Confusion{Classes: classes, M: m}
}

// Add counts one prediction.
func (c *Confusion) Add(truth, pred int) { c.M[truth][pred]++ }

// Total is the number of predictions counted.
func (c *Confusion) Total() int {
	n := 0
	for _, row := range c.M {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Accuracy is the share of correct predictions (0 when empty).
func (c *Confusion) Accuracy() float64 {
	ok := 0
	for i := range c.M {
		ok += c.M[i][i]
	}
	if t := c.Total(); t > 0 {
		return float64(ok) / float64(t)
	}
	return 0
}

// ClassMetrics are one class's scores. A ratio with a zero denominator is 0.
type ClassMetrics struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"` // true instances
}

// PerClass computes precision, recall and F1 for every class.
func (c *Confusion) PerClass() []ClassMetrics {
	out := make([]ClassMetrics, len(c.Classes))
	for k := range c.Classes {
		tp := c.M[k][k]
		predicted, actual := 0, 0
		for i := range c.M {
			predicted += c.M[i][k]
			actual += c.M[k][i]
		}
		m := ClassMetrics{Class: c.Classes[k], Support: actual}
		if predicted > 0 {
			m.Precision = float64(tp) / float64(predicted)
		}
		if actual > 0 {
			m.Recall = float64(tp) / float64(actual)
		}
		if m.Precision+m.Recall > 0 {
			m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
		}
		out[k] = m
	}
	return out
}

// MacroF1 is the unweighted mean F1 over classes.
func (c *Confusion) MacroF1() float64 {
	s := 0.0
	pc := c.PerClass()
	for _, m := range pc {
		s += m.F1
	}
	return s / float64(len(pc))
}

// Table formats the per-class scores as aligned text.
func (c *Confusion) Table() string {
	var b strings.Builder
	w := len("class")
	for _, n := range c.Classes {
		w = max(w, len(n))
	}
	fmt.Fprintf(&b, "%-*s  precision  recall     f1  support\n", w, "class")
	for _, m := range c.PerClass() {
		fmt.Fprintf(&b, "%-*s  %9.3f  %6.3f  %5.3f  %7d\n", w, m.Class, m.Precision, m.Recall, m.F1, m.Support)
	}
	fmt.Fprintf(&b, "%-*s  accuracy %.4f  macro-F1 %.4f  (%d images)\n", w, "all", c.Accuracy(), c.MacroF1(), c.Total())
	return b.String()
}

// Epoch is one line of training history.
type Epoch struct {
	Epoch     int     `json:"epoch"` // 1-based
	TrainLoss float64 `json:"train_loss"`
	TrainAcc  float64 `json:"train_acc"`
	ValLoss   float64 `json:"val_loss"`
	ValAcc    float64 `json:"val_acc"`
	Seconds   float64 `json:"seconds"`
}

// History is the whole run's record, written as history.json.
type History struct {
	Epochs       []Epoch           `json:"epochs"`
	BestEpoch    int               `json:"best_epoch"`
	StoppedEarly bool              `json:"stopped_early"`
	Test         *TestResult       `json:"test,omitempty"`
	Settings     map[string]string `json:"settings,omitempty"`
}

// TestResult is the final evaluation on the test split.
type TestResult struct {
	Accuracy         float64        `json:"accuracy"`          // float32 model
	ExportedAccuracy float64        `json:"exported_accuracy"` // the exported (e.g. int8) model file
	ExportedDType    string         `json:"exported_dtype"`
	Images           int            `json:"images"`
	PerClass         []ClassMetrics `json:"per_class"`
	Confusion        [][]int        `json:"confusion"`
}

// WriteJSON writes v as indented JSON to path.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
