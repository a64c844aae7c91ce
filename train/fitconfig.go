package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"vggo/model"
	"vggo/train/augment"
)

// fitConfig is every setting of a fit run. The fields that change what is
// learnt make up the fingerprint a resume must match.
type fitConfig struct {
	Data           string         `json:"data"`
	ValFraction    float64        `json:"val_fraction"`
	TestFraction   float64        `json:"test_fraction"`
	Seed           uint64         `json:"seed"`
	SplitSeed      uint64         `json:"split_seed,omitempty"` // 0: Seed (omitted, so older checkpoints still match)
	Classes        int            `json:"classes"`
	ClassNames     []string       `json:"class_names"`
	TrainPerClass  int            `json:"train_per_class"`
	TestPerClass   int            `json:"test_per_class"`
	Weights        string         `json:"weights"`
	FromScratch    bool           `json:"from_scratch"`
	Head           string         `json:"head"`
	InputSize      int            `json:"input_size"`
	WidthDiv       int            `json:"width_div"`
	BaseLayers     int            `json:"base_layers,omitempty"` // 0: all 13 (omitted, so older checkpoints still match)
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
	LabelSmoothing float64        `json:"label_smoothing,omitempty"` // 0 omitted, so older checkpoints still match

	// Not part of the fingerprint.
	Epochs    int         `json:"-"`
	Patience  int         `json:"-"`
	Out       string      `json:"-"`
	CacheDir  string      `json:"-"`
	Export    string      `json:"-"`
	Snapshots bool        `json:"-"` // every epoch's weights as OUT/epoch-N.safetensors
	FlipAvg   bool        `json:"-"` // the exported model averages each image with its mirror (model.Info.FlipAverage)
	Resume    bool        `json:"-"`
	Threads   int         `json:"-"`
	Quiet     bool        `json:"-"` // no progress bars (tests)
	MemBudget int64       `json:"-"`
	OOD       oodSettings `json:"-"` // PerClass 0: no OOD statistics
	Device    string      `json:"-"` // auto, cpu or cuda; checkpoints move freely between them

	// scoreOnly is set by `train experiment` alone: no checkpoint after each
	// epoch and no model file, only the history and the float32 graph's
	// test score (a full-width checkpoint is 235 MB per epoch).
	scoreOnly bool

	// preprocessFrom says where Preprocess came from (the flag or which
	// default), for the run's log.
	preprocessFrom string

	// Description is the model file's one line for its users (what
	// pictures it knows). Not in the fingerprint either: it changes no
	// weight, so a resumed run may add it.
	Description string `json:"-"`
}

// arch is the VGG16 variant the run trains.
func (c *fitConfig) arch() model.Arch {
	return model.Arch{WidthDiv: c.WidthDiv, Layers: c.BaseLayers}
}

// splitSeed seeds the validation and test splits.
func (c *fitConfig) splitSeed() uint64 {
	if c.SplitSeed != 0 {
		return c.SplitSeed
	}
	return c.Seed
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
	fs.Uint64Var(&c.Seed, "seed", 1, "seed for splits (unless -split-seed), shuffling, initialisation, dropout and augmentation")
	fs.Uint64Var(&c.SplitSeed, "split-seed", 0, "seed for the validation and test splits alone (0: -seed). A run that continues an earlier one's model (-weights) keeps that run's split with its -seed here and draws fresh shuffles, dropout and augmentation with a new -seed; a new -seed alone would move the earlier run's training images into validation")
	fs.IntVar(&c.Classes, "classes", 0, "use only the first N classes in sorted order (0: all)")
	classNames := fs.String("class-names", "", "comma-separated class names to use (default: all)")
	fs.IntVar(&c.TrainPerClass, "train-per-class", 0, "at most N training images per class (0: all)")
	fs.IntVar(&c.TestPerClass, "test-per-class", 0, "at most N test images per class (0: all)")
	fs.StringVar(&c.Weights, "weights", "", "pretrained conv base: Keras .h5, torchvision .pth, .safetensors, or a vggo model file from an earlier run")
	fs.BoolVar(&c.FromScratch, "from-scratch", false, "random (He) initialisation instead of --weights")
	fs.StringVar(&c.Head, "head", model.HeadGAP, "classifier head: seed (Flatten→4096→1072→n, the tutorial's), gap (GAP→256→n) or linear (GAP→n)")
	fs.IntVar(&c.InputSize, "input-size", 224, "square input side in pixels (multiple of 32)")
	fs.IntVar(&c.WidthDiv, "width-div", 1, "divide every channel count by this (1: real VGG16; must match the weights)")
	fs.IntVar(&c.BaseLayers, "base-layers", 0, fmt.Sprintf("use only the first K of the %d conv layers, then GAP and the head: an earlier, more general cut for a target unlike the base's data (0: all)", model.ConvLayers))
	fs.IntVar(&c.FineTune, "fine-tune", 0, fmt.Sprintf("number of trailing conv layers that train (0: feature extraction, %d: everything). ", model.ConvLayers)+
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
	fs.Float64Var(&c.Aug.Erase, "erase", 0, "augmentation: random erasing probability (Zhong et al.: a rectangle of 2-40% of the area, aspect 0.3-3.3, filled with grey; the paper uses 0.5)")
	fs.Float64Var(&c.LabelSmoothing, "label-smoothing", 0, "training targets (1-eps)·one-hot + eps/classes, as PyTorch's CrossEntropyLoss(label_smoothing=eps); validation and test losses stay plain")
	fs.IntVar(&c.AugCopies, "aug-copies", 4, "augmented copies cached per training image (used when augmentation is on)")
	fs.StringVar(&c.Out, "out", "run", "run folder (history, plots, checkpoint, model file)")
	fs.StringVar(&c.CacheDir, "cache", "", "feature cache folder (default: OUT/../.vggo-cache)")
	fs.StringVar(&c.Export, "export", "int8", "exported model weights: int8, float16 or float32")
	fs.BoolVar(&c.FlipAvg, "flip-average", false, "the exported model classifies every picture as it is and mirrored and averages the two (test-time augmentation: twice the work per picture; for data where a mirror image is the same class, as -flip assumes)")
	fs.BoolVar(&c.Snapshots, "snapshots", false, "also write every epoch's weights (in --export's format, without OOD statistics) as OUT/epoch-N.safetensors, e.g. to average the last epochs (defaultmodel average)")
	fs.StringVar(&c.Description, "description", "", "one line stored in the model file for its users: what pictures it was trained on (e.g. \"28x28 grey garments, light on a dark background\")")
	fs.BoolVar(&c.Resume, "resume", false, "continue from OUT/checkpoint.ckpt")
	fs.IntVar(&c.Threads, "threads", 0, "kernel threads (0: all cores)")
	fs.BoolVar(&c.Quiet, "quiet", false, "no progress bars")
	fs.IntVar(&c.OOD.PerClass, "ood-per-class", defaultOODPerClass, "training images per class for the out-of-distribution statistics stored in the model file (0: none)")
	fs.Float64Var(&c.OOD.Quantile, "ood-quantile", defaultOODQuantile, "validation quantile the out-of-distribution threshold is set at")
	fs.StringVar(&c.Device, "device", deviceAuto, "auto (an NVIDIA GPU when usable, else the CPU), cpu or cuda (fail without a usable GPU); set VGGO_CUDA_PATH to the folder(s) of libcuda, cuBLAS and cuDNN if they are not found")
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
	case c.BaseLayers < 0 || c.BaseLayers > model.ConvLayers:
		return fmt.Errorf("fit: --base-layers %d: want 1..%d (0: all %d conv layers)", c.BaseLayers, model.ConvLayers, model.ConvLayers)
	case c.FineTune < 0 || c.FineTune > c.arch().Depth():
		return fmt.Errorf("fit: --fine-tune %d: want 0..%d (the base uses %d conv layers)", c.FineTune, c.arch().Depth(), c.arch().Depth())
	case c.Batch < 1 || c.Epochs < 1:
		return fmt.Errorf("fit: --batch and --epochs must be ≥ 1")
	case !(c.LabelSmoothing >= 0 && c.LabelSmoothing < 1):
		return fmt.Errorf("fit: --label-smoothing %g: want 0 ≤ eps < 1", c.LabelSmoothing)
	case c.AugCopies < 1:
		return fmt.Errorf("fit: --aug-copies must be ≥ 1")
	case c.Export != "int8" && c.Export != "float16" && c.Export != "float32":
		return fmt.Errorf("fit: --export %q: want int8, float16 or float32", c.Export)
	case c.LRSchedule != "constant" && c.LRSchedule != "cosine" && c.LRSchedule != "":
		return fmt.Errorf("fit: --lr-schedule %q: want constant or cosine", c.LRSchedule)
	case c.OOD.PerClass < 0 || (c.OOD.PerClass > 0 && !(c.OOD.Quantile > 0 && c.OOD.Quantile <= 1)):
		return fmt.Errorf("fit: --ood-per-class %d, --ood-quantile %g: want ≥ 0 and in (0, 1]", c.OOD.PerClass, c.OOD.Quantile)
	case strings.ContainsAny(c.Description, "\r\n"):
		return fmt.Errorf("fit: --description %q: want one line (the app shows it as one)", c.Description)
	case c.Device != deviceAuto && c.Device != deviceCPU && c.Device != deviceCUDA && c.Device != "":
		return fmt.Errorf("fit: --device %q: want auto, cpu or cuda", c.Device)
	}
	if c.BaseLayers == model.ConvLayers {
		c.BaseLayers = 0 // the whole base, as without the flag
	}
	if c.SplitSeed == c.Seed {
		c.SplitSeed = 0 // the same splits as without the flag
	}
	// A constant rate is stored as "" so that checkpoints written before
	// schedules existed still match on --resume.
	if c.LRSchedule == "constant" {
		c.LRSchedule = ""
	}
	if c.LRSchedule == "cosine" {
		c.ScheduleEpochs = c.Epochs
	}
	c.preprocessFrom = "set by -preprocess"
	if info, err := model.ReadInfo(c.Weights); c.Preprocess == "" && c.Weights != "" && err == nil {
		c.Preprocess = info.Preprocess // a vggo model file as the base: keep its preprocessing
		c.preprocessFrom = "the default for a vggo model file: its own; -preprocess to change"
	}
	if c.Preprocess == "" {
		c.Preprocess = model.PreprocessCaffe
		c.preprocessFrom = "the default for Keras .h5 weights; -preprocess to change"
		if ext := strings.ToLower(filepath.Ext(c.Weights)); ext == ".pth" || ext == ".safetensors" {
			c.Preprocess = model.PreprocessTorch
			c.preprocessFrom = "the default for torchvision " + ext + " weights; -preprocess to change"
		} else if c.FromScratch {
			c.Preprocess = model.PreprocessTorch
			c.preprocessFrom = "the default for -from-scratch (inputs of unit scale); -preprocess to change"
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

// cmdFit runs `train fit`; cancelling ctx (the first SIGINT) makes the run
// save a checkpoint and stop with errInterrupted.
func cmdFit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFitFlags("fit", args, stderr)
	if err != nil {
		return err
	}
	_, err = fit(ctx, c, stdout, stderr)
	return err
}
