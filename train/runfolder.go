package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"vggo/model"
	"vggo/train/nn"
	"vggo/train/report"
)

// makeRunFolder creates the run folder and checks that files can be made
// in it, so that a read-only --out fails before any work, naming the
// folder, not at the first checkpoint after a whole epoch.
func makeRunFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the probe's name means nothing to the user
		}
		return fmt.Errorf("run folder %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// finish exports the trained model, scores it on the test split (the
// float32 graph and the exported file) and writes the run folder.
func (t *trainer) finish(res *fitResult) (*fitResult, error) {
	c, pr, h := t.c, t.pr, &t.st.History
	m := exportModel(c, pr.spec, pr.base, t.params, pr.ds.Classes)
	res.ModelPath = filepath.Join(c.Out, "model.safetensors")
	if c.scoreOnly {
		res.ModelPath = ""
	}
	if len(pr.test.Samples) == 0 {
		fmt.Fprintln(t.stdout, "no test split (--test 0): skipping the test evaluation")
		if err := t.writeModel(res.ModelPath, m); err != nil {
			return nil, err
		}
		return res, writeRunFolder(c.Out, h, nil, t.stdout)
	}
	ev, err := evaluateSet(t.evalG, pr.cache, pr.test, pr.ds.Classes, t.per, c.Batch, newBar(len(pr.test.Samples), "test", t.progress))
	if err != nil {
		return nil, err
	}
	res.TestAccuracy = ev.conf.Accuracy()
	fmt.Fprintf(t.stdout, "test (float32, best epoch %d): %d images, accuracy %.4f\n%s", t.st.BestEpoch, ev.conf.Total(), res.TestAccuracy, ev.conf.Table())
	if c.scoreOnly {
		h.Test = &report.TestResult{Accuracy: res.TestAccuracy, Images: ev.conf.Total(), PerClass: ev.conf.PerClass(), Confusion: ev.conf.M}
		return res, report.WriteJSON(filepath.Join(c.Out, "history.json"), h)
	}
	m.Info.Provenance["test_accuracy_float32"] = fmt.Sprintf("%.4f", res.TestAccuracy)
	if err := t.writeModel(res.ModelPath, m); err != nil {
		return nil, err
	}
	expConf, err := evaluateModelFile(res.ModelPath, pr.test.Samples, pr.ds.Classes, c.Batch, t.progress, t.warn)
	if err != nil {
		return nil, err
	}
	res.ExportAccuracy = expConf.Accuracy()
	how := c.Export
	if c.FlipAvg {
		how += ", each image averaged with its mirror image; the graph's figure is without"
	}
	fmt.Fprintf(t.stdout, "exported %s (%s): test accuracy %.4f (float32 graph: %.4f)\n", res.ModelPath, how, res.ExportAccuracy, res.TestAccuracy)
	h.Test = &report.TestResult{Accuracy: res.TestAccuracy, ExportedAccuracy: res.ExportAccuracy, ExportedDType: c.Export,
		Images: ev.conf.Total(), PerClass: ev.conf.PerClass(), Confusion: ev.conf.M}
	return res, writeRunFolder(c.Out, h, ev.conf, t.stdout)
}

// writeModel exports m and adds the OOD statistics computed with the
// exported weights (skipped, with a note, without validation images or
// with --ood-per-class 0).
func (t *trainer) writeModel(path string, m *model.Model) error {
	c := t.c
	if err := model.WriteModelFile(path, m, c.Export); err != nil {
		return err
	}
	if c.OOD.PerClass == 0 || len(t.pr.val.Samples) == 0 {
		fmt.Fprintln(t.stdout, "no OOD statistics stored (--ood-per-class 0 or no validation split): the model cannot flag unfamiliar images")
		return nil
	}
	s := c.OOD
	s.Batch = c.Batch
	return addOOD(path, t.pr.train.Samples, t.pr.val.Samples, s, t.stdout, t.progress, t.warn)
}

// writeRunFolder writes the history, the learning curves and, when the run
// had a test split (conf not nil), the test metrics and confusion matrix.
func writeRunFolder(out string, h *report.History, conf *report.Confusion, stdout io.Writer) error {
	files := []string{"history.json"}
	if err := report.WriteJSON(filepath.Join(out, "history.json"), h); err != nil {
		return err
	}
	if conf != nil {
		files = append(files, "metrics.txt")
		if err := os.WriteFile(filepath.Join(out, "metrics.txt"), []byte(conf.Table()), 0o644); err != nil {
			return err
		}
	}
	files = append(files, "curves.png")
	if err := report.PlotCurves(filepath.Join(out, "curves.png"), h); err != nil {
		return err
	}
	if conf != nil {
		files = append(files, "confusion.png")
		if err := report.PlotConfusion(filepath.Join(out, "confusion.png"), conf, fmt.Sprintf("test confusion (accuracy %.3f)", conf.Accuracy())); err != nil {
			return err
		}
	}
	files = append(files, "model.safetensors", checkpointFile)
	fmt.Fprintf(stdout, "run folder %s: %s\n", out, strings.Join(files, ", "))
	return nil
}

// exportModel assembles the model file contents: the frozen layers from
// base, the trained layers and head from params, and the run's description.
func exportModel(c *fitConfig, spec nn.Spec, base *model.ConvBase, p *nn.Params, classes []string) *model.Model {
	m := &model.Model{}
	m.Base, m.Head = spec.Export(p, base)
	src := "from-scratch"
	if c.Weights != "" {
		src = filepath.Base(c.Weights)
	}
	m.Info = model.Info{FormatVersion: model.ModelFormatVersion, Arch: "vgg16", InputSize: c.InputSize, WidthDiv: c.WidthDiv, BaseLayers: c.BaseLayers,
		Head: spec.Head, Classes: classes, Preprocess: c.Preprocess, Description: c.Description, FlipAverage: c.FlipAvg,
		Provenance: map[string]string{
			"dataset":   c.Data,
			"date":      time.Now().UTC().Format(time.RFC3339),
			"command":   strings.Join(os.Args, " "),
			"base":      src,
			"fine_tune": strconv.Itoa(c.FineTune),
		}}
	return m
}
