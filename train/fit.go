package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"vggo/kernels"
	"vggo/model"
	"vggo/model/weights"
	"vggo/train/augment"
	"vggo/train/cache"
	"vggo/train/checkpoint"
	"vggo/train/data"
	"vggo/train/nn"
	"vggo/train/report"
)

// errInterrupted is returned after SIGINT once the checkpoint is saved.
var errInterrupted = errors.New("interrupted: checkpoint saved; continue with --resume")

// errCachingInterrupted is returned after SIGINT during feature caching.
var errCachingInterrupted = errors.New("interrupted while caching features; those computed so far stay in the cache")

// fitConfig is every setting of a fit run. The fields that change what is
// learnt make up the fingerprint a resume must match.
type fitConfig struct {
	Data           string         `json:"data"`
	ValFraction    float64        `json:"val_fraction"`
	TestFraction   float64        `json:"test_fraction"`
	Seed           uint64         `json:"seed"`
	Classes        int            `json:"classes"`
	ClassNames     []string       `json:"class_names"`
	TrainPerClass  int            `json:"train_per_class"`
	TestPerClass   int            `json:"test_per_class"`
	Weights        string         `json:"weights"`
	FromScratch    bool           `json:"from_scratch"`
	Head           string         `json:"head"`
	InputSize      int            `json:"input_size"`
	WidthDiv       int            `json:"width_div"`
	FineTune       int            `json:"fine_tune"`
	Preprocess     string         `json:"preprocess"`
	Optimizer      string         `json:"optimizer"`
	LR             float64        `json:"lr"`
	LRSchedule     string         `json:"lr_schedule,omitempty"`     // "" (constant) or "cosine"
	ScheduleEpochs int            `json:"schedule_epochs,omitempty"` // the cosine's length: --epochs
	Batch          int            `json:"batch"`
	Dropout        float64        `json:"dropout"`
	Aug            augment.Params `json:"augment"`
	AugCopies      int            `json:"aug_copies"`

	// Not part of the fingerprint.
	Epochs    int    `json:"-"`
	Patience  int    `json:"-"`
	Out       string `json:"-"`
	CacheDir  string `json:"-"`
	Export    string `json:"-"`
	Resume    bool   `json:"-"`
	Threads   int    `json:"-"`
	Quiet     bool   `json:"-"` // no progress bars (tests)
	MemBudget int64  `json:"-"`
}

func (c *fitConfig) fingerprint() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// lrAt is the learning rate for optimizer step t (0-based, counted over the
// whole run) of a run with stepsPerEpoch steps per epoch: constant, or
// cosine-annealed from --lr towards 0 over --epochs, which lets the last
// epochs settle into a minimum that a constant rate keeps jumping out of.
func (c *fitConfig) lrAt(t, stepsPerEpoch int) float64 {
	if c.LRSchedule != "cosine" {
		return c.LR
	}
	total := float64(c.ScheduleEpochs * stepsPerEpoch)
	return c.LR * 0.5 * (1 + math.Cos(math.Pi*float64(t)/total))
}

// parseFitFlags parses the flags fit and extract share; cmd names the
// subcommand in usage and error messages.
func parseFitFlags(cmd string, args []string, stderr io.Writer) (*fitConfig, error) {
	c := &fitConfig{}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Data, "data", "", "dataset folder: DIR/<class>/*, DIR/{train,test}/<class>/* or a Food-101 tree (required)")
	fs.Float64Var(&c.ValFraction, "val", 0.2, "fraction of each class's training images held out for validation")
	fs.Float64Var(&c.TestFraction, "test", 0.1, "fraction of each class held out for testing (class-folder layout only)")
	fs.Uint64Var(&c.Seed, "seed", 1, "seed for splits, shuffling, initialisation, dropout and augmentation")
	fs.IntVar(&c.Classes, "classes", 0, "use only the first N classes in sorted order (0: all)")
	classNames := fs.String("class-names", "", "comma-separated class names to use (default: all)")
	fs.IntVar(&c.TrainPerClass, "train-per-class", 0, "at most N training images per class (0: all)")
	fs.IntVar(&c.TestPerClass, "test-per-class", 0, "at most N test images per class (0: all)")
	fs.StringVar(&c.Weights, "weights", "", "pretrained conv base: Keras .h5, torchvision .pth, .safetensors, or a vggo model file from an earlier run")
	fs.BoolVar(&c.FromScratch, "from-scratch", false, "random (He) initialisation instead of --weights")
	fs.StringVar(&c.Head, "head", model.HeadGAP, "classifier head: seed (Flatten→4096→1072→n, the tutorial's), gap (GAP→256→n) or linear (GAP→n)")
	fs.IntVar(&c.InputSize, "input-size", 224, "square input side in pixels (multiple of 32)")
	fs.IntVar(&c.WidthDiv, "width-div", 1, "divide every channel count by this (1: real VGG16; must match the weights)")
	fs.IntVar(&c.FineTune, "fine-tune", 0, "number of trailing conv layers that train (0: feature extraction, 13: everything). "+
		"The tutorial's Keras fine_tune=2 unfreezes block5_conv3 and block5_pool, i.e. --fine-tune 1")
	fs.StringVar(&c.Preprocess, "preprocess", "", "caffe (Keras weights) or torch (torchvision weights); default: caffe for .h5, torch for .pth/.safetensors and --from-scratch (inputs of unit scale)")
	fs.StringVar(&c.Optimizer, "optimizer", "adam", "adam, rmsprop or sgd (momentum 0.9)")
	fs.Float64Var(&c.LR, "lr", 0.001, "learning rate")
	fs.StringVar(&c.LRSchedule, "lr-schedule", "constant", "constant, or cosine: anneal the learning rate from --lr towards 0 over --epochs")
	fs.IntVar(&c.Batch, "batch", 32, "batch size")
	fs.IntVar(&c.Epochs, "epochs", 10, "maximum epochs")
	fs.IntVar(&c.Patience, "patience", 3, "early stopping: stop after N epochs without a lower validation loss, restoring the best weights (0: off)")
	fs.Float64Var(&c.Dropout, "dropout", 0.2, "dropout rate before the last dense layer (seed and gap heads)")
	fs.Float64Var(&c.Aug.RotationRange, "rotation", 0, "augmentation: rotation range in degrees")
	fs.Float64Var(&c.Aug.WidthShift, "width-shift", 0, "augmentation: horizontal shift range, fraction of width")
	fs.Float64Var(&c.Aug.HeightShift, "height-shift", 0, "augmentation: vertical shift range, fraction of height")
	fs.Float64Var(&c.Aug.ZoomRange, "zoom", 0, "augmentation: zoom range (scale in [1-z, 1+z])")
	fs.BoolVar(&c.Aug.HorizontalFlip, "flip", false, "augmentation: random horizontal flips")
	bright := fs.String("brightness", "", "augmentation: brightness range LO,HI (e.g. 0.8,1.2)")
	fs.IntVar(&c.AugCopies, "aug-copies", 4, "augmented copies cached per training image (used when augmentation is on)")
	fs.StringVar(&c.Out, "out", "run", "run folder (history, plots, checkpoint, model file)")
	fs.StringVar(&c.CacheDir, "cache", "", "feature cache folder (default: OUT/../.vggo-cache)")
	fs.StringVar(&c.Export, "export", "int8", "exported model weights: int8, float16 or float32")
	fs.BoolVar(&c.Resume, "resume", false, "continue from OUT/checkpoint.ckpt")
	fs.IntVar(&c.Threads, "threads", 0, "kernel threads (0: all cores)")
	fs.BoolVar(&c.Quiet, "quiet", false, "no progress bars")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("fit: unexpected argument %q", fs.Arg(0))
	}
	if *classNames != "" {
		c.ClassNames = strings.Split(*classNames, ",")
	}
	if *bright != "" {
		lo, hi, ok := strings.Cut(*bright, ",")
		l, err1 := strconv.ParseFloat(lo, 64)
		h, err2 := strconv.ParseFloat(hi, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("fit: --brightness %q: want LO,HI", *bright)
		}
		c.Aug.BrightnessRange = [2]float64{l, h}
	}
	return c, c.validate()
}

func (c *fitConfig) validate() error {
	switch {
	case c.Data == "":
		return fmt.Errorf("fit: --data is required")
	case c.Weights == "" && !c.FromScratch:
		return fmt.Errorf("fit: give --weights FILE or --from-scratch")
	case c.Weights != "" && c.FromScratch:
		return fmt.Errorf("fit: --weights and --from-scratch exclude each other")
	case c.FineTune < 0 || c.FineTune > 13:
		return fmt.Errorf("fit: --fine-tune %d: want 0..13 (VGG16 has 13 conv layers)", c.FineTune)
	case c.Batch < 1 || c.Epochs < 1:
		return fmt.Errorf("fit: --batch and --epochs must be ≥ 1")
	case c.AugCopies < 1:
		return fmt.Errorf("fit: --aug-copies must be ≥ 1")
	case c.Export != "int8" && c.Export != "float16" && c.Export != "float32":
		return fmt.Errorf("fit: --export %q: want int8, float16 or float32", c.Export)
	case c.LRSchedule != "constant" && c.LRSchedule != "cosine" && c.LRSchedule != "":
		return fmt.Errorf("fit: --lr-schedule %q: want constant or cosine", c.LRSchedule)
	}
	// A constant rate is stored as "" so that checkpoints written before
	// schedules existed still match on --resume.
	if c.LRSchedule == "constant" {
		c.LRSchedule = ""
	}
	if c.LRSchedule == "cosine" {
		c.ScheduleEpochs = c.Epochs
	}
	if info, err := model.ReadInfo(c.Weights); c.Preprocess == "" && c.Weights != "" && err == nil {
		c.Preprocess = info.Preprocess // a vggo model file as the base: keep its preprocessing
	}
	if c.Preprocess == "" {
		c.Preprocess = model.PreprocessCaffe
		if ext := strings.ToLower(filepath.Ext(c.Weights)); ext == ".pth" || ext == ".safetensors" || c.FromScratch {
			c.Preprocess = model.PreprocessTorch
		}
	}
	if err := model.CheckPreprocessMode(c.Preprocess); err != nil {
		return fmt.Errorf("fit: %w", err)
	}
	if err := c.Aug.Validate(); err != nil {
		return fmt.Errorf("fit: augmentation: %w", err)
	}
	if !c.Aug.Enabled() {
		c.AugCopies = 1
	}
	return nil
}

func cmdFit(args []string, stdout, stderr io.Writer, stop <-chan struct{}) error {
	c, err := parseFitFlags("fit", args, stderr)
	if err != nil {
		return err
	}
	_, err = fit(c, stdout, stderr, stop)
	return err
}

// fitResult is what a run produced (for tests and the final summary).
type fitResult struct {
	History        *report.History
	TestAccuracy   float64
	ExportAccuracy float64
	ModelPath      string
	Skipped        int
	CacheHits      int64 // feature cache hits while training (per-epoch reads)
	CacheComputed  int   // activations computed (misses filled) by this run
	EpochHits      []int64
	StartEpoch     int // 1-based first epoch run by this process
}

// randomBase is a He-initialised conv base (for --from-scratch).
func randomBase(arch model.Arch, seed uint64) *model.ConvBase {
	rng := rand.New(rand.NewPCG(seed, 0xba5e))
	b := &model.ConvBase{Arch: arch}
	for i := range b.Layers {
		s := arch.Conv(i)
		k := make([]float32, 9*s.Cin*s.Cout)
		std := math.Sqrt(2 / float64(9*s.Cin))
		for j := range k {
			k[j] = float32(rng.NormFloat64() * std)
		}
		b.Layers[i] = model.ConvParams{Kernel: k, Bias: make([]float32, s.Cout)}
	}
	return b
}

// loadBase reads a conv base from a pretrained weight file (weights.LoadWeights:
// Keras .h5, torchvision .pth, .safetensors) or from a vggo model file, so
// a model trained here can be the base of the next (the experiment's
// pretraining step). For a vggo model file it also returns the file's model,
// whose head a run with the same head and classes starts from (warm start);
// it is nil for the other formats.
func loadBase(path string, arch model.Arch) (*model.ConvBase, *model.Model, error) {
	if _, err := model.ReadInfo(path); err == nil {
		m, err := model.ReadModelFile(path)
		if err != nil {
			return nil, nil, err
		}
		if m.Base.Arch.WidthDiv != arch.WidthDiv {
			return nil, nil, fmt.Errorf("%s: model has --width-div %d, the run asks for %d", path, m.Base.Arch.WidthDiv, arch.WidthDiv)
		}
		return &m.Base, m, nil
	}
	base, err := weights.LoadWeights(path, arch)
	return base, nil, err
}

func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fit(c *fitConfig, stdout, stderr io.Writer, stop <-chan struct{}) (*fitResult, error) {
	if c.Threads > 0 {
		kernels.SetThreads(c.Threads)
	}
	progress := stderr
	if c.Quiet {
		progress = io.Discard
	}
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return nil, err
	}
	ckptPath := filepath.Join(c.Out, "checkpoint.ckpt")
	var resumed *checkpoint.State
	if c.Resume {
		st, err := checkpoint.Load(ckptPath)
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(stdout, "no checkpoint in %s: starting from epoch 1\n", c.Out)
		case err != nil:
			return nil, err
		case st.Config != c.fingerprint():
			return nil, fmt.Errorf("%s was written by a run with different settings; use the same flags or a new --out\n  checkpoint: %s\n  now:        %s", ckptPath, st.Config, c.fingerprint())
		default:
			resumed = st
		}
	}

	pr, err := prepare(c, stdout, progress, stderr, stop)
	if err != nil {
		return nil, err
	}
	ds, base, spec, fc, src := pr.ds, pr.base, pr.spec, pr.cache, pr.src
	trainSet, valSet, testSet, skipped := pr.train, pr.val, pr.test, pr.skipped

	// Graph and state.
	params := spec.InitParams(base, c.Seed)
	if pr.from != nil {
		// Continuing from an earlier run's model: keep its classifier too
		// when it was trained on the same classes, in the same order.
		var err error
		if !slices.Equal(pr.from.Info.Classes, ds.Classes) {
			err = fmt.Errorf("its classes %v differ from the dataset's %v", pr.from.Info.Classes, ds.Classes)
		} else {
			err = spec.LoadHead(params, &pr.from.Head) // copies nothing when it fails
		}
		if err != nil {
			fmt.Fprintf(stdout, "head: new, not %s's (%v)\n", c.Weights, err)
		} else {
			fmt.Fprintf(stdout, "head: continues from %s\n", c.Weights)
		}
	}
	trainG, err := spec.Build(params, c.Batch, true)
	if err != nil {
		return nil, err
	}
	evalG, err := spec.Build(params, c.Batch, false)
	if err != nil {
		return nil, err
	}
	solver, err := nn.NewSolver(c.Optimizer, c.LR)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	digest := sampleDigest(trainSet, valSet)
	st := &checkpoint.State{Config: c.fingerprint(), DataDigest: digest, BestValLoss: math.Inf(1)}
	best := cloneParams(params)
	if resumed != nil {
		if resumed.DataDigest != digest {
			return nil, fmt.Errorf("%s: the training or validation images changed since the checkpoint was written (files added, removed or unreadable); start a new run", ckptPath)
		}
		st = resumed
		if err := restoreState(st, params, best, solver); err != nil {
			return nil, fmt.Errorf("%s: %w", ckptPath, err)
		}
		fmt.Fprintf(stdout, "resuming after epoch %d (batch %d) from %s\n", st.Epoch, st.Batch, ckptPath)
	}
	st.History.Settings = map[string]string{"command": strings.Join(os.Args, " ")}
	res := &fitResult{History: &st.History, Skipped: skipped, CacheComputed: src.computed, StartEpoch: st.Epoch + 1}
	save := func() error {
		saveState(st, params, best, solver)
		return checkpoint.Save(ckptPath, st)
	}

	// Training.
	in := spec.InputShape()
	per := in[0] * in[1] * in[2]
	nTrain := len(trainSet.Samples)
	batches := (nTrain + c.Batch - 1) / c.Batch
	x := make([]float32, c.Batch*per)
	targets := make([]float32, c.Batch*len(ds.Classes))
	var mask []float32
	if trainG.Mask != nil {
		mask = make([]float32, trainG.Mask.Shape().TotalSize())
	}
	stopped := st.History.StoppedEarly // a resumed run that had stopped early stays stopped
	for epoch := st.Epoch + 1; epoch <= c.Epochs && !stopped; epoch++ {
		start := time.Now()
		hitsBefore := fc.Hits.Load()
		perm := rand.New(rand.NewPCG(c.Seed, uint64(epoch))).Perm(nTrain)
		lossSum, correct, seen := st.PartLoss, st.PartCorrect, st.PartN
		bar := newBar(nTrain, fmt.Sprintf("epoch %d/%d", epoch, c.Epochs), progress)
		bar.Add(min(st.Batch*c.Batch, nTrain))
		for b := st.Batch; b < batches; b++ {
			idx := perm[b*c.Batch : min((b+1)*c.Batch, nTrain)]
			if err := fillBatch(fc, trainSet, idx, (epoch-1)%c.AugCopies, per, len(ds.Classes), x, targets); err != nil {
				return nil, err
			}
			if mask != nil {
				fillMask(mask, c.Dropout, rand.New(rand.NewPCG(c.Seed^0xd0d0, uint64(epoch)<<32|uint64(b))))
			}
			loss, err := trainG.Step(x, targets, mask)
			if err != nil {
				return nil, err
			}
			if math.IsNaN(float64(loss)) {
				return nil, fmt.Errorf("epoch %d batch %d: loss is NaN (learning rate %g too high?)", epoch, b+1, solver.LR)
			}
			solver.LR = c.lrAt((epoch-1)*batches+b, batches)
			if err := solver.Step(trainG.ValueGrads()); err != nil {
				return nil, err
			}
			lossSum += float64(loss) * float64(len(idx))
			correct += countCorrect(trainG.LogitsValue(), targets, len(idx), len(ds.Classes))
			seen += len(idx)
			bar.Describe(fmt.Sprintf("epoch %d/%d loss %.4f", epoch, c.Epochs, lossSum/float64(seen)))
			bar.Add(len(idx))
			select {
			case <-stop:
				st.Batch, st.PartLoss, st.PartCorrect, st.PartN = b+1, lossSum, correct, seen
				if b+1 == batches {
					break // the epoch is complete: finish it normally below
				}
				if err := save(); err != nil {
					return nil, err
				}
				return res, errInterrupted
			default:
			}
		}
		bar.Finish()
		res.EpochHits = append(res.EpochHits, fc.Hits.Load()-hitsBefore)
		ev, err := evaluateSet(evalG, fc, valSet, ds.Classes, per, c.Batch, newBar(len(valSet.Samples), "validation", progress))
		if err != nil {
			return nil, err
		}
		e := report.Epoch{Epoch: epoch, TrainLoss: lossSum / float64(seen), TrainAcc: float64(correct) / float64(seen),
			ValLoss: ev.loss, ValAcc: ev.conf.Accuracy(), Seconds: time.Since(start).Seconds()}
		st.History.Epochs = append(st.History.Epochs, e)
		fmt.Fprintf(stdout, "epoch %d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  (%.1fs)\n",
			epoch, c.Epochs, e.TrainLoss, e.TrainAcc, e.ValLoss, e.ValAcc, e.Seconds)
		// Early stopping watches the validation loss, or the training loss
		// when there is no validation split (--val 0).
		monitored := e.ValLoss
		if len(valSet.Samples) == 0 {
			monitored = e.TrainLoss
		}
		if monitored < st.BestValLoss {
			st.BestValLoss, st.BestEpoch, st.BadEpochs = monitored, epoch, 0
			snapshotParams(best, params)
		} else {
			st.BadEpochs++
			if c.Patience > 0 && st.BadEpochs >= c.Patience {
				fmt.Fprintf(stdout, "early stopping: no lower validation loss for %d epochs; restoring epoch %d\n", st.BadEpochs, st.BestEpoch)
				st.History.StoppedEarly = true
				stopped = true
			}
		}
		st.History.BestEpoch = st.BestEpoch
		st.Epoch, st.Batch, st.PartLoss, st.PartCorrect, st.PartN = epoch, 0, 0, 0, 0
		if err := save(); err != nil {
			return nil, err
		}
		select {
		case <-stop:
			return res, errInterrupted
		default:
		}
	}
	if st.BestEpoch > 0 {
		restoreParams(params, best)
	}

	// Test, reports, export.
	m := exportModel(c, spec, base, params, ds.Classes)
	res.ModelPath = filepath.Join(c.Out, "model.safetensors")
	if len(testSet.Samples) == 0 {
		fmt.Fprintln(stdout, "no test split (--test 0): skipping the test evaluation")
		if err := model.WriteModelFile(res.ModelPath, m, c.Export); err != nil {
			return nil, err
		}
		if err := report.WriteJSON(filepath.Join(c.Out, "history.json"), &st.History); err != nil {
			return nil, err
		}
		if err := report.PlotCurves(filepath.Join(c.Out, "curves.png"), &st.History); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "run folder %s: history.json, curves.png, model.safetensors, checkpoint.ckpt\n", c.Out)
		return res, nil
	}
	ev, err := evaluateSet(evalG, fc, testSet, ds.Classes, per, c.Batch, newBar(len(testSet.Samples), "test", progress))
	if err != nil {
		return nil, err
	}
	res.TestAccuracy = ev.conf.Accuracy()
	fmt.Fprintf(stdout, "test (float32, best epoch %d): %d images, accuracy %.4f\n%s", st.BestEpoch, ev.conf.Total(), res.TestAccuracy, ev.conf.Table())
	m.Info.Provenance["test_accuracy_float32"] = fmt.Sprintf("%.4f", res.TestAccuracy)
	if err := model.WriteModelFile(res.ModelPath, m, c.Export); err != nil {
		return nil, err
	}
	expConf, err := evaluateModelFile(res.ModelPath, testSet.Samples, ds.Classes, c.Batch, progress, stderr)
	if err != nil {
		return nil, err
	}
	res.ExportAccuracy = expConf.Accuracy()
	fmt.Fprintf(stdout, "exported %s (%s): test accuracy %.4f (float32 graph: %.4f)\n", res.ModelPath, c.Export, res.ExportAccuracy, res.TestAccuracy)
	st.History.Test = &report.TestResult{Accuracy: res.TestAccuracy, ExportedAccuracy: res.ExportAccuracy, ExportedDType: c.Export,
		Images: ev.conf.Total(), PerClass: ev.conf.PerClass(), Confusion: ev.conf.M}
	if err := report.WriteJSON(filepath.Join(c.Out, "history.json"), &st.History); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(c.Out, "metrics.txt"), []byte(ev.conf.Table()), 0o644); err != nil {
		return nil, err
	}
	if err := report.PlotCurves(filepath.Join(c.Out, "curves.png"), &st.History); err != nil {
		return nil, err
	}
	if err := report.PlotConfusion(filepath.Join(c.Out, "confusion.png"), ev.conf, fmt.Sprintf("test confusion (accuracy %.3f)", res.TestAccuracy)); err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "run folder %s: history.json, metrics.txt, curves.png, confusion.png, model.safetensors, checkpoint.ckpt\n", c.Out)
	return res, nil
}

// sampleDigest hashes the sample paths and labels of the given sets.
func sampleDigest(sets ...*featureSet) string {
	h := sha256.New()
	for _, s := range sets {
		for _, x := range s.Samples {
			fmt.Fprintf(h, "%s\x00%d\n", x.Path, x.Label)
		}
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func countKeys(sets ...*featureSet) int {
	n := 0
	for _, s := range sets {
		for _, k := range s.Keys {
			n += len(k)
		}
	}
	return n
}

// fillBatch gathers the cached features of samples idx (copy cp) into x
// and their one-hot labels into targets; rows past len(idx) are zero.
func fillBatch(fc *cache.Cache, set *featureSet, idx []int, cp, per, classes int, x, targets []float32) error {
	clear(targets)
	for r, i := range idx {
		key := set.Keys[i][cp%len(set.Keys[i])]
		v, ok := fc.Get(key)
		if !ok {
			return fmt.Errorf("feature cache entry for %s vanished during training (cache folder %s)", set.Samples[i].Path, fc.Dir)
		}
		if len(v) != per {
			return fmt.Errorf("feature cache entry for %s has %d values, want %d", set.Samples[i].Path, len(v), per)
		}
		copy(x[r*per:(r+1)*per], v)
		targets[r*classes+set.Samples[i].Label] = 1
	}
	clear(x[len(idx)*per:])
	return nil
}

// fillMask draws an inverted-dropout mask: 0 with probability rate, else
// 1/(1−rate).
func fillMask(mask []float32, rate float64, rng *rand.Rand) {
	keep := float32(1 / (1 - rate))
	for i := range mask {
		if rng.Float64() < rate {
			mask[i] = 0
		} else {
			mask[i] = keep
		}
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func countCorrect(logits, targets []float32, rows, classes int) int {
	n := 0
	for r := 0; r < rows; r++ {
		if argmax(logits[r*classes:(r+1)*classes]) == argmax(targets[r*classes:(r+1)*classes]) {
			n++
		}
	}
	return n
}

type evalResult struct {
	loss float64
	conf *report.Confusion
}

// evaluateSet runs the eval graph over a split's cached features.
func evaluateSet(g *nn.Graph, fc *cache.Cache, set *featureSet, names []string, per, batch int, bar *progressbar.ProgressBar) (*evalResult, error) {
	defer bar.Finish()
	classes := len(names)
	conf := report.NewConfusion(names)
	x := make([]float32, batch*per)
	targets := make([]float32, batch*classes)
	var lossSum float64
	n := len(set.Samples)
	for start := 0; start < n; start += batch {
		idx := make([]int, 0, batch)
		for i := start; i < min(start+batch, n); i++ {
			idx = append(idx, i)
		}
		if err := fillBatch(fc, set, idx, 0, per, classes, x, targets); err != nil {
			return nil, err
		}
		loss, err := g.Step(x, targets, nil)
		if err != nil {
			return nil, err
		}
		lossSum += float64(loss) * float64(len(idx))
		logits := g.LogitsValue()
		for r, i := range idx {
			conf.Add(set.Samples[i].Label, argmax(logits[r*classes:(r+1)*classes]))
		}
		bar.Add(len(idx))
	}
	res := &evalResult{conf: conf}
	if n > 0 {
		res.loss = lossSum / float64(n)
	}
	return res, nil
}

func cloneParams(p *nn.Params) [][]float32 {
	out := make([][]float32, len(p.Tensors))
	for i, t := range p.Tensors {
		out[i] = append([]float32(nil), t.Float32s()...)
	}
	return out
}

// snapshotParams copies the live parameters into saved.
func snapshotParams(saved [][]float32, p *nn.Params) {
	for i, t := range p.Tensors {
		copy(saved[i], t.Float32s())
	}
}

// restoreParams copies saved values back into the live parameters.
func restoreParams(p *nn.Params, saved [][]float32) {
	for i, t := range p.Tensors {
		copy(t.Float32s(), saved[i])
	}
}

func saveState(st *checkpoint.State, p *nn.Params, best [][]float32, s *nn.Solver) {
	st.Tensors = map[string][]float32{}
	for i, t := range p.Tensors {
		st.Tensors["param/"+p.Names[i]] = t.Float32s()
		st.Tensors["best/"+p.Names[i]] = best[i]
	}
	for i := range s.Slots {
		st.Tensors[fmt.Sprintf("m/%03d", i)] = s.Slots[i]
		if s.Slots2[i] != nil {
			st.Tensors[fmt.Sprintf("v/%03d", i)] = s.Slots2[i]
		}
	}
	st.SolverKind, st.SolverLR, st.SolverBeta1, st.SolverBeta2, st.SolverEps, st.SolverIter = s.Kind, s.LR, s.Beta1, s.Beta2, s.Eps, s.Iter
}

func restoreState(st *checkpoint.State, p *nn.Params, best [][]float32, s *nn.Solver) error {
	for i, t := range p.Tensors {
		for _, pre := range []string{"param/", "best/"} {
			v, ok := st.Tensors[pre+p.Names[i]]
			if !ok || len(v) != len(t.Float32s()) {
				return fmt.Errorf("tensor %s%s missing or wrong size", pre, p.Names[i])
			}
			if pre == "param/" {
				copy(t.Float32s(), v)
			} else {
				copy(best[i], v)
			}
		}
	}
	if st.SolverKind != s.Kind {
		return fmt.Errorf("optimizer %s in checkpoint, %s now", st.SolverKind, s.Kind)
	}
	s.Iter = st.SolverIter
	if s.Iter > 0 {
		s.Slots = make([][]float32, len(p.Tensors))
		s.Slots2 = make([][]float32, len(p.Tensors))
		for i := range p.Tensors {
			s.Slots[i] = st.Tensors[fmt.Sprintf("m/%03d", i)]
			s.Slots2[i] = st.Tensors[fmt.Sprintf("v/%03d", i)]
			if len(s.Slots[i]) != len(p.Tensors[i].Float32s()) {
				return fmt.Errorf("optimizer state %d missing or wrong size", i)
			}
		}
	}
	return nil
}

// exportModel assembles the model file contents: the frozen layers from
// base, the trained layers and head from params.
func exportModel(c *fitConfig, spec nn.Spec, base *model.ConvBase, p *nn.Params, classes []string) *model.Model {
	m := &model.Model{Base: model.ConvBase{Arch: base.Arch}}
	m.Base.Layers = base.Layers
	i := 0
	for l := spec.Boundary; l < 13; l++ {
		m.Base.Layers[l] = model.ConvParams{Kernel: append([]float32(nil), p.Tensors[i].Float32s()...), Bias: append([]float32(nil), p.Tensors[i+1].Float32s()...)}
		i += 2
	}
	m.Head.Kind = spec.Head
	for ; i < len(p.Tensors); i += 2 {
		sh := p.Shapes[i]
		m.Head.Dense = append(m.Head.Dense, model.DenseParams{In: sh[0], Out: sh[1],
			Kernel: append([]float32(nil), p.Tensors[i].Float32s()...), Bias: append([]float32(nil), p.Tensors[i+1].Float32s()...)})
	}
	src := "from-scratch"
	if c.Weights != "" {
		src = filepath.Base(c.Weights)
	}
	m.Info = model.Info{FormatVersion: model.ModelFormatVersion, Arch: "vgg16", InputSize: c.InputSize, WidthDiv: c.WidthDiv,
		Head: spec.Head, Classes: classes, Preprocess: c.Preprocess,
		Provenance: map[string]string{
			"dataset":   c.Data,
			"date":      time.Now().UTC().Format(time.RFC3339),
			"command":   strings.Join(os.Args, " "),
			"base":      src,
			"fine_tune": strconv.Itoa(c.FineTune),
		}}
	return m
}

// prepared is a dataset with its frozen features in the cache.
type prepared struct {
	ds               *data.Dataset
	base             *model.ConvBase
	from             *model.Model // --weights when it is a vggo model file
	spec             nn.Spec
	cache            *cache.Cache
	src              *featureSource
	train, val, test *featureSet
	skipped          int
}

// prepare loads the dataset and the conv base and fills the feature cache
// for every split; a class left without images (after skipping unreadable
// files) is an error here, before any training.
func prepare(c *fitConfig, stdout, progress, warn io.Writer, stop <-chan struct{}) (*prepared, error) {
	var err error
	// Data.
	ds, err := data.Load(c.Data, data.Options{ValFraction: c.ValFraction, TestFraction: c.TestFraction, Seed: c.Seed,
		Classes: c.Classes, ClassNames: c.ClassNames, TrainPerClass: c.TrainPerClass, TestPerClass: c.TestPerClass})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "dataset %s (%s layout): %d classes, %d train / %d validation / %d test images\n",
		c.Data, ds.Layout, len(ds.Classes), len(ds.Train), len(ds.Val), len(ds.Test))

	// Conv base.
	arch := model.Arch{WidthDiv: c.WidthDiv}
	var base *model.ConvBase
	var from *model.Model // the vggo model file given as --weights, if it is one
	var weightsID string
	if c.FromScratch {
		base = randomBase(arch, c.Seed)
		weightsID = fmt.Sprintf("scratch:seed=%d", c.Seed)
	} else {
		if base, from, err = loadBase(c.Weights, arch); err != nil {
			return nil, err
		}
		if weightsID, err = fileHash(c.Weights); err != nil {
			return nil, err
		}
	}
	hidden, err := nn.DefaultHidden(c.Head, c.WidthDiv)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	spec := nn.Spec{Arch: arch, InputSize: c.InputSize, Boundary: 13 - c.FineTune, Head: c.Head, Hidden: hidden,
		Classes: len(ds.Classes), Dropout: c.Dropout}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}

	// Frozen features, computed once and cached.
	cacheDir := c.CacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(filepath.Dir(filepath.Clean(c.Out)), ".vggo-cache")
	}
	memBudget := c.MemBudget
	if memBudget == 0 {
		memBudget = 2 << 30
	}
	fc, err := cache.Open(cacheDir, memBudget)
	if err != nil {
		return nil, err
	}
	src := &featureSource{cache: fc, boundary: spec.Boundary, size: c.InputSize, mode: c.Preprocess, weightsID: weightsID,
		widthDiv: c.WidthDiv, aug: c.Aug, augSeed: c.Seed, batch: 16}
	if spec.Boundary > 0 {
		if src.net, err = model.NewFeatureNet(base, c.InputSize); err != nil {
			return nil, err
		}
	}
	frozen := "no conv layer frozen"
	if spec.Boundary > 0 {
		frozen = fmt.Sprintf("conv layers 1-%d frozen", spec.Boundary)
	}
	fmt.Fprintf(stdout, "%s (activations cached in %s), %d trainable conv layer(s) + %s head %v\n",
		frozen, cacheDir, 13-spec.Boundary, c.Head, hidden)
	trainSet, err := src.prepare("train", ds.Train, c.AugCopies, c.Aug.Enabled(), progress, warn, stop)
	if err != nil {
		return nil, err
	}
	valSet, err := src.prepare("validation", ds.Val, 1, false, progress, warn, stop)
	if err != nil {
		return nil, err
	}
	testSet, err := src.prepare("test", ds.Test, 1, false, progress, warn, stop)
	if err != nil {
		return nil, err
	}
	skipped := len(trainSet.Skipped) + len(valSet.Skipped) + len(testSet.Skipped)
	kept := &data.Dataset{Classes: ds.Classes, Train: trainSet.Samples, Val: valSet.Samples, Test: testSet.Samples}
	if err := kept.Check(); err != nil {
		return nil, fmt.Errorf("after skipping %d unreadable image(s): %w", skipped, err)
	}
	fmt.Fprintf(stdout, "features: %d computed, %d reused from the cache, %d unreadable image(s) skipped\n",
		src.computed, countKeys(trainSet, valSet, testSet)-src.computed, skipped)

	return &prepared{ds: ds, base: base, from: from, spec: spec, cache: fc, src: src, train: trainSet, val: valSet, test: testSet, skipped: skipped}, nil
}
