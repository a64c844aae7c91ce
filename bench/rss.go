package main

import (
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// rssImages writes perClass random size×size PNGs for each of classes
// classes into dir/<class>/, the layout `train fit -data` reads and
// bench/torch_bench.py's fit_rss mode reads the same way.
func rssImages(dir string, classes, perClass, size int) error {
	rng := rand.New(rand.NewPCG(13, 13))
	for c := 0; c < classes; c++ {
		cd := filepath.Join(dir, fmt.Sprintf("class%02d", c))
		if err := os.MkdirAll(cd, 0o755); err != nil {
			return err
		}
		for i := 0; i < perClass; i++ {
			img := image.NewNRGBA(image.Rect(0, 0, size, size))
			for p := range img.Pix {
				img.Pix[p] = byte(rng.IntN(256))
				if p%4 == 3 {
					img.Pix[p] = 255
				}
			}
			name := filepath.Join(cd, fmt.Sprintf("%03d.png", i))
			f, err := os.Create(name)
			if err != nil {
				return err
			}
			if err := png.Encode(f, img); err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			if err := f.Close(); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

// peakRSS runs cmd to completion and returns its peak resident set size
// in bytes, the same measure for every engine: GNU time's %M (the child's
// ru_maxrss from wait4, in KiB). Not cmd's own rusage: Linux carries the
// high-water mark of the address space a process execs from into its
// ru_maxrss, and os/exec's child execs from this process's address space
// (a bench process that holds gigabytes of benchmark buffers), so every
// engine would report at least this process's size. GNU time forks the
// child from its own small process.
func peakRSS(cmd *exec.Cmd) (int64, error) {
	f, err := os.CreateTemp("", "vggo-rss-")
	if err != nil {
		return 0, err
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	timed := exec.Command("/usr/bin/time", append([]string{"-f", "%M", "-o", name, cmd.Path}, cmd.Args[1:]...)...)
	timed.Dir, timed.Env, timed.Stderr = cmd.Dir, cmd.Env, os.Stderr
	if out, err := timed.Output(); err != nil {
		return 0, fmt.Errorf("%s: %w (output: %.500s)", cmd, err, out)
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return 0, fmt.Errorf("%s: reading GNU time's report: %w", cmd, err)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: GNU time's report %q: %w", cmd, b, err)
	}
	return kib * 1024, nil
}

// rssRow is the peak memory of one training run per engine.
type rssRow struct {
	name        string
	vggo, torch int64 // bytes
}

// measureFitRSS trains one epoch at size×size, batch, full width, all 13
// conv layers trainable from scratch, on the same generated images with
// `train fit` (built into a temporary folder) and with PyTorch
// (torch_bench.py --fit-rss), each in its own process, and returns both
// peak RSS figures.
func measureFitRSS(o *options) (rssRow, error) {
	const classes = 10
	row := rssRow{name: fmt.Sprintf("peak RSS, train fit from scratch, all layers, %dx%d, batch %d, %d images x 1 epoch, full width",
		o.rssSize, o.rssSize, o.rssBatch, classes*o.rssPerClass)}
	dir, err := os.MkdirTemp("", "vggo-bench-rss-")
	if err != nil {
		return row, err
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "images")
	if err := rssImages(data, classes, o.rssPerClass, o.rssSize); err != nil {
		return row, err
	}
	bin := filepath.Join(dir, "train")
	if out, err := exec.Command("go", "build", "-o", bin, "./train").CombinedOutput(); err != nil {
		return row, fmt.Errorf("go build ./train: %w\n%s", err, out)
	}
	row.vggo, err = peakRSS(exec.Command(bin, "fit", "-data", data, "-from-scratch", "-fine-tune", "13",
		"-input-size", fmt.Sprint(o.rssSize), "-batch", fmt.Sprint(o.rssBatch), "-epochs", "1", "-width-div", "1",
		"-ood-per-class", "0", "-quiet", "-threads", fmt.Sprint(o.torchThreads), "-out", filepath.Join(dir, "run"),
		"-cache", filepath.Join(dir, "cache")))
	if err != nil {
		return row, err
	}
	row.torch, err = peakRSS(exec.Command(o.python, filepath.Join(o.benchDir, "torch_bench.py"), "--threads", fmt.Sprint(o.torchThreads),
		"--fit-rss", data, "--size", fmt.Sprint(o.rssSize), "--batch", fmt.Sprint(o.rssBatch)))
	return row, err
}
