package headtrain

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"vggo/kernels"
)

// TestSmoothLabelsMatchesPyTorch: the softmax cross-entropy on
// SmoothLabels' targets, and its gradient, equal PyTorch's
// CrossEntropyLoss(label_smoothing=eps) (testdata/make_label_smoothing.py,
// float64) and a float64 formula written here, within 1e-5 (float32
// arithmetic); a padding row stays zero and adds nothing.
func TestSmoothLabelsMatchesPyTorch(t *testing.T) {
	b, err := os.ReadFile("../../testdata/labelsmoothing/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Batch, Classes int
		Eps            float64
		Logits         []float64
		Labels         []int
		Loss           float64
		Grad           []float64
	}
	if err := json.Unmarshal(b, &cases); err != nil || len(cases) == 0 {
		t.Fatalf("reference.json: %v (%d cases)", err, len(cases))
	}
	const tol = 1e-5
	for _, c := range cases {
		n, k := c.Batch, c.Classes
		rows := n + 1 // one padding row
		logits := make([]float32, rows*k)
		for i, v := range c.Logits {
			logits[i] = float32(v)
		}
		targets := make([]float32, rows*k)
		for r, y := range c.Labels {
			targets[r*k+y] = 1
		}
		SmoothLabels(targets, n, k, c.Eps)
		for j := n * k; j < rows*k; j++ {
			if targets[j] != 0 {
				t.Fatalf("eps %g: padding target %d = %g, want 0", c.Eps, j, targets[j])
			}
		}
		probs := make([]float32, rows*k)
		loss := kernels.SoftmaxCrossEntropy(rows, k, logits, targets, probs)
		grad := make([]float32, rows*k)
		kernels.SoftmaxCrossEntropyBackward(rows, k, logits, targets, 1, grad)

		// The float64 formula: mean over rows of −Σ_j q_j log p_j with
		// q = (1−eps)·onehot + eps/k; gradient (p − q)/n.
		var want float64
		wantGrad := make([]float64, n*k)
		for r := 0; r < n; r++ {
			row := c.Logits[r*k : (r+1)*k]
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, float64(float32(v)))
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(float32(v)) - m)
			}
			for j, v := range row {
				logp := float64(float32(v)) - m - math.Log(z)
				q := c.Eps / float64(k)
				if j == c.Labels[r] {
					q += 1 - c.Eps
				}
				want -= q * logp / float64(n)
				wantGrad[r*k+j] = (math.Exp(logp) - q) / float64(n)
			}
		}
		if math.Abs(float64(loss)-c.Loss) > tol || math.Abs(want-c.Loss) > 1e-9 {
			t.Errorf("eps %g: loss %.8f, PyTorch %.8f, float64 formula %.8f", c.Eps, loss, c.Loss, want)
		}
		for i, g := range c.Grad {
			if math.Abs(float64(grad[i])-g) > tol || math.Abs(wantGrad[i]-g) > 1e-9 {
				t.Fatalf("eps %g: dlogits[%d] = %.8f, PyTorch %.8f, float64 formula %.8f", c.Eps, i, grad[i], g, wantGrad[i])
			}
		}
		for j := n * k; j < rows*k; j++ {
			if grad[j] != 0 {
				t.Fatalf("eps %g: padding row's gradient %d = %g, want 0", c.Eps, j, grad[j])
			}
		}
	}
}

// TestSmoothLabelsZeroIsOneHot: eps 0 leaves the targets as they were.
func TestSmoothLabelsZeroIsOneHot(t *testing.T) {
	targets := []float32{0, 1, 0, 1, 0, 0}
	SmoothLabels(targets, 2, 3, 0)
	for i, want := range []float32{0, 1, 0, 1, 0, 0} {
		if targets[i] != want {
			t.Fatalf("targets %v changed by eps 0", targets)
		}
	}
}
