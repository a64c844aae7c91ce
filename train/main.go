// Command train fine-tunes VGG16 on a folder of labelled images and exports
// a vggo model file, the way the Keras tutorial "Classification using
// Transfer Learning (VGG16)" does, natively in Go.
//
// Subcommands:
//
//	train fit         train a model (feature extraction, fine-tuning or from scratch)
//	train extract     export cached frozen-base features as a safetensors dataset
//	train classify    top-k classes of images with a model file
//	train evaluate    accuracy and confusion matrix of a model file on a labelled folder
//	train ood         add out-of-distribution statistics to an existing model file
//	train convert-idx turn IDX files (MNIST, Fashion-MNIST) into class folders of PNGs
//	train convert-digits turn scikit-learn's digits CSV into train/test class folders of PNGs
//	train experiment  the cross-dataset transfer experiment (train/EXPERIMENT.md)
//
// Run "train <subcommand> -h" for its flags.
//
// # Freezing and --fine-tune
//
// --fine-tune N trains the last N of VGG16's 13 conv layers and freezes the
// rest; 0 is feature extraction (the whole base frozen), 13 trains
// everything. The Keras tutorial counts layers of the Keras model instead,
// pooling layers included: its fine_tune=2 unfreezes conv_base.layers[-2:],
// which are block5_conv3 and block5_pool; pooling has no weights, so that
// is one conv layer, --fine-tune 1 here. In general the tutorial's
// fine_tune=k unfreezes the conv layers among the last k Keras layers.
//
// The frozen prefix runs once per image: its output at the freeze boundary
// (after conv layer 13−N, pooled when a block ends there) is cached on disk
// as float16, keyed by the weights' hash, the image bytes' hash, the
// preprocessing, the boundary and the augmentation draw, and reused by
// every epoch and every later run. With augmentation on, --aug-copies K
// augmented versions of each training image are cached and epoch e uses
// copy (e−1) mod K.
//
// # Run folder
//
// fit writes checkpoint.ckpt after every epoch (atomically: temp file,
// fsync, rename), so --resume after a crash or SIGKILL loses at most the
// current epoch; SIGINT finishes the batch, saves and exits with status
// 130. The checkpoint is a safetensors file: the parameters, the best
// epoch's parameters and the optimizer moments as tensors, the run state
// and a SHA-256 of both in the metadata, so a damaged one is refused. At the end it writes history.json, curves.png, confusion.png,
// metrics.txt and model.safetensors (the vggo model file, int8 by default),
// whose test accuracy is printed next to the float32 graph's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: train <subcommand> [flags]

subcommands:
  fit          train a model and write a run folder (history, plots, model file)
  extract      export frozen-base features as a safetensors dataset (-o FILE, then fit's flags)
  classify     print the top-k classes of images with a model file
  evaluate     accuracy, per-class scores and confusion matrix of a model file
  ood          add out-of-distribution statistics to a model file (weights unchanged)
  convert-idx  convert IDX files (Fashion-MNIST) to class folders of PNGs
  convert-digits  convert scikit-learn's 8x8 digits CSV to train/test class folders of PNGs
  experiment   the cross-dataset transfer experiment of train/EXPERIMENT.md (learning curves, mean ± sd)
`

// run dispatches a subcommand and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "fit":
		err = interruptible(stderr, func(ctx context.Context) error { return cmdFit(ctx, args[1:], stdout, stderr) })
		if errors.Is(err, errInterrupted) || errors.Is(err, errCachingInterrupted) {
			fmt.Fprintln(stderr, err)
			return 130
		}
	case "extract":
		err = cmdExtract(args[1:], stdout, stderr)
	case "classify":
		err = cmdClassify(args[1:], stdout, stderr)
	case "evaluate":
		err = cmdEvaluate(args[1:], stdout, stderr)
	case "ood":
		err = cmdOOD(args[1:], stdout, stderr)
	case "convert-idx":
		err = cmdConvertIDX(args[1:], stdout, stderr)
	case "convert-digits":
		err = cmdConvertDigits(args[1:], stdout, stderr)
	case "experiment":
		err = cmdExperiment(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "train: unknown subcommand %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, errHelp) {
			return 0
		}
		if errors.Is(err, errUsage) {
			return 2
		}
		fmt.Fprintln(stderr, "train:", err)
		return 1
	}
	return 0
}

// interruptible runs f with a context that the first SIGINT or SIGTERM
// cancels, so that a run can save its state and stop; a second signal
// kills the process the default way.
func interruptible(stderr io.Writer, f func(ctx context.Context) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	announce := context.AfterFunc(ctx, func() {
		stop()
		fmt.Fprintln(stderr, "\ninterrupt: finishing the current batch, saving a checkpoint (interrupt again to quit at once)")
	})
	defer announce() // runs first, so the stop above announces nothing
	return f(ctx)
}

// errUsage marks a flag parsing failure already reported by the flag set;
// errHelp a -h request, answered with the flag list.
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

// parseFlags parses args into fs, mapping failures to errUsage or errHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return errUsage
	}
	return nil
}
