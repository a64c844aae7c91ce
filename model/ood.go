package model

import (
	"fmt"
	"math"
	"slices"
)

// OOD holds what a model needs to judge whether an input resembles its
// training data, after Lee et al. 2018 ("A Simple Unified Framework for
// Detecting Out-of-Distribution Samples"): at several depths of the conv
// base, the Mahalanobis distance of the image's global-average-pooled
// activation to the nearest class mean under one covariance shared by all
// classes (OODLayer). Each layer's distance is divided by its median on
// validation images, the image's score is the largest of these, and an
// image scoring above Threshold counts as unlike the training images.
// Shallow layers see colour, background and texture (noise, a light
// background), the last layer sees shapes. The statistics come from
// training images, the scales and threshold from held-out validation
// images (Calibrate), never from the test set.
type OOD struct {
	Layers    []*OODLayer
	Threshold float64 // score above which an image is flagged
	Quantile  float64 // the validation quantile Threshold was taken at
}

// OODLayers are the conv layers whose pooled activations OOD statistics
// describe by default: the ends of blocks 1, 2, 3 and 5. Block 4 is left
// out for size (its 512×512 precision is 1 MB, and the default model must
// stay under 16 MiB); with it, the default model's OOD table was the same
// (docs/model-card.md).
var OODLayers = []int{1, 3, 6, 12}

// OODLayer is the Mahalanobis statistics of one conv layer's pooled activation.
type OODLayer struct {
	Layer             int // conv layer index (0..12); its activation after the block's pooling
	Classes, Channels int
	Means             []float32 // Classes×Channels class means of the pooled features
	Precision         []float32 // Channels×Channels inverse of the shrunk shared covariance
	Scale             float64   // median distance of validation images: divides Score

	// Derived once for Score: P·μk (Classes×Channels) and μkᵀ·P·μk.
	pMeans []float64
	mPm    []float64
}

// OODShrinkage is how much of the shared covariance is replaced by its
// average variance on the diagonal before inverting. The pooled features
// of a ReLU network have dead and nearly collinear channels, so the raw
// covariance is singular; 0.05 is the value measured best on the default
// model's validation images and synthetic outliers (docs/model-card.md).
const OODShrinkage = 0.05

// FitOODLayer computes the class means and the inverse of the shrunk
// shared within-class covariance of n pooled feature vectors of conv layer
// `layer` (n×channels, row i of class labels[i]) in float64. Every class
// needs at least one image. Scale is 1 until Calibrate sets it.
func FitOODLayer(layer int, features []float32, labels []int, classes, channels int, shrinkage float64) (*OODLayer, error) {
	n := len(labels)
	if classes < 1 || channels < 1 || len(features) != n*channels {
		return nil, fmt.Errorf("ood: %d feature values for %d images × %d channels", len(features), n, channels)
	}
	if shrinkage <= 0 || shrinkage > 1 {
		return nil, fmt.Errorf("ood: shrinkage %g, want in (0, 1]", shrinkage)
	}
	mean := make([]float64, classes*channels)
	count := make([]int, classes)
	for i, l := range labels {
		if l < 0 || l >= classes {
			return nil, fmt.Errorf("ood: image %d has label %d, want 0..%d", i, l, classes-1)
		}
		count[l]++
		row := features[i*channels : (i+1)*channels]
		for c, v := range row {
			mean[l*channels+c] += float64(v)
		}
	}
	for k, c := range count {
		if c == 0 {
			return nil, fmt.Errorf("ood: class %d has no image", k)
		}
		for j := range channels {
			mean[k*channels+j] /= float64(c)
		}
	}
	// Shared within-class covariance; only the upper triangle is summed.
	cov := make([]float64, channels*channels)
	d := make([]float64, channels)
	for i, l := range labels {
		for c := range channels {
			d[c] = float64(features[i*channels+c]) - mean[l*channels+c]
		}
		for a := range channels {
			da := d[a]
			if da == 0 {
				continue
			}
			row := cov[a*channels:]
			for b := a; b < channels; b++ {
				row[b] += da * d[b]
			}
		}
	}
	trace := 0.0
	for a := range channels {
		for b := a; b < channels; b++ {
			v := cov[a*channels+b] / float64(n)
			cov[a*channels+b], cov[b*channels+a] = v, v
		}
		trace += cov[a*channels+a]
	}
	ridge := shrinkage * max(trace/float64(channels), 1e-12)
	for a := range channels {
		for b := range channels {
			cov[a*channels+b] *= 1 - shrinkage
		}
		cov[a*channels+a] += ridge
	}
	prec, err := invertSPD(cov, channels)
	if err != nil {
		return nil, fmt.Errorf("ood: %w", err)
	}
	o := &OODLayer{Layer: layer, Classes: classes, Channels: channels, Means: toFloat32(mean), Precision: toFloat32(prec), Scale: 1}
	o.derive()
	return o, nil
}

// Calibrate sets each layer's Scale to the median of its distances on
// held-out in-distribution images (valPooled[l]: images×channels of layer
// l) and the threshold to the given quantile of their scores, so about
// (1-quantile) of such images are flagged.
func (o *OOD) Calibrate(valPooled [][]float32, quantile float64) error {
	if !(quantile > 0 && quantile <= 1) {
		return fmt.Errorf("ood: quantile %g, want in (0, 1]", quantile)
	}
	if len(valPooled) != len(o.Layers) || len(o.Layers) == 0 {
		return fmt.Errorf("ood: %d layers of validation features for %d layers", len(valPooled), len(o.Layers))
	}
	n := len(valPooled[0]) / o.Layers[0].Channels
	if n == 0 {
		return fmt.Errorf("ood: no validation images to calibrate the threshold on")
	}
	for l, L := range o.Layers {
		d := make([]float64, n)
		for i := range d {
			d[i] = L.Distance(valPooled[l][i*L.Channels : (i+1)*L.Channels])
		}
		L.Scale = max(quantileOf(d, 0.5), 1e-12)
	}
	scores := make([]float64, n)
	for i := range scores {
		scores[i] = o.Score(func(l int) []float32 {
			c := o.Layers[l].Channels
			return valPooled[l][i*c : (i+1)*c]
		})
	}
	o.Threshold, o.Quantile = quantileOf(scores, quantile), quantile
	return nil
}

// quantileOf is the smallest value with at least q of v at or below it.
func quantileOf(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)]
}

// Score is one image's OOD score: the largest of the layers' scaled
// distances; pooled(l) is the image's pooled activation at Layers[l].
func (o *OOD) Score(pooled func(l int) []float32) float64 {
	best := 0.0
	for l, L := range o.Layers {
		best = max(best, L.Distance(pooled(l))/L.Scale)
	}
	return best
}

// Distance is the squared Mahalanobis distance of one pooled feature
// vector to the nearest class mean: min_k (f-μk)ᵀ P (f-μk), computed as
// fᵀPf − 2 fᵀ(Pμk) + μkᵀPμk in float64 so that P·f is formed once.
func (o *OODLayer) Distance(f []float32) float64 {
	if o.pMeans == nil {
		o.derive()
	}
	c := o.Channels
	fPf := 0.0
	for a := range c {
		row := o.Precision[a*c : (a+1)*c]
		s := 0.0
		for b, p := range row {
			s += float64(p) * float64(f[b])
		}
		fPf += s * float64(f[a])
	}
	best := math.Inf(1)
	for k := range o.Classes {
		pm := o.pMeans[k*c : (k+1)*c]
		dot := 0.0
		for j, v := range f {
			dot += float64(v) * pm[j]
		}
		best = min(best, fPf-2*dot+o.mPm[k])
	}
	return max(best, 0)
}

// Flagged reports whether a score says the image is unlike the training images.
func (o *OOD) Flagged(score float64) bool { return score > o.Threshold }

// derive precomputes P·μk and μkᵀPμk from Means and Precision.
func (o *OODLayer) derive() {
	c := o.Channels
	o.pMeans = make([]float64, o.Classes*c)
	o.mPm = make([]float64, o.Classes)
	for k := range o.Classes {
		mu := o.Means[k*c : (k+1)*c]
		for a := range c {
			s := 0.0
			for b, p := range o.Precision[a*c : (a+1)*c] {
				s += float64(p) * float64(mu[b])
			}
			o.pMeans[k*c+a] = s
			o.mPm[k] += s * float64(mu[a])
		}
	}
}

// check reports the problems of o for a model with the given classes and
// architecture.
func (o *OOD) check(classes int, arch Arch) []string {
	var p []string
	if len(o.Layers) == 0 {
		p = append(p, "ood statistics without layers")
	}
	if !(o.Threshold >= 0) || math.IsInf(o.Threshold, 0) {
		p = append(p, fmt.Sprintf("ood threshold %g, want a finite value ≥ 0", o.Threshold))
	}
	prev := -1
	for _, L := range o.Layers {
		if L.Layer <= prev || L.Layer >= arch.Depth() {
			p = append(p, fmt.Sprintf("ood layer %d: want ascending conv layers 0..%d", L.Layer, arch.Depth()-1))
			continue
		}
		prev = L.Layer
		name, channels := arch.Conv(L.Layer).Name, arch.Conv(L.Layer).Cout
		if L.Classes != classes || L.Channels != channels {
			p = append(p, fmt.Sprintf("ood.%s: statistics for %d classes × %d channels, the model has %d × %d", name, L.Classes, L.Channels, classes, channels))
		}
		if len(L.Means) != L.Classes*L.Channels || len(L.Precision) != L.Channels*L.Channels {
			p = append(p, fmt.Sprintf("ood.%s: %d means and %d precision values for %d classes × %d channels", name, len(L.Means), len(L.Precision), L.Classes, L.Channels))
		}
		if CountNonFinite(L.Means)+CountNonFinite(L.Precision) > 0 || !(L.Scale > 0) || math.IsInf(L.Scale, 0) {
			p = append(p, fmt.Sprintf("ood.%s: NaN/Inf values or a scale that is not a finite value > 0", name))
		}
	}
	return p
}

// invertSPD inverts a symmetric positive-definite n×n matrix by Cholesky
// factorisation (a = L·Lᵀ, then a⁻¹ = L⁻ᵀ·L⁻¹).
func invertSPD(a []float64, n int) ([]float64, error) {
	l := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			s := a[i*n+j]
			for k := range j {
				s -= l[i*n+k] * l[j*n+k]
			}
			if i == j {
				if s <= 0 {
					return nil, fmt.Errorf("covariance is not positive definite (pivot %d is %g)", i, s)
				}
				l[i*n+i] = math.Sqrt(s)
			} else {
				l[i*n+j] = s / l[j*n+j]
			}
		}
	}
	// inv = L⁻¹ (lower triangular), by forward substitution column by column.
	inv := make([]float64, n*n)
	for j := range n {
		inv[j*n+j] = 1 / l[j*n+j]
		for i := j + 1; i < n; i++ {
			s := 0.0
			for k := j; k < i; k++ {
				s -= l[i*n+k] * inv[k*n+j]
			}
			inv[i*n+j] = s / l[i*n+i]
		}
	}
	// a⁻¹ = (L⁻¹)ᵀ·L⁻¹.
	out := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			s := 0.0
			for k := j; k < n; k++ {
				s += inv[k*n+i] * inv[k*n+j]
			}
			out[i*n+j], out[j*n+i] = s, s
		}
	}
	return out, nil
}

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
