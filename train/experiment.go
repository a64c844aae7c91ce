package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"vggo/train/report"
)

// An experiment arm: how the network starts and what trains. Candidates
// for the learning rate and, for an earlier cut, the cut itself are
// chosen on a validation split (never the test split) before the grid
// runs.
type experimentArm struct {
	Name        string
	FromScratch bool
	FineTune    int   // trailing conv layers that train (of those used)
	Cuts        []int // -base-layers candidates (nil: the whole base)
	LRs         []float64
	HeadOnly    bool // only the head trains: cheap epochs, so more of them
}

// experimentArms are the arms of train/EXPERIMENT.md, by name.
var experimentArms = []experimentArm{
	{Name: "scratch", FromScratch: true, FineTune: 13, LRs: []float64{1e-3, 3e-4}},
	{Name: "fe-top", FineTune: 0, LRs: []float64{1e-2, 1e-3}, HeadOnly: true},
	{Name: "fe-cut", FineTune: 0, Cuts: []int{4, 7, 10}, LRs: []float64{1e-2, 1e-3}, HeadOnly: true},
	{Name: "ft1", FineTune: 1, LRs: []float64{1e-3, 1e-4}},
	{Name: "ft3", FineTune: 3, LRs: []float64{1e-3, 1e-4}},
	{Name: "ft6", FineTune: 6, LRs: []float64{1e-3, 1e-4}},
	{Name: "ft13", FineTune: 13, LRs: []float64{3e-4, 1e-4}},
}

// experimentSettings are `train experiment`'s flags.
type experimentSettings struct {
	Data, Weights, Out, Cache string
	InputSize, WidthDiv       int
	Val                       float64
	Ns, Seeds                 []int
	Arms                      []experimentArm
	TuneN                     int
	TuneSeed                  uint64
	Budget                    time.Duration
	// maxEpochs is the epoch cap of an arm at n images per class; tests
	// shrink it.
	maxEpochs func(a experimentArm, n int) int
}

// experimentRun is one fit of the experiment and its scores.
type experimentRun struct {
	Phase     string // "tune" or "grid"
	Arm       string
	N         int
	Seed      uint64
	LR        float64
	Cut       int // -base-layers (0: all)
	ValAcc    float64
	ValLoss   float64
	TestAcc   float64
	BestEpoch int
	Epochs    int
	Seconds   float64
	Err       string
	Dir       string
}

// defaultMaxEpochs caps epochs by what trains and how much data there is;
// early stopping on the validation loss (patience 3) usually ends sooner.
func defaultMaxEpochs(a experimentArm, n int) int {
	switch {
	case a.HeadOnly:
		return 60
	case a.FineTune <= 3:
		return 30
	case n <= 10:
		return 15
	case n <= 30:
		return 12
	default:
		return 6
	}
}

func parseIntList(flagName, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("experiment: -%s %q: want positive integers separated by commas", flagName, s)
		}
		out = append(out, v)
	}
	return out, nil
}

// cmdExperiment runs `train experiment`: the cross-dataset transfer
// experiment of train/EXPERIMENT.md.
func cmdExperiment(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("experiment", flag.ContinueOnError)
	fs.SetOutput(stderr)
	s := &experimentSettings{maxEpochs: defaultMaxEpochs}
	fs.StringVar(&s.Data, "data", "", "target dataset in the train/test layout (train convert-digits writes one); its test split is the fixed test set (required)")
	fs.StringVar(&s.Weights, "weights", "web/models/fashion-mnist-vgg16.vggo.safetensors", "the pretrained source: a vggo model file or a weight file of a full-width VGG16")
	fs.StringVar(&s.Out, "out", "experiment", "output folder: runs/ (a later invocation with the same settings reuses the runs finished there), results.tsv, summary.md, learning-curve.png")
	fs.StringVar(&s.Cache, "cache", "", "feature cache folder (default OUT/cache)")
	fs.IntVar(&s.InputSize, "input-size", 32, "input side in pixels")
	fs.IntVar(&s.WidthDiv, "width-div", 1, "width divisor of -weights")
	fs.Float64Var(&s.Val, "val", 0.15, "fraction of each class's training pool held out for validation (early stopping and every choice of hyper-parameters)")
	ns := fs.String("n", "5,10,30,100", "training images per class")
	seeds := fs.String("seeds", "1,2,3,4,5", "seeds: each draws its own validation split, training subset, initialisation and order")
	arms := fs.String("arms", "", "arms to run, comma-separated (default all: scratch,fe-top,fe-cut,ft1,ft3,ft6,ft13)")
	fs.IntVar(&s.TuneN, "tune-n", 5, "images per class of the tuning runs that choose each arm's learning rate (and cut) on validation")
	fs.Uint64Var(&s.TuneSeed, "tune-seed", 1000, "seed of the tuning runs (not one of -seeds)")
	fs.DurationVar(&s.Budget, "budget", 60*time.Minute, "start no run after this much time; the summary says what did not run")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if s.Data == "" {
		return fmt.Errorf("experiment: -data is required")
	}
	var err error
	if s.Ns, err = parseIntList("n", *ns); err != nil {
		return err
	}
	if s.Seeds, err = parseIntList("seeds", *seeds); err != nil {
		return err
	}
	if slices.Contains(s.Seeds, int(s.TuneSeed)) {
		return fmt.Errorf("experiment: -tune-seed %d is one of -seeds: tuning runs must not be reported", s.TuneSeed)
	}
	s.Arms = experimentArms
	if *arms != "" {
		s.Arms = nil
		for _, name := range strings.Split(*arms, ",") {
			i := slices.IndexFunc(experimentArms, func(a experimentArm) bool { return a.Name == name })
			if i < 0 {
				return fmt.Errorf("experiment: -arms: unknown arm %q (want scratch, fe-top, fe-cut, ft1, ft3, ft6, ft13)", name)
			}
			s.Arms = append(s.Arms, experimentArms[i])
		}
	}
	if s.Cache == "" {
		s.Cache = filepath.Join(s.Out, "cache")
	}
	_, err = runExperiment(context.Background(), s, stdout)
	return err
}

// runExperiment tunes each arm on validation, runs the grid within the
// time budget, and writes results.tsv, summary.md and learning-curve.png.
func runExperiment(ctx context.Context, s *experimentSettings, stdout io.Writer) ([]experimentRun, error) {
	start := time.Now()
	if err := os.MkdirAll(filepath.Join(s.Out, "runs"), 0o755); err != nil {
		return nil, err
	}
	if err := checkExperimentSettings(s); err != nil {
		return nil, err
	}
	var runs []experimentRun
	overBudget := func() bool { return time.Since(start) > s.Budget }
	chosen := map[string]experimentRun{}
	for _, a := range s.Arms {
		best := -1
		for _, cut := range append([]int{0}, a.Cuts...) {
			if cut == 0 && a.Cuts != nil {
				continue
			}
			for _, lr := range a.LRs {
				r := runExperimentFit(ctx, s, a, "tune", s.TuneN, s.TuneSeed, lr, cut, stdout)
				runs = append(runs, r)
				if r.Err == "" && (best < 0 || r.ValAcc > runs[best].ValAcc || (r.ValAcc == runs[best].ValAcc && r.ValLoss < runs[best].ValLoss)) {
					best = len(runs) - 1
				}
			}
		}
		if best < 0 {
			return runs, fmt.Errorf("experiment: arm %s: every tuning run failed (see %s)", a.Name, filepath.Join(s.Out, "runs"))
		}
		b := runs[best]
		chosen[a.Name] = b
		fmt.Fprintf(stdout, "%s: chose lr %g%s on validation (accuracy %.4f at n=%d)\n", a.Name, b.LR, cutText(b.Cut), b.ValAcc, s.TuneN)
	}
	// Cells (arm, n) run cheapest first, each with all its seeds, so that
	// a budget that runs out leaves whole cells, and the dearest ones, not
	// run.
	type cell struct {
		a    experimentArm
		n    int
		cost float64
	}
	var cells []cell
	for _, a := range s.Arms {
		for _, n := range s.Ns {
			cells = append(cells, cell{a, n, float64(n*s.maxEpochs(a, n)) * armCost(a)})
		}
	}
	slices.SortStableFunc(cells, func(x, y cell) int { return cmp.Compare(x.cost, y.cost) })
	skipped := 0
	for _, cl := range cells {
		for _, seed := range s.Seeds {
			if overBudget() && !finishedRun(s, cl.a, "grid", cl.n, uint64(seed), chosen[cl.a.Name].LR, chosen[cl.a.Name].Cut) {
				skipped++
				continue
			}
			c := chosen[cl.a.Name]
			runs = append(runs, runExperimentFit(ctx, s, cl.a, "grid", cl.n, uint64(seed), c.LR, c.Cut, stdout))
		}
	}
	elapsed := time.Since(start)
	if err := writeExperimentResults(s, runs, chosen, skipped, elapsed); err != nil {
		return runs, err
	}
	fmt.Fprintf(stdout, "experiment: %d runs in %s (%d not started: over the %s budget); wrote %s, %s, %s\n",
		len(runs), elapsed.Round(time.Second), skipped, s.Budget, filepath.Join(s.Out, "results.tsv"), filepath.Join(s.Out, "summary.md"), filepath.Join(s.Out, "learning-curve.png"))
	return runs, nil
}

// armCost is the rough cost of one training image-epoch of an arm relative
// to training all 13 conv layers at 32x32 (by multiply-adds of the layers
// that train; the head alone is almost free).
func armCost(a experimentArm) float64 {
	switch {
	case a.HeadOnly:
		return 0.01
	case a.FineTune <= 1:
		return 0.03
	case a.FineTune <= 3:
		return 0.09
	case a.FineTune <= 6:
		return 0.4
	}
	return 1
}

func cutText(cut int) string {
	if cut == 0 {
		return ""
	}
	return fmt.Sprintf(", -base-layers %d", cut)
}

// checkExperimentSettings records the settings every run of OUT shares in
// OUT/settings.json, or refuses OUT when they differ: finished runs are
// reused by name (arm, n, seed, rate, cut), so they must have been made
// with the same data, weights, input size, validation split and epochs.
func checkExperimentSettings(s *experimentSettings) error {
	var epochs []string
	for _, a := range experimentArms {
		for _, n := range []int{5, 10, 30, 100} {
			epochs = append(epochs, fmt.Sprintf("%s/%d:%d", a.Name, n, s.maxEpochs(a, n)))
		}
	}
	want := fmt.Sprintf("data=%s weights=%s input-size=%d width-div=%d val=%g tune-n=%d tune-seed=%d epochs=%s\n",
		s.Data, s.Weights, s.InputSize, s.WidthDiv, s.Val, s.TuneN, s.TuneSeed, strings.Join(epochs, ","))
	path := filepath.Join(s.Out, "settings.txt")
	got, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		return os.WriteFile(path, []byte(want), 0o644)
	case err != nil:
		return err
	case string(got) != want:
		return fmt.Errorf("experiment: %s holds runs made with other settings, which it would reuse; use a new -out\n  there: %s  now:   %s", s.Out, got, want)
	}
	return nil
}

// runDir is the run folder of one fit of the experiment.
func runDir(s *experimentSettings, a experimentArm, phase string, n int, seed uint64, lr float64, cut int) string {
	return filepath.Join(s.Out, "runs", fmt.Sprintf("%s-%s-n%d-s%d-lr%g%s", phase, a.Name, n, seed, lr, strings.ReplaceAll(cutText(cut), ", -base-layers ", "-cut")))
}

// finishedRun reports whether that fit finished in an earlier invocation
// (its history.json has a test score).
func finishedRun(s *experimentSettings, a experimentArm, phase string, n int, seed uint64, lr float64, cut int) bool {
	_, ok := readFinishedRun(runDir(s, a, phase, n, seed, lr, cut))
	return ok
}

// readFinishedRun reads a finished run's history.json.
func readFinishedRun(dir string) (*report.History, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "history.json"))
	if err != nil {
		return nil, false
	}
	var h report.History
	if json.Unmarshal(b, &h) != nil || h.Test == nil || h.BestEpoch < 1 || h.BestEpoch > len(h.Epochs) {
		return nil, false
	}
	return &h, true
}

// runExperimentFit runs one fit in this process, its log in its run
// folder, or reads its result when an earlier invocation finished it.
func runExperimentFit(ctx context.Context, s *experimentSettings, a experimentArm, phase string, n int, seed uint64, lr float64, cut int, stdout io.Writer) experimentRun {
	r := experimentRun{Phase: phase, Arm: a.Name, N: n, Seed: seed, LR: lr, Cut: cut}
	r.Dir = runDir(s, a, phase, n, seed, lr, cut)
	if h, ok := readFinishedRun(r.Dir); ok {
		r.TestAcc, r.BestEpoch, r.Epochs = h.Test.Accuracy, h.BestEpoch, len(h.Epochs)
		r.ValAcc, r.ValLoss = h.Epochs[h.BestEpoch-1].ValAcc, h.Epochs[h.BestEpoch-1].ValLoss
		for _, e := range h.Epochs {
			r.Seconds += e.Seconds
		}
		return r
	}
	batch := 32
	if n <= 10 {
		batch = 16
	}
	c := &fitConfig{Data: s.Data, ValFraction: s.Val, Seed: seed, TrainPerClass: n, FromScratch: a.FromScratch, Head: "gap",
		InputSize: s.InputSize, WidthDiv: s.WidthDiv, BaseLayers: cut, FineTune: a.FineTune, Optimizer: "adam", LR: lr, LRSchedule: "constant",
		Batch: batch, Dropout: 0.2, AugCopies: 1, Epochs: s.maxEpochs(a, n), Patience: 3, Out: r.Dir, CacheDir: s.Cache,
		Export: "int8", Quiet: true, Device: deviceCPU, scoreOnly: true}
	if a.HeadOnly {
		c.Patience = 5
	}
	if !a.FromScratch {
		c.Weights = s.Weights
	}
	t0 := time.Now()
	err := func() error {
		if err := c.validate(); err != nil {
			return err
		}
		if err := os.MkdirAll(r.Dir, 0o755); err != nil {
			return err
		}
		log, err := os.Create(filepath.Join(r.Dir, "log.txt"))
		if err != nil {
			return err
		}
		defer log.Close()
		res, err := fit(ctx, c, log, log)
		if err != nil {
			fmt.Fprintln(log, "error:", err)
			return err
		}
		h := res.History
		r.TestAcc, r.BestEpoch, r.Epochs = res.TestAccuracy, h.BestEpoch, len(h.Epochs)
		if h.BestEpoch > 0 {
			r.ValAcc, r.ValLoss = h.Epochs[h.BestEpoch-1].ValAcc, h.Epochs[h.BestEpoch-1].ValLoss
		}
		return nil
	}()
	r.Seconds = time.Since(t0).Seconds()
	if err != nil {
		r.Err = err.Error()
		fmt.Fprintf(stdout, "%-4s %-7s n=%-3d seed %-4d lr %-6g%s: FAILED: %v\n", phase, a.Name, n, seed, lr, cutText(cut), err)
		return r
	}
	shown := fmt.Sprintf("test %.4f", r.TestAcc)
	if phase == "tune" {
		shown = "(test not looked at)"
	}
	fmt.Fprintf(stdout, "%-4s %-7s n=%-3d seed %-4d lr %-6g%s: val %.4f  %s  best epoch %d/%d  %.0fs\n",
		phase, a.Name, n, seed, lr, cutText(cut), r.ValAcc, shown, r.BestEpoch, r.Epochs, r.Seconds)
	return r
}

// armLabel is an arm's name in the table and the plot.
var armLabel = map[string]string{
	"scratch": "from scratch",
	"fe-top":  "feature extraction, top (13 layers)",
	"fe-cut":  "feature extraction, earlier cut",
	"ft1":     "fine-tune last 1",
	"ft3":     "fine-tune last 3",
	"ft6":     "fine-tune last 6",
	"ft13":    "fine-tune all 13",
}

// writeExperimentResults writes every run (results.tsv), the mean ± sd
// table of the grid's test accuracy with the chosen hyper-parameters
// (summary.md) and the learning curves (learning-curve.png).
func writeExperimentResults(s *experimentSettings, runs []experimentRun, chosen map[string]experimentRun, skipped int, elapsed time.Duration) error {
	var tsv strings.Builder
	tsv.WriteString("phase\tarm\tn\tseed\tlr\tbase_layers\tval_acc\tval_loss\ttest_acc\tbest_epoch\tepochs\tseconds\terror\n")
	for _, r := range runs {
		test := strconv.FormatFloat(r.TestAcc, 'f', 4, 64)
		if r.Phase == "tune" {
			test = "-" // never looked at
		}
		fmt.Fprintf(&tsv, "%s\t%s\t%d\t%d\t%g\t%d\t%.4f\t%.4f\t%s\t%d\t%d\t%.1f\t%s\n",
			r.Phase, r.Arm, r.N, r.Seed, r.LR, r.Cut, r.ValAcc, r.ValLoss, test, r.BestEpoch, r.Epochs, r.Seconds, r.Err)
	}
	if err := os.WriteFile(filepath.Join(s.Out, "results.tsv"), []byte(tsv.String()), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Test accuracy on the fixed test set, mean ± sd over seeds (runs in brackets when fewer than %d):\n\n", len(s.Seeds))
	md.WriteString("| arm | chosen on validation |")
	for _, n := range s.Ns {
		fmt.Fprintf(&md, " n=%d |", n)
	}
	md.WriteString("\n| --- | --- |" + strings.Repeat(" --- |", len(s.Ns)) + "\n")
	var series []report.CurveSeries
	for _, a := range s.Arms {
		c := chosen[a.Name]
		fmt.Fprintf(&md, "| %s | lr %g%s |", armLabel[a.Name], c.LR, cutText(c.Cut))
		cs := report.CurveSeries{Name: armLabel[a.Name]}
		if c.Cut > 0 {
			cs.Name += fmt.Sprintf(" (%d layers)", c.Cut)
		}
		for _, n := range s.Ns {
			var acc []float64
			for _, r := range runs {
				if r.Phase == "grid" && r.Arm == a.Name && r.N == n && r.Err == "" {
					acc = append(acc, r.TestAcc)
				}
			}
			if len(acc) == 0 {
				md.WriteString(" not run |")
				continue
			}
			mean, sd := report.MeanSD(acc)
			fmt.Fprintf(&md, " %.1f ± %.1f %%", 100*mean, 100*sd)
			if len(acc) < len(s.Seeds) {
				fmt.Fprintf(&md, " (%d)", len(acc))
			}
			md.WriteString(" |")
			cs.Points = append(cs.Points, report.CurvePoint{X: float64(n), Mean: mean, SD: sd, Runs: len(acc)})
		}
		md.WriteString("\n")
		series = append(series, cs)
	}
	failed := 0
	for _, r := range runs {
		if r.Err != "" {
			failed++
		}
	}
	fmt.Fprintf(&md, "\n%d runs (%d failed) in %s; %d grid runs not started (over the %s budget).\n", len(runs), failed, elapsed.Round(time.Second), skipped, s.Budget)
	if err := os.WriteFile(filepath.Join(s.Out, "summary.md"), []byte(md.String()), 0o644); err != nil {
		return err
	}
	if !slices.ContainsFunc(series, func(c report.CurveSeries) bool { return len(c.Points) > 0 }) {
		return fmt.Errorf("experiment: no grid run finished, so there is no learning curve (see %s)", filepath.Join(s.Out, "results.tsv"))
	}
	return report.PlotLearningCurves(filepath.Join(s.Out, "learning-curve.png"),
		fmt.Sprintf("digits (8x8 → %dx%d) from a Fashion-MNIST VGG16 base", s.InputSize, s.InputSize), series)
}
