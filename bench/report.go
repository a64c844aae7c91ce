package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"vggo/bench/randnet"
)

// report collects everything results.md shows.
type report struct {
	started        time.Time
	elapsed        time.Duration
	opts           *options
	env            map[string]string
	browserEngines []pageInfo
	browser        []row
	native         []nativeRow
	layers         []nativeRow // per conv layer and pass; name is "layer | pass"
	rss            []rssRow
	warmups        []string // "engine config: untimed runs", one per browser engine and configuration
}

// row is one engine on one browser configuration; baseline is vggo's
// series of the same configuration.
type row struct {
	config   string
	engine   pageInfo
	runs     series
	baseline series
}

// nativeRow is one native comparison; unit says how to show it: "ms"
// (median time), "img/s" (batch images per median step) or "s" (wall
// time).
type nativeRow struct {
	name        string
	unit        string
	batch       int
	vggo, torch series
}

// ratio is a's median time over b's: how many times longer a takes.
func ratio(a, b series) float64 {
	if b.medianMS() == 0 {
		return 0
	}
	return a.medianMS() / b.medianMS()
}

func (n nativeRow) show(s series) string {
	switch n.unit {
	case "img/s":
		return fmt.Sprintf("%.1f img/s", float64(n.batch)*1000/s.medianMS())
	case "s":
		return fmt.Sprintf("%.1f s", s.medianMS()/1000)
	}
	return fmt.Sprintf("%.1f ms", s.medianMS())
}

func loadCell(s series) string {
	c := fmt.Sprintf("%.2f (max %.2f)", s.medianLoad(), s.maxLoad())
	if r := s.repeats(); r > 0 {
		c += fmt.Sprintf(", %d repeated", r)
	}
	return c
}

func (r *report) markdown() string {
	var b strings.Builder
	o := r.opts
	fmt.Fprintf(&b, "# vggo against its peers\n\n")
	fmt.Fprintf(&b, "Measured %s UTC by `make bench-peers` (bench/main.go) in %.0f s. ", r.started.Format("2006-01-02 15:04"), r.elapsed.Seconds())
	fmt.Fprintf(&b, "Network: VGG16 conv base + global average pool + Dense %d, random weights. ", randnet.Classes)
	fmt.Fprintf(&b, "Ratios are the peer's median time divided by vggo's (above 1: vggo is faster), from runs interleaved in one session. ")
	fmt.Fprintf(&b, "\"Other load\" is the CPU time, in cores, that processes outside the benchmark used during each timed run (/proc/stat minus this process tree): median and maximum over the runs; a run above %.2f cores was repeated up to %d times (while repeats had taken less than %.0f %% of the time so far), keeping the least loaded attempt.\n\n",
		o.loadLimit, o.retries, 100*o.repeatShare)
	if busy := r.medianOtherLoad(); busy > o.loadLimit {
		fmt.Fprintf(&b, "**Noisy session:** other processes kept a median %.2f cores busy during the timed runs. With fewer idle cores than threads, the multi-thread rows measure contention rather than scaling, and absolute times are inflated; the ratios of single-thread rows hold best. Rerun on an idle machine for the README.\n\n", busy)
	}
	fmt.Fprintf(&b, "| | |\n| --- | --- |\n")
	keys := make([]string, 0, len(r.env))
	for k := range r.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s | %s |\n", k, r.env[k])
	}
	if len(r.browser) > 0 {
		fmt.Fprintf(&b, "\n## Browser (headless Chromium, one session, wasm)\n\n")
		fmt.Fprintf(&b, "Median of %d timed runs after %d warm-up run(s) and then %v more of them per engine and input (Chromium optimizes hot wasm functions only after they have run a while; the warm-up counts are at the end of this file); forward pass only, inputs and weights prepared outside the timing, output read back inside it. vggo's first row runs on the page's one thread (Go's wasm port has no threads); its worker rows split each forward pass over N Web Workers, each its own Go wasm instance (threads = workers), timed by the leading worker.\n\n", o.runs, o.warmup, o.warmupTime)
		fmt.Fprintf(&b, "\"Cores used\" is the CPU time of the browser (all its processes) per second of the run: an engine with 2 threads should show close to 2 when two cores are idle for it.\n\n")
		fmt.Fprintf(&b, "| input | engine | threads | median ms | time ÷ vggo | cores used | other load, cores |\n| --- | --- | --- | ---: | ---: | ---: | --- |\n")
		for _, x := range r.browser {
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f | %.2f | %.2f | %s |\n", x.config, x.engine.Version, x.engine.Threads, x.runs.medianMS(), ratio(x.runs, x.baseline), x.runs.medianOwnLoad(), loadCell(x.runs))
		}
	}
	if len(r.native) > 0 {
		fmt.Fprintf(&b, "\n## Native (CPU)\n\n")
		fmt.Fprintf(&b, "vggo and PyTorch alternate run by run. Forward: median of %d runs after %d warm-up; training step: median of %d steps after 1 warm-up (forward, backward, Adam; the trainer's gorgonia graph in train/nn); fine-tuning: wall time of %d run(s) each, vggo computing the frozen conv layers 1-12 once into the trainer's feature cache (train/cache) and training on cached features, PyTorch recomputing them every epoch; fine-tuning with augmentation: wall time of %d run(s) each, both engines drawing a new rotation and flip of every image every epoch and running the frozen layers on it (vggo as `train fit -fine-tune 1 -rotation 20 -flip -aug-copies EPOCHS`: train/augment, then the feature cache; PyTorch: torchvision's RandomRotation and RandomHorizontalFlip), so no cache serves a second epoch.\n\n",
			o.runs, o.warmup, o.trainRuns, o.ftRuns, o.augRuns)
		fmt.Fprintf(&b, "| measurement | vggo | PyTorch | PyTorch time ÷ vggo | other load, cores (vggo / PyTorch) |\n| --- | ---: | ---: | ---: | --- |\n")
		for _, n := range r.native {
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s / %s |\n", n.name, n.show(n.vggo), n.show(n.torch), ratio(n.torch, n.vggo), loadCell(n.vggo), loadCell(n.torch))
		}
	}
	if len(r.rss) > 0 {
		fmt.Fprintf(&b, "\n## Native (CPU), peak memory\n\n")
		fmt.Fprintf(&b, "Each engine trains in a process of its own on the same generated PNGs (10 classes); the figure is the process's peak resident set size as GNU time reports it (%%M: ru_maxrss of a child that GNU time forks, so the bench process's own size does not leak into it through exec). vggo: the `train fit` command itself (-from-scratch -fine-tune 13 -ood-per-class 0: data loading, validation split, training, export); PyTorch: bench/torch_bench.py --fit-rss (PIL decoding, the same network and head, Adam).\n\n")
		fmt.Fprintf(&b, "| measurement | vggo | PyTorch | PyTorch ÷ vggo |\n| --- | ---: | ---: | ---: |\n")
		for _, x := range r.rss {
			fmt.Fprintf(&b, "| %s | %.0f MiB | %.0f MiB | %.2f |\n", x.name, float64(x.vggo)/(1<<20), float64(x.torch)/(1<<20), float64(x.torch)/float64(max(x.vggo, 1)))
		}
	}
	if len(r.layers) > 0 {
		fmt.Fprintf(&b, "\n## Native (CPU), per conv layer and training pass\n\n")
		fmt.Fprintf(&b, "Each distinct conv layer shape of VGG16 at %dx%d input, batch %d, full width; median of %d runs after 1 warm-up, vggo and PyTorch alternating. vggo: kernels.Conv3x3Layer as the trainer runs it, the weights changed before each forward and input-gradient run, so those pay their weight transforms; PyTorch: conv2d + bias + ReLU forward, aten::convolution_backward for each gradient (NCHW, as its train step runs).\n\n",
			o.layerSize, o.layerSize, o.layerBatch, o.layerRuns)
		fmt.Fprintf(&b, "| layers: input, channels | pass | vggo | PyTorch | PyTorch time ÷ vggo | other load, cores (vggo / PyTorch) |\n| --- | --- | ---: | ---: | ---: | --- |\n")
		var vs, ts float64
		for _, n := range r.layers {
			fmt.Fprintf(&b, "| %s | %s | %s | %.2f | %s / %s |\n", n.name, n.show(n.vggo), n.show(n.torch), ratio(n.torch, n.vggo), loadCell(n.vggo), loadCell(n.torch))
			vs += n.vggo.medianMS()
			ts += n.torch.medianMS()
		}
		if vs > 0 {
			fmt.Fprintf(&b, "| distinct shapes, all passes (each shape once) | | %.1f ms | %.1f ms | %.2f | |\n", vs, ts, ts/vs)
		}
	}
	if len(r.warmups) > 0 {
		fmt.Fprintf(&b, "\n## Browser warm-up runs\n\nUntimed runs each engine made before the timed ones (%d, then more for %v):\n\n", o.warmup, o.warmupTime)
		for _, w := range r.warmups {
			fmt.Fprintf(&b, "- %s\n", w)
		}
	}
	return b.String()
}

// medianOtherLoad is the median other-process load over every kept run
// of the session.
func (r *report) medianOtherLoad() float64 {
	var all series
	for _, x := range r.browser {
		all = append(all, x.runs...)
	}
	for _, n := range r.native {
		all = append(all, n.vggo...)
		all = append(all, n.torch...)
	}
	return all.medianLoad()
}

// environment describes the machine and the toolchain for the report.
func environment() map[string]string {
	env := map[string]string{
		"CPU":                        cpuModel(),
		"Cores":                      fmt.Sprint(runtime.NumCPU()),
		"Go":                         runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
		"Load (1/5/15 min) at start": loadAverage(),
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		env["vggo commit"] = strings.TrimSpace(string(out))
	}
	if exp := os.Getenv("GOEXPERIMENT"); exp != "" {
		env["Go"] += ", GOEXPERIMENT=" + exp
	}
	return env
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var model string
	var flags []string
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name":
			if model == "" {
				model = strings.TrimSpace(v)
			}
		case "flags":
			if flags == nil {
				for _, fl := range strings.Fields(v) {
					if fl == "avx2" || fl == "avx512f" || fl == "fma" {
						flags = append(flags, fl)
					}
				}
			}
		}
	}
	if len(flags) > 0 {
		model += " (" + strings.Join(flags, ", ") + ")"
	}
	return model
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func randInput(n int) []float32 { return randnet.Input(n, 4) }
