package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"vggo/kernels"
	"vggo/model"
	"vggo/train/data"
)

// Defaults of the OOD statistics fit stores and `train ood` adds.
const (
	defaultOODPerClass = 1000  // training images per class for the means and covariance
	defaultOODQuantile = 0.975 // of validation scores: about 2.5 % of in-distribution images are flagged
)

// oodSettings says how the OOD statistics are computed.
type oodSettings struct {
	Layers   []int // conv layers (ascending); nil: model.OODLayers
	PerClass int
	Quantile float64
	Batch    int
}

// computeOOD fits OOD statistics with the network of the model file at
// path: per OOD layer, class means and shared covariance of the pooled
// activations of the first PerClass training images of each class; scales
// and threshold (at Quantile) from the validation images. Images are
// decoded and preprocessed as `classify` does, so the statistics describe
// what the browser sees.
func computeOOD(path string, train, val []data.Sample, s oodSettings, progress, warn io.Writer) (*model.OOD, error) {
	m, err := model.ReadModelFile(path)
	if err != nil {
		return nil, err
	}
	net, err := model.NewNet(m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(val) == 0 {
		return nil, fmt.Errorf("%s: no validation images to calibrate the OOD threshold on (--val 0)", path)
	}
	classes := len(m.Info.Classes)
	var subset []data.Sample
	taken := make([]int, classes)
	for _, x := range train {
		if x.Label < classes && taken[x.Label] < s.PerClass {
			subset = append(subset, x)
			taken[x.Label]++
		}
	}
	if s.Layers == nil {
		s.Layers = defaultOODLayers(m.Base.Arch.Depth())
	}
	feats, labels := pooledFeatures(net, s.Layers, subset, s.Batch, "OOD statistics", progress, warn)
	o := &model.OOD{}
	for j, layer := range s.Layers {
		L, err := model.FitOODLayer(layer, feats[j], labels, classes, m.Base.Arch.Conv(layer).Cout, model.OODShrinkage)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		o.Layers = append(o.Layers, L)
	}
	valFeats, _ := pooledFeatures(net, s.Layers, val, s.Batch, "OOD threshold", progress, warn)
	if err := o.Calibrate(valFeats, s.Quantile); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return o, nil
}

// defaultOODLayers is model.OODLayers for a base of depth conv layers: those
// it has, and its last layer (the head's input) when a cut base ends
// elsewhere.
func defaultOODLayers(depth int) []int {
	var layers []int
	for _, l := range model.OODLayers {
		if l < depth {
			layers = append(layers, l)
		}
	}
	if len(layers) == 0 || layers[len(layers)-1] != depth-1 {
		layers = append(layers, depth-1)
	}
	return layers
}

// pooledFeatures returns, per layer, the pooled activations (images ×
// channels) of the readable samples, and their labels.
func pooledFeatures(net *model.Net, layers []int, samples []data.Sample, batch int, desc string, progress, warn io.Writer) ([][]float32, []int) {
	feats := make([][]float32, len(layers))
	var labels []int
	forEachBatch(samples, net.InputSize(), net.PreprocessMode(), batch, newBar(len(samples), desc, progress), warn, func(x []float32, l []int) {
		for j, p := range net.PooledAt(len(l), x, layers) {
			feats[j] = append(feats[j], p...)
		}
		labels = append(labels, l...)
	})
	return feats, labels
}

// addOOD computes OOD statistics for the model file at path and stores
// them in it, weights unchanged.
func addOOD(path string, train, val []data.Sample, s oodSettings, stdout, progress, warn io.Writer) error {
	o, err := computeOOD(path, train, val, s, progress, warn)
	if err != nil {
		return err
	}
	if err := model.WriteOOD(path, o); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OOD statistics stored in %s: threshold %.4g (the %.1f %% quantile of %d validation images' scores)\n",
		path, o.Threshold, 100*o.Quantile, len(val))
	return nil
}

// cmdOOD adds OOD statistics to an existing model file, computed with its
// own weights on the training and validation splits that -data, -val,
// -test and -seed select (the same flags as the fit that trained it give
// the same validation images).
func cmdOOD(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "vggo model file to add the statistics to (rewritten in place; required)")
	dir := fs.String("data", "", "the dataset the model was trained on (required)")
	val := fs.Float64("val", 0.2, "validation fraction, as given to fit")
	test := fs.Float64("test", 0.1, "test fraction, as given to fit (class-folder layout only)")
	seed := fs.Uint64("seed", 1, "split seed, as given to fit (its -split-seed when it had one)")
	s := oodSettings{}
	fs.IntVar(&s.PerClass, "per-class", defaultOODPerClass, "training images per class for the class means and covariance")
	fs.Float64Var(&s.Quantile, "quantile", defaultOODQuantile, "validation quantile the threshold is set at")
	fs.IntVar(&s.Batch, "batch", 32, "images per forward pass")
	threads := fs.Int("threads", 0, "kernel threads (0: all cores)")
	layers := fs.String("layers", "", "conv layers (0-based, ascending, comma-separated) whose pooled activations are described (default: the end of every block)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: train ood -model FILE -data DIR [-val F -test F -seed N] [-per-class N -quantile Q]")
		return errUsage
	}
	if *layers != "" {
		for _, f := range strings.Split(*layers, ",") {
			l, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || l < 0 || l >= model.ConvLayers || (len(s.Layers) > 0 && l <= s.Layers[len(s.Layers)-1]) {
				return fmt.Errorf("ood: -layers %q: want ascending conv layers 0..%d", *layers, model.ConvLayers-1)
			}
			s.Layers = append(s.Layers, l)
		}
	}
	if *threads > 0 {
		kernels.SetThreads(*threads)
	}
	ds, err := data.Load(*dir, data.Options{ValFraction: *val, TestFraction: *test, Seed: *seed})
	if err != nil {
		return err
	}
	return addOOD(*modelPath, ds.Train, ds.Val, s, stdout, stderr, stderr)
}
