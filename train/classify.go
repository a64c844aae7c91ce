package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"vggo/model"
	"vggo/model/rank"
	"vggo/train/data"
	"vggo/train/report"
)

// cmdClassify prints the top-k classes of each image (files or folders,
// searched recursively), with the same code path the browser uses:
// model.DecodeImage, model.Preprocess, Net.Forward.
func cmdClassify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("classify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "vggo model file (required)")
	k := fs.Int("k", 3, "classes to print per image")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: train classify -model FILE [-k N] IMAGE|FOLDER...")
		return errUsage
	}
	m, err := model.ReadModelFile(*modelPath)
	if err != nil {
		return err
	}
	net, err := model.NewNet(m)
	if err != nil {
		return err
	}
	files, err := imageFiles(fs.Args())
	if err != nil {
		return err
	}
	failed := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		var preds []rank.Prediction
		if err == nil {
			preds, err = model.ClassifyImage(net, bytes.NewReader(raw), f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "warning: skipping %s: %v\n", f, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s:", f)
		for i := 0; i < min(*k, len(preds)); i++ {
			fmt.Fprintf(stdout, "  %s %.4f", preds[i].Class, preds[i].Prob)
		}
		fmt.Fprintln(stdout)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d image(s) could not be classified", failed, len(files))
	}
	return nil
}

// imageFiles expands folders (recursively) into sorted image files.
func imageFiles(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		err = filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && data.IsImageName(p) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// cmdEvaluate scores a model file on a labelled folder whose class folder
// names are the model's class names.
func cmdEvaluate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "vggo model file (required)")
	dir := fs.String("data", "", "folder of class folders; a DIR/test subfolder is used when present (required)")
	out := fs.String("out", "", "also write metrics.txt and confusion.png here")
	batch := fs.Int("batch", 32, "images per forward pass")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" || *dir == "" {
		fmt.Fprintln(stderr, "usage: train evaluate -model FILE -data DIR [-out DIR]")
		return errUsage
	}
	info, err := model.ReadInfo(*modelPath)
	if err != nil {
		return err
	}
	root := *dir
	if st, err := os.Stat(filepath.Join(root, "test")); err == nil && st.IsDir() {
		root = filepath.Join(root, "test")
	}
	var samples []data.Sample
	for c, name := range info.Classes {
		files, err := imageFiles([]string{filepath.Join(root, name)})
		if err != nil {
			return fmt.Errorf("evaluate: class %q of the model: %w", name, err)
		}
		for _, f := range files {
			samples = append(samples, data.Sample{Path: f, Label: c})
		}
	}
	conf, err := evaluateModelFile(*modelPath, samples, info.Classes, *batch, stderr, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s on %s: %d images, accuracy %.4f\n%s", *modelPath, root, conf.Total(), conf.Accuracy(), conf.Table())
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, "metrics.txt"), []byte(conf.Table()), 0o644); err != nil {
			return err
		}
		return report.PlotConfusion(filepath.Join(*out, "confusion.png"), conf, fmt.Sprintf("%s (accuracy %.3f)", filepath.Base(*modelPath), conf.Accuracy()))
	}
	return nil
}

// evaluateModelFile classifies samples with a model file exactly as
// `classify` does and returns the confusion matrix. Unreadable images are
// skipped with a warning.
func evaluateModelFile(path string, samples []data.Sample, classes []string, batch int, progress, warn io.Writer) (*report.Confusion, error) {
	m, err := model.ReadModelFile(path)
	if err != nil {
		return nil, err
	}
	net, err := model.NewNet(m)
	if err != nil {
		return nil, err
	}
	conf := report.NewConfusion(classes)
	bar := newBar(len(samples), "evaluating "+filepath.Base(path), progress)
	forEachBatch(samples, m.Info.InputSize, m.Info.Preprocess, batch, bar, warn, func(x []float32, labels []int) {
		probs := net.Forward(len(labels), x)
		k := len(probs) / len(labels)
		for i, l := range labels {
			conf.Add(l, rank.Best(probs[i*k:(i+1)*k]))
		}
	})
	return conf, nil
}

// forEachBatch decodes and preprocesses samples exactly as `classify` does
// and calls fn with up to batch images (x: len(labels) preprocessed images)
// and their labels; bar counts every sample. Unreadable images are skipped
// with a warning.
func forEachBatch(samples []data.Sample, size int, mode string, batch int, bar *imageBar, warn io.Writer, fn func(x []float32, labels []int)) {
	x := make([]float32, 0, batch*size*size*3)
	var labels []int
	flush := func() {
		if len(labels) > 0 {
			fn(x, labels)
		}
		x, labels = x[:0], labels[:0]
	}
	for _, s := range samples {
		bar.Add(1)
		f, err := os.Open(s.Path)
		if err != nil {
			fmt.Fprintf(warn, "warning: skipping %s: %v\n", s.Path, err)
			continue
		}
		img, err := model.DecodeImage(f, s.Path)
		f.Close()
		if err != nil {
			fmt.Fprintf(warn, "warning: skipping %s: %v\n", s.Path, err)
			continue
		}
		x = append(x, model.Preprocess(img, size, mode)...)
		labels = append(labels, s.Label)
		if len(labels) == batch {
			flush()
		}
	}
	flush()
	bar.Finish()
}
