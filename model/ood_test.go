package model

import (
	"bytes"
	"math"
	"math/rand"
	randv2 "math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vggo/model/safetensors"
)

// oodReference is FitOODLayer written the textbook way in float64: class
// means, the shared covariance as an explicit sum of outer products,
// shrinkage, and Gauss-Jordan inversion.
func oodReference(features [][]float64, labels []int, classes int, shrinkage float64) (means [][]float64, prec [][]float64) {
	c := len(features[0])
	means = make([][]float64, classes)
	count := make([]float64, classes)
	for k := range means {
		means[k] = make([]float64, c)
	}
	for i, f := range features {
		for j, v := range f {
			means[labels[i]][j] += v
		}
		count[labels[i]]++
	}
	for k := range means {
		for j := range means[k] {
			means[k][j] /= count[k]
		}
	}
	// Augmented [cov | I], then Gauss-Jordan.
	a := make([][]float64, c)
	for r := range a {
		a[r] = make([]float64, 2*c)
		a[r][c+r] = 1
	}
	for i, f := range features {
		for r := range c {
			for s := range c {
				a[r][s] += (f[r] - means[labels[i]][r]) * (f[s] - means[labels[i]][s]) / float64(len(features))
			}
		}
	}
	trace := 0.0
	for r := range c {
		trace += a[r][r]
	}
	for r := range c {
		for s := range c {
			a[r][s] *= 1 - shrinkage
		}
		a[r][r] += shrinkage * trace / float64(c)
	}
	for col := range c {
		p := a[col][col]
		for s := range a[col] {
			a[col][s] /= p
		}
		for r := range c {
			if r != col {
				f := a[r][col]
				for s := range a[r] {
					a[r][s] -= f * a[col][s]
				}
			}
		}
	}
	prec = make([][]float64, c)
	for r := range c {
		prec[r] = a[r][c:]
	}
	return means, prec
}

// correlatedFeatures draws n non-negative feature vectors of c channels with
// correlated channels and a class-dependent mean, some channels always 0
// (dead ReLUs make the raw covariance singular, as in a real network).
func correlatedFeatures(rng *rand.Rand, n, c, classes int) ([]float32, []int) {
	mix := make([]float64, c*c)
	for i := range mix {
		mix[i] = rng.NormFloat64()
	}
	feats := make([]float32, n*c)
	labels := make([]int, n)
	for i := range n {
		labels[i] = i % classes
		z := make([]float64, c)
		for j := range z {
			z[j] = rng.NormFloat64()
		}
		for j := range c {
			v := float64(labels[i]) * 2
			for k := range c {
				v += mix[j*c+k] * z[k]
			}
			if j == c-1 {
				v = 0 // a dead channel
			}
			feats[i*c+j] = float32(math.Max(v, 0))
		}
	}
	return feats, labels
}

func relClose(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestFitOODLayerMatchesFloat64(t *testing.T) {
	const n, c, classes, shrink = 300, 7, 3, 0.05
	rng := rand.New(rand.NewSource(5))
	feats, labels := correlatedFeatures(rng, n, c, classes)
	L, err := FitOODLayer(2, feats, labels, classes, c, shrink)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]float64, n)
	for i := range rows {
		rows[i] = make([]float64, c)
		for j := range c {
			rows[i][j] = float64(feats[i*c+j])
		}
	}
	means, prec := oodReference(rows, labels, classes, shrink)
	for k := range classes {
		for j := range c {
			if !relClose(float64(L.Means[k*c+j]), means[k][j], 1e-6) {
				t.Fatalf("mean[%d][%d] = %g, float64 reference %g", k, j, L.Means[k*c+j], means[k][j])
			}
		}
	}
	for r := range c {
		for s := range c {
			if !relClose(float64(L.Precision[r*c+s]), prec[r][s], 1e-5) {
				t.Fatalf("precision[%d][%d] = %g, float64 reference %g", r, s, L.Precision[r*c+s], prec[r][s])
			}
		}
	}
	// Distance: min over classes of (f-μ)ᵀP(f-μ), on training rows and on far-away points.
	probe := append(slices.Clone(feats[:5*c]), make([]float32, c)...)
	for j := range c {
		probe = append(probe, float32(50+j))
	}
	for i := 0; i < len(probe)/c; i++ {
		f := probe[i*c : (i+1)*c]
		want := math.Inf(1)
		for k := range classes {
			d := 0.0
			for r := range c {
				for s := range c {
					d += (float64(f[r]) - means[k][r]) * prec[r][s] * (float64(f[s]) - means[k][s])
				}
			}
			want = math.Min(want, d)
		}
		if got := L.Distance(f); !relClose(got, want, 1e-4) {
			t.Errorf("probe %d: distance %g, float64 reference %g", i, got, want)
		}
	}
}

func TestFitOODLayerErrors(t *testing.T) {
	feats := []float32{1, 2, 3, 4}
	for _, tc := range []struct {
		name            string
		labels          []int
		classes, shrink float64
		want            string
	}{
		{"class without images", []int{0, 0}, 2, 0.05, "class 1 has no image"},
		{"label out of range", []int{0, 2}, 2, 0.05, "label 2"},
		{"no shrinkage", []int{0, 1}, 2, 0, "shrinkage"},
		{"wrong length", []int{0}, 1, 0.05, "feature values"},
	} {
		_, err := FitOODLayer(0, feats, tc.labels, int(tc.classes), 2, tc.shrink)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestCalibrate: each layer's scale is its median validation distance, and
// the threshold flags the stated share of the validation images.
func TestCalibrate(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	const n, c = 400, 4
	feats, labels := correlatedFeatures(rng, n, c, 2)
	a, _ := FitOODLayer(0, feats, labels, 2, c, 0.1)
	b, _ := FitOODLayer(1, feats, labels, 2, c, 0.5)
	val, _ := correlatedFeatures(rng, 200, c, 2)
	o := &OOD{Layers: []*OODLayer{a, b}}
	if err := o.Calibrate([][]float32{val, val}, 0.9); err != nil {
		t.Fatal(err)
	}
	flagged := 0
	for i := range 200 {
		if o.Flagged(o.Score(func(int) []float32 { return val[i*c : (i+1)*c] })) {
			flagged++
		}
	}
	if flagged > 20 || flagged < 15 {
		t.Errorf("%d of 200 validation images flagged at the 0.9 quantile, want about 20 and at most 20", flagged)
	}
	var d []float64
	for i := range 200 {
		d = append(d, a.Distance(val[i*c:(i+1)*c]))
	}
	slices.Sort(d)
	if a.Scale != d[99] {
		t.Errorf("scale %g, want the median distance %g", a.Scale, d[99])
	}
	if err := o.Calibrate([][]float32{val}, 0.9); err == nil {
		t.Error("Calibrate with one layer of features for two layers: no error")
	}
}

// oodModel is a small random model with OOD statistics fitted on random
// inputs, as the trainer does it (PooledAt, FitOODLayer, Calibrate).
func oodModel(t *testing.T) (*Model, *Net, []float32) {
	t.Helper()
	rng := rand.New(rand.NewSource(3))
	m := randomNetModel(randv2.New(randv2.NewPCG(3, 4)), 16, 32, HeadGAP, 3)
	net, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	x := make([]float32, n*32*32*3)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 3
	}
	layers := []int{1, 6, 12}
	pooled := net.PooledAt(n, x, layers)
	m.OOD = &OOD{}
	for j, l := range layers {
		L, err := FitOODLayer(l, pooled[j], labels, 3, m.Base.Arch.Conv(l).Cout, OODShrinkage)
		if err != nil {
			t.Fatal(err)
		}
		m.OOD.Layers = append(m.OOD.Layers, L)
	}
	if err := m.OOD.Calibrate(pooled, 0.95); err != nil {
		t.Fatal(err)
	}
	return m, net, x
}

// TestForwardOOD: the probabilities are Forward's, and the scores are the
// OOD score of PooledAt's activations; a model without statistics gives
// no scores.
func TestForwardOOD(t *testing.T) {
	m, plain, x := oodModel(t)
	net, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 4
	x = x[:batch*32*32*3]
	probs, scores := net.ForwardOOD(batch, x)
	if !slices.Equal(probs, plain.Forward(batch, x)) {
		t.Error("ForwardOOD's probabilities differ from Forward's")
	}
	pooled := net.PooledAt(batch, x, []int{1, 6, 12})
	for i, s := range scores {
		want := m.OOD.Score(func(l int) []float32 {
			c := m.OOD.Layers[l].Channels
			return pooled[l][i*c : (i+1)*c]
		})
		if s != want {
			t.Errorf("image %d: score %g, want %g", i, s, want)
		}
	}
	if _, s := plain.ForwardOOD(batch, x); s != nil {
		t.Errorf("a model without OOD statistics gave scores %v", s)
	}
	if net.OOD() != m.OOD || plain.OOD() != nil {
		t.Error("Net.OOD is not the model's statistics")
	}
	// PooledAt at layer 12 of a gap head is what PooledFeatures gives.
	if !slices.Equal(net.PooledAt(batch, x, []int{12})[0], net.PooledFeatures(batch, x)) {
		t.Error("PooledAt(12) differs from PooledFeatures")
	}
}

// TestOODModelFile: the statistics survive a write and a read; WriteOOD adds
// them to a file without touching any weight byte; an old file without them
// still loads, with OOD nil.
func TestOODModelFile(t *testing.T) {
	m, _, _ := oodModel(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.safetensors")
	if err := WriteModelFile(path, m, DTypeInt8); err != nil {
		t.Fatal(err)
	}
	got, err := ReadModelFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkOODEqual(t, got.OOD, m.OOD)

	old := filepath.Join(dir, "old.safetensors")
	withOOD := m.OOD
	m.OOD = nil
	if err := WriteModelFile(old, m, DTypeInt8); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadModelFile(old); err != nil || got.OOD != nil {
		t.Fatalf("a file without OOD statistics: OOD %v, error %v; want nil, nil", got.OOD, err)
	}
	before := readAllTensors(t, old)
	if err := WriteOOD(old, withOOD); err != nil {
		t.Fatal(err)
	}
	after := readAllTensors(t, old)
	for _, tb := range before.Tensors {
		ta, ok := after.Tensor(tb.Name)
		if !ok || ta.DType != tb.DType || !bytes.Equal(ta.Data, tb.Data) {
			t.Errorf("WriteOOD changed tensor %s", tb.Name)
		}
	}
	got, err = ReadModelFile(old)
	if err != nil {
		t.Fatal(err)
	}
	checkOODEqual(t, got.OOD, withOOD)
}

func readAllTensors(t *testing.T, path string) *safetensors.File {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func checkOODEqual(t *testing.T, got, want *OOD) {
	t.Helper()
	if got == nil || len(got.Layers) != len(want.Layers) || got.Threshold != want.Threshold || got.Quantile != want.Quantile {
		t.Fatalf("OOD read back as %+v, want %+v", got, want)
	}
	for i, L := range got.Layers {
		w := want.Layers[i]
		if L.Layer != w.Layer || L.Classes != w.Classes || L.Channels != w.Channels || L.Scale != w.Scale ||
			!slices.Equal(L.Means, w.Means) || !slices.Equal(L.Precision, w.Precision) {
			t.Errorf("layer %d read back differently", w.Layer)
		}
	}
}

// TestReadModelOODErrors: damaged OOD entries are refused with an error
// naming the file and the entry.
func TestReadModelOODErrors(t *testing.T) {
	m, _, _ := oodModel(t)
	for _, tc := range []struct {
		name string
		edit func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor
		want string
	}{
		{"unknown method", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["ood.method"] = "energy"
			return ts
		}, `ood.method "energy"`},
		{"unknown layer", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["ood.layers"] = "block1_conv2,block9_conv1,block5_conv3"
			return ts
		}, "block9_conv1"},
		{"missing precision", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			return slices.DeleteFunc(ts, func(x safetensors.Tensor) bool { return x.Name == "ood.block3_conv3.precision" })
		}, "ood.block3_conv3.precision: missing"},
		{"bad threshold", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["ood.threshold"] = "high"
			return ts
		}, "ood.threshold"},
		{"negative scale", func(ts []safetensors.Tensor, md map[string]string) []safetensors.Tensor {
			md["ood.scales"] = "1,-2,3"
			return ts
		}, "scale"},
	} {
		path := writeRawModel(t, m, tc.edit)
		_, err := ReadModelFile(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("%s: error %v, want one naming the file and %q", tc.name, err, tc.want)
		}
	}
}
