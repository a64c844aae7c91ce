// Command bench measures vggo against its peers, side by side in one
// session, and writes the results as a markdown table (bench/results.md by
// default) with versions, thread counts, the CPU and the load of other
// processes next to every number. `make bench-peers` runs it through
// scripts/bench-peers.sh, which first installs the npm packages from the
// committed lockfile, builds bench/vggowasm and writes the ONNX file.
//
// Browser: in one headless Chromium, one tab per engine and thread count:
// vggo's wasm forward pass (bench/vggowasm), TensorFlow.js with
// @tensorflow/tfjs-backend-wasm and ONNX Runtime Web's wasm EP, all on
// VGG16 + GAP + Dense 10 with random weights. The page is served from
// 127.0.0.1 with COOP/COEP headers, so it is cross-origin isolated and the
// peers can use wasm threads. Runs are interleaved: each round runs every
// engine once, in an order rotated per round.
//
// Native: vggo's forward pass and the trainer's graph (train/nn) against
// PyTorch on the CPU (bench/torch_bench.py as a child process), again
// interleaved, with the same thread count for both.
//
// Every timed run records the CPU time other processes used meanwhile
// (/proc/stat minus this process tree); a run under more than -load-limit
// cores of other load is repeated (up to -retries times), keeping the least
// loaded attempt. Results are ratios to vggo, which is what stays
// meaningful on a shared machine.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"vggo/internal/headless"
)

type options struct {
	benchDir, out, chromium, python, wasmExec string
	runs, warmup, retries                     int
	warmupTime                                time.Duration
	loadLimit                                 float64
	repeatShare                               float64
	browser, native                           bool
	peerThreads                               []int
	staticDir                                 string   // the app's web/static, with the built worker wasm
	vggoWorkers                               []int    // worker pool sizes to run vggo's workers at
	vggoBuilds                                []string // worker builds: simd128, relaxed
	peers                                     []string
	torchThreads                              int
	trainRuns, trainBatch, trainWidthDiv      int
	ftImages, ftEpochs, ftBatch, ftWidthDiv   int
	ftSize, ftRuns                            int
	trainLargeSize, trainLargeBatch           int
	augSize, augImages, augEpochs, augBatch   int
	augWidthDiv, augRuns                      int
	layers                                    bool
	layerSize, layerBatch, layerRuns          int
	rssSize, rssBatch, rssPerClass            int
}

func main() {
	var o options
	flag.StringVar(&o.benchDir, "dir", "bench", "the bench folder (page/, build/, node_modules/, torch_bench.py)")
	flag.StringVar(&o.out, "out", "bench/results.md", "markdown file to write")
	flag.StringVar(&o.chromium, "chromium", headless.DefaultPath, "Chromium binary")
	flag.StringVar(&o.python, "python", "/usr/bin/python3", "Python with torch (Debian's python3-torch)")
	flag.StringVar(&o.wasmExec, "wasm-exec", "", "Go's wasm_exec.js (default: $(go env GOROOT)/lib/wasm/wasm_exec.js)")
	flag.IntVar(&o.runs, "runs", 10, "timed runs per engine and configuration")
	flag.IntVar(&o.warmup, "warmup", 1, "untimed runs per engine and configuration first")
	flag.DurationVar(&o.warmupTime, "warmup-time", 500*time.Millisecond, "least time each browser engine spends on untimed runs per configuration after its -warmup runs: Chromium compiles a page's hot wasm functions with its optimizing tier once they have run enough, so a 15 ms pass needs dozens of runs to reach its steady speed")
	flag.IntVar(&o.retries, "retries", 2, "extra attempts for a run under load")
	flag.Float64Var(&o.loadLimit, "load-limit", 0.5, "other processes' load (cores) above which a run is repeated")
	flag.Float64Var(&o.repeatShare, "repeat-share", 0.25, "repeats may take at most this fraction of the time so far")
	flag.BoolVar(&o.browser, "browser", true, "run the browser comparison")
	flag.BoolVar(&o.native, "native", true, "run the native comparison")
	threads := flag.String("peer-threads", "1,2", "wasm thread counts for the peers in the browser")
	engines := flag.String("peers", "tfjs,ort", "browser peers to run next to vggo: tfjs, ort")
	flag.StringVar(&o.staticDir, "static", "web/static", "the app's static folder with worker.js and the built worker wasm (scripts/build-wasm.sh)")
	workers := flag.String("vggo-workers", "1,2,4", "inference worker pool sizes for vggo's worker rows (empty: none)")
	builds := flag.String("vggo-builds", "simd128,relaxed", "worker builds for vggo's worker rows")
	flag.IntVar(&o.torchThreads, "torch-threads", 2, "PyTorch threads (vggo's kernels get as many goroutines)")
	flag.IntVar(&o.trainRuns, "train-runs", 3, "timed training steps per engine (all layers trainable, 32x32)")
	flag.IntVar(&o.trainBatch, "train-batch", 64, "batch of the all-layers training step")
	flag.IntVar(&o.trainWidthDiv, "train-width-div", 1, "width divisor of the all-layers training network")
	flag.IntVar(&o.ftSize, "ft-size", 224, "fine-tuning input size")
	flag.IntVar(&o.ftImages, "ft-images", 320, "fine-tuning images")
	flag.IntVar(&o.ftEpochs, "ft-epochs", 10, "fine-tuning epochs")
	flag.IntVar(&o.ftBatch, "ft-batch", 32, "fine-tuning batch")
	flag.IntVar(&o.ftWidthDiv, "ft-width-div", 8, "width divisor of the fine-tuning network (8, as train/nn's BenchmarkTrainStep, keeps PyTorch's 10 passes over the frozen base within minutes; 1: real VGG16, which takes PyTorch about an hour on 2 cores)")
	flag.IntVar(&o.ftRuns, "ft-runs", 1, "fine-tuning runs per engine")
	flag.IntVar(&o.trainLargeSize, "train-large-size", 224, "input size of the second all-layers training step (0: skip it)")
	flag.IntVar(&o.trainLargeBatch, "train-large-batch", 8, "batch of the second all-layers training step")
	flag.IntVar(&o.augSize, "aug-size", 224, "augmented fine-tuning (-fine-tune 1 -rotation 20 -flip) input size (0: skip the row)")
	flag.IntVar(&o.augImages, "aug-images", 320, "augmented fine-tuning images")
	flag.IntVar(&o.augEpochs, "aug-epochs", 3, "augmented fine-tuning epochs (each a new random draw of every image)")
	flag.IntVar(&o.augBatch, "aug-batch", 32, "augmented fine-tuning batch")
	flag.IntVar(&o.augWidthDiv, "aug-width-div", 1, "width divisor of the augmented fine-tuning network")
	flag.IntVar(&o.augRuns, "aug-runs", 1, "augmented fine-tuning runs per engine")
	flag.BoolVar(&o.layers, "layers", true, "time each conv layer's three training passes against PyTorch's (full width)")
	flag.IntVar(&o.layerSize, "layer-size", 32, "input size of the per-layer passes (at least 16: block 5 runs at size/16)")
	flag.IntVar(&o.layerBatch, "layer-batch", 64, "batch of the per-layer passes")
	flag.IntVar(&o.layerRuns, "layer-runs", 5, "timed runs per engine of each layer pass")
	flag.IntVar(&o.rssSize, "rss-size", 32, "input size of the peak-RSS training runs (0: skip them)")
	flag.IntVar(&o.rssBatch, "rss-batch", 64, "batch of the peak-RSS training runs")
	flag.IntVar(&o.rssPerClass, "rss-per-class", 64, "generated images per class (10 classes) of the peak-RSS training runs")
	flag.Parse()
	for _, f := range strings.Split(*threads, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil || n < 1 {
			fatalf("-peer-threads %q: want a comma-separated list of positive counts", *threads)
		}
		o.peerThreads = append(o.peerThreads, n)
	}
	for _, f := range strings.Split(*workers, ",") {
		var n int
		if strings.TrimSpace(f) == "" {
			continue
		}
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil || n < 1 {
			fatalf("-vggo-workers %q: want a comma-separated list of positive counts", *workers)
		}
		o.vggoWorkers = append(o.vggoWorkers, n)
	}
	for _, b := range strings.Split(*builds, ",") {
		if b = strings.TrimSpace(b); b != "simd128" && b != "relaxed" {
			fatalf("-vggo-builds %q: want a comma-separated list of simd128, relaxed", *builds)
		}
		o.vggoBuilds = append(o.vggoBuilds, b)
	}
	for _, e := range strings.Split(*engines, ",") {
		if e = strings.TrimSpace(e); e != "tfjs" && e != "ort" {
			fatalf("-peers %q: want a comma-separated list of tfjs, ort", *engines)
		}
		o.peers = append(o.peers, strings.TrimSpace(e))
	}
	if err := run(&o); err != nil {
		fatalf("%v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

func run(o *options) error {
	start := time.Now()
	m := &meter{self: os.Getpid(), loadLimit: o.loadLimit, retries: o.retries, repeatShare: o.repeatShare, start: start, log: logf}
	rep := &report{started: start.UTC(), opts: o, env: environment()}
	if o.browser {
		if err := runBrowser(o, m, rep); err != nil {
			return err
		}
	}
	if o.native {
		if err := runNative(o, m, rep); err != nil {
			return err
		}
	}
	rep.elapsed = time.Since(start)
	md := rep.markdown()
	fmt.Print(md)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	tmp := o.out + ".tmp"
	if err := os.WriteFile(tmp, []byte(md), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, o.out)
}

// browserConfig is one input shape of the browser comparison.
type browserConfig struct{ size, batch int }

var browserConfigs = []browserConfig{{224, 1}, {32, 1}, {32, 32}}

func runBrowser(o *options, m *meter, rep *report) error {
	for _, f := range []string{"build/vggo.wasm", "build/vgg16_gap10.onnx", "node_modules/@tensorflow/tfjs-backend-wasm/package.json",
		"node_modules/onnxruntime-web/package.json", "page/index.html"} {
		if _, err := os.Stat(filepath.Join(o.benchDir, f)); err != nil {
			return fmt.Errorf("%s: missing (run scripts/bench-peers.sh, which installs and builds it): %w", filepath.Join(o.benchDir, f), err)
		}
	}
	wasmExec := o.wasmExec
	if wasmExec == "" {
		out, err := exec.Command("go", "env", "GOROOT").Output()
		if err != nil {
			return fmt.Errorf("go env GOROOT: %w", err)
		}
		wasmExec = filepath.Join(strings.TrimSpace(string(out)), "lib", "wasm", "wasm_exec.js")
	}
	if _, err := os.Stat(wasmExec); err != nil {
		return fmt.Errorf("wasm_exec.js: %w", err)
	}
	if len(o.vggoWorkers) > 0 {
		for _, f := range []string{"worker.js", "worker.wasm", "worker-relaxed.wasm"} {
			if _, err := os.Stat(filepath.Join(o.staticDir, f)); err != nil {
				return fmt.Errorf("%s: missing (scripts/build-wasm.sh builds it): %w", filepath.Join(o.staticDir, f), err)
			}
		}
	}
	base, stopServer, err := serve(isolatedHandler(o.benchDir, o.staticDir, wasmExec))
	if err != nil {
		return err
	}
	defer stopServer()
	ctx, stop, product, err := startBrowser(o.chromium)
	if err != nil {
		return err
	}
	defer stop()
	rep.env["Browser"] = product
	logf("browser: %s, page server %s", product, base)

	type engineTab struct {
		engine  string
		threads int
		build   string // vggo's worker build (engine workers)
	}
	want := []engineTab{{"vggo", 1, ""}}
	for _, b := range o.vggoBuilds {
		for _, n := range o.vggoWorkers {
			want = append(want, engineTab{"workers", n, b})
		}
	}
	for _, e := range o.peers {
		for _, n := range o.peerThreads {
			want = append(want, engineTab{e, n, ""})
		}
	}
	var tabs []*tab
	for _, w := range want {
		label := fmt.Sprintf("%s %dt", w.engine, w.threads)
		if w.engine == "workers" {
			label = fmt.Sprintf("vggo %dw %s", w.threads, w.build)
		}
		t, err := openTab(ctx, label, fmt.Sprintf("%s/?engine=%s&threads=%d&build=%s", base, w.engine, w.threads, w.build), 3*time.Minute)
		if err != nil {
			return err
		}
		if !t.info.CrossOriginIsolated {
			return fmt.Errorf("%s: page is not cross-origin isolated: the peers cannot use threads", label)
		}
		if t.info.Threads != w.threads {
			return fmt.Errorf("%s: the engine runs %d thread(s), not the %d asked for", label, t.info.Threads, w.threads)
		}
		logf("  %s ready: %s, %d thread(s)", label, t.info.Version, t.info.Threads)
		tabs = append(tabs, t)
		rep.browserEngines = append(rep.browserEngines, t.info)
	}
	rep.env["Browser cores (navigator.hardwareConcurrency)"] = fmt.Sprint(tabs[0].info.HardwareConcurrency)

	const runTimeout = 3 * time.Minute
	for _, c := range browserConfigs {
		logf("browser %dx%d batch %d: %d warm-up run(s) and then %v more per engine, then %d timed runs per engine, interleaved", c.size, c.size, c.batch, o.warmup, o.warmupTime, o.runs)
		for _, t := range tabs {
			// The clock starts after the -warmup runs: the first run of a
			// new input size includes building the network for it (vggo's
			// workers), which says nothing about the optimizing tier.
			var start time.Time
			n := 0
			for ; n < o.warmup || time.Since(start) < o.warmupTime; n++ {
				if n == o.warmup {
					start = time.Now()
				}
				if _, err := t.run(c.size, c.batch, runTimeout); err != nil {
					return err
				}
			}
			rep.warmups = append(rep.warmups, fmt.Sprintf("%s %dx%d batch %d: %d", t.label, c.size, c.size, c.batch, n))
		}
		results := make([]series, len(tabs))
		for r := 0; r < o.runs; r++ {
			for _, i := range rotation(len(tabs), r) {
				t := tabs[i]
				s, err := m.measure(t.label, func() (float64, error) { return t.run(c.size, c.batch, runTimeout) })
				if err != nil {
					return err
				}
				results[i] = append(results[i], s)
			}
		}
		for i, t := range tabs {
			rep.browser = append(rep.browser, row{config: fmt.Sprintf("%dx%d, batch %d", c.size, c.size, c.batch),
				engine: t.info, runs: results[i], baseline: results[0]})
			logf("  %-8s %8.1f ms (other load %.2f)", t.label, results[i].medianMS(), results[i].medianLoad())
		}
	}
	return nil
}

func runNative(o *options, m *meter, rep *report) error {
	setNativeThreads(o.torchThreads)
	torch, err := startTorch(o.python, filepath.Join(o.benchDir, "torch_bench.py"), o.torchThreads)
	if err != nil {
		return err
	}
	defer torch.close()
	var info struct {
		Torch   string `json:"torch"`
		Threads int    `json:"threads"`
	}
	if err := torch.call(map[string]any{"op": "info"}, &info); err != nil {
		return err
	}
	rep.env["PyTorch"] = fmt.Sprintf("%s (%s), %d threads", info.Torch, o.python, info.Threads)
	rep.env["vggo native threads"] = fmt.Sprint(o.torchThreads)

	// pair runs vggo and PyTorch alternately (order swapped every round).
	pair := func(name string, runs, warmup int, vggo, pt func() (float64, error)) (series, series, error) {
		fns := []func() (float64, error){vggo, pt}
		for i := 0; i < warmup; i++ {
			for _, f := range fns {
				if _, err := f(); err != nil {
					return nil, nil, err
				}
			}
		}
		res := make([]series, 2)
		for r := 0; r < runs; r++ {
			for _, i := range rotation(2, r) {
				s, err := m.measure(name, fns[i])
				if err != nil {
					return nil, nil, err
				}
				res[i] = append(res[i], s)
			}
		}
		logf("  %s: vggo %.1f ms, PyTorch %.1f ms", name, res[0].medianMS(), res[1].medianMS())
		return res[0], res[1], nil
	}

	for _, c := range []struct{ size, batch int }{{224, 1}, {32, 64}} {
		name := fmt.Sprintf("forward %dx%d, batch %d", c.size, c.size, c.batch)
		logf("native %s", name)
		f, err := newVggoForward(c.size, c.batch, 1)
		if err != nil {
			return err
		}
		v, p, err := pair(name, o.runs, o.warmup, f.run, func() (float64, error) {
			return torch.ms(map[string]any{"op": "forward", "size": c.size, "batch": c.batch, "width_div": 1})
		})
		if err != nil {
			return err
		}
		rep.native = append(rep.native, nativeRow{name: name, unit: "ms", vggo: v, torch: p, batch: c.batch})
	}

	trainSteps := []struct{ size, batch int }{{32, o.trainBatch}}
	if o.trainLargeSize > 0 {
		trainSteps = append(trainSteps, struct{ size, batch int }{o.trainLargeSize, o.trainLargeBatch})
	}
	for _, c := range trainSteps {
		name := fmt.Sprintf("train step, all 13 conv layers + gap head trainable, %dx%d, batch %d", c.size, c.size, c.batch)
		if o.trainWidthDiv != 1 {
			name += fmt.Sprintf(", width/%d", o.trainWidthDiv)
		}
		logf("native %s", name)
		tr, err := newVggoTrainer(gapSpec(o.trainWidthDiv, c.size, 0), c.batch)
		if err != nil {
			return err
		}
		x := randInput(c.batch * c.size * c.size * 3)
		v, p, err := pair(name, o.trainRuns, 1, func() (float64, error) {
			start := time.Now()
			err := tr.step(x)
			return msSince(start), err
		}, func() (float64, error) {
			return torch.ms(map[string]any{"op": "train_step", "size": c.size, "batch": c.batch, "width_div": o.trainWidthDiv})
		})
		if err != nil {
			return err
		}
		rep.native = append(rep.native, nativeRow{name: name, unit: "img/s", vggo: v, torch: p, batch: c.batch})
	}

	{
		name := fmt.Sprintf("fine-tune last conv + gap head, %dx%d, %d images x %d epochs, batch %d", o.ftSize, o.ftSize, o.ftImages, o.ftEpochs, o.ftBatch)
		if o.ftWidthDiv != 1 {
			name += fmt.Sprintf(", width/%d", o.ftWidthDiv)
		}
		logf("native %s", name)
		x := randInput(o.ftImages * o.ftSize * o.ftSize * 3)
		v, p, err := pair(name, o.ftRuns, 0, func() (float64, error) {
			return vggoFineTune(o.ftSize, o.ftImages, o.ftEpochs, o.ftBatch, o.ftWidthDiv, x)
		}, func() (float64, error) {
			return torch.ms(map[string]any{"op": "finetune", "size": o.ftSize, "images": o.ftImages, "epochs": o.ftEpochs,
				"batch": o.ftBatch, "width_div": o.ftWidthDiv})
		})
		if err != nil {
			return err
		}
		rep.native = append(rep.native, nativeRow{name: name, unit: "s", vggo: v, torch: p})
	}

	if o.layers {
		if o.layerSize < 16 {
			return fmt.Errorf("-layer-size %d: want at least 16 (VGG16's block 5 runs at size/16)", o.layerSize)
		}
		for _, ls := range vggLayerShapes(o.layerSize, 1) {
			lp := newLayerPasses(ls, o.layerBatch)
			for _, ps := range layerPassNames {
				name := fmt.Sprintf("%s, batch %d | %s", ls, o.layerBatch, ps.label)
				logf("native layer %s", name)
				v, p, err := pair(name, o.layerRuns, 1, func() (float64, error) { return lp.run(ps.pass) }, func() (float64, error) {
					return torch.ms(map[string]any{"op": "conv_pass", "size": ls.side, "batch": o.layerBatch, "cin": ls.cin, "cout": ls.cout, "pass": ps.pass})
				})
				if err != nil {
					return err
				}
				rep.layers = append(rep.layers, nativeRow{name: name, unit: "ms", vggo: v, torch: p})
			}
		}
	}

	if o.rssSize > 0 {
		logf("native peak RSS of train fit and PyTorch, %dx%d batch %d", o.rssSize, o.rssSize, o.rssBatch)
		r, err := measureFitRSS(o)
		if err != nil {
			return err
		}
		logf("  vggo %.0f MiB, PyTorch %.0f MiB", float64(r.vggo)/(1<<20), float64(r.torch)/(1<<20))
		rep.rss = append(rep.rss, r)
	}

	if o.augSize > 0 {
		name := fmt.Sprintf("fine-tune last conv + gap head with augmentation (rotation 20, flip; a new draw every epoch), %dx%d, %d images x %d epochs, batch %d",
			o.augSize, o.augSize, o.augImages, o.augEpochs, o.augBatch)
		if o.augWidthDiv != 1 {
			name += fmt.Sprintf(", width/%d", o.augWidthDiv)
		}
		logf("native %s", name)
		imgs, raw := augImages(o.augImages, o.augSize)
		f, err := os.CreateTemp("", "vggo-bench-images-*.u8")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(raw); err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
		v, p, err := pair(name, o.augRuns, 0, func() (float64, error) {
			return vggoFineTuneAug(o.augSize, o.augEpochs, o.augBatch, o.augWidthDiv, imgs)
		}, func() (float64, error) {
			return torch.ms(map[string]any{"op": "finetune_aug", "size": o.augSize, "images": o.augImages, "epochs": o.augEpochs,
				"batch": o.augBatch, "width_div": o.augWidthDiv, "images_path": f.Name(), "rotation": fineTuneAug.RotationRange})
		})
		if err != nil {
			return err
		}
		rep.native = append(rep.native, nativeRow{name: name, unit: "s", vggo: v, torch: p})
	}
	return nil
}
