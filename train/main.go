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
//	train convert-idx turn IDX files (MNIST, Fashion-MNIST) into class folders of PNGs
//
// Run "train <subcommand> -h" for its flags.
package main

import (
	"errors"
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
  extract      export frozen-base features of a dataset as a safetensors file
  classify     print the top-k classes of images with a model file
  evaluate     accuracy, per-class scores and confusion matrix of a model file
  convert-idx  convert IDX files (Fashion-MNIST) to class folders of PNGs
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
		stop := make(chan struct{})
		sig := make(chan os.Signal, 2)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-sig
			fmt.Fprintln(stderr, "\ninterrupt: finishing the current batch, saving a checkpoint (interrupt again to quit at once)")
			close(stop)
			<-sig
			os.Exit(130)
		}()
		err = cmdFit(args[1:], stdout, stderr, stop)
		signal.Stop(sig)
		if errors.Is(err, errInterrupted) {
			fmt.Fprintln(stderr, err)
			return 130
		}
	case "extract":
		err = cmdExtract(args[1:], stdout, stderr)
	case "classify":
		err = cmdClassify(args[1:], stdout, stderr)
	case "evaluate":
		err = cmdEvaluate(args[1:], stdout, stderr)
	case "convert-idx":
		err = cmdConvertIDX(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "train: unknown subcommand %q\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, errUsage) {
			return 2
		}
		fmt.Fprintln(stderr, "train:", err)
		return 1
	}
	return 0
}

// errUsage marks a flag parsing failure already reported by the flag set.
var errUsage = errors.New("usage")
