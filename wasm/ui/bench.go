package ui

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/maxence-charriere/go-app/v9/pkg/app"

	"vggo/wasm/protocol"
)

// BenchSettings are the benchmark's parameters, read from the page URL
// (/bench?sizes=224,32&width=1&warmup=1&runs=5&auto=1) so a run can be
// linked to and scripted.
type BenchSettings struct {
	Sizes    []int
	WidthDiv int
	Warmup   int
	Runs     int
	Batch    int    // images per forward pass (batch=N; 2 is the cost of a flip-averaging model's pass)
	Auto     bool   // start on load
	Build    string // worker build (build=simd128 or relaxed); "" picks the fastest the browser runs
	Workers  int    // inference workers (threads=N); 0 is DefaultWorkers
	// Pool: exchange=message forces messages between the workers on an
	// isolated page; spin=1 or 0 the workers' polling on or off.
	Pool poolFlags
	// HalfWeights (weights=f16) keeps the Winograd weights as float16:
	// half the memory, less accurate (model.ShardOptions).
	HalfWeights bool
	// SmallTiles (tiles=small) runs blocks 4 and 5 with Winograd F(2x2):
	// less than half those layers' weight memory, slower
	// (model.ShardOptions).
	SmallTiles bool
}

// ParseBenchSettings reads settings from a query string, with defaults
// sizes 224 and 32, full-width VGG16, 1 warm-up and 5 timed runs. Values
// out of range are clamped so a typo cannot hang the page for hours.
func ParseBenchSettings(q url.Values) BenchSettings {
	s := BenchSettings{Sizes: []int{224, 32}, WidthDiv: 1, Warmup: 1, Runs: 5, Batch: 1}
	if v := q.Get("sizes"); v != "" {
		var sizes []int
		for _, f := range strings.Split(v, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n >= 32 && n <= 512 {
				sizes = append(sizes, n)
			}
		}
		if len(sizes) > 0 {
			s.Sizes = sizes
		}
	}
	atoi := func(key string, def, lo, hi int) int {
		n, err := strconv.Atoi(q.Get(key))
		if err != nil {
			return def
		}
		return max(lo, min(hi, n))
	}
	s.WidthDiv = atoi("width", s.WidthDiv, 1, 64)
	switch s.WidthDiv {
	case 1, 2, 4, 8, 16, 32, 64:
	default:
		s.WidthDiv = 1
	}
	s.Warmup = atoi("warmup", s.Warmup, 0, 10)
	s.Runs = atoi("runs", s.Runs, 1, 100)
	s.Batch = atoi("batch", s.Batch, 1, 64)
	s.Auto = q.Get("auto") == "1"
	if b := q.Get("build"); b == BuildSIMD128 || b == BuildRelaxed {
		s.Build = b
	}
	s.Workers = parseWorkers(q.Get(threadsQuery))
	s.Pool = poolFlagsFrom(q)
	s.HalfWeights = q.Get("weights") == "f16"
	s.SmallTiles = q.Get("tiles") == "small"
	return s
}

// Bench is the benchmark page: it times the forward pass in the inference
// worker with random weights and shows a table, while a frame counter shows
// that the page itself keeps running.
type Bench struct {
	app.Compo

	worker   *workerPool
	settings BenchSettings
	runID    int
	running  bool
	rows     []protocol.BenchRow
	err      string

	startedAt  float64 // performance.now() at the start of the run
	runMillis  float64 // duration of the last finished run
	frames     int     // animation frames seen during the run
	longestGap float64 // longest gap between two frames during the run, ms
	lastFrame  float64
	frameFunc  app.Func
	stopFrames bool
}

// OnMount starts the worker and, with auto=1, the run.
func (b *Bench) OnMount(ctx app.Context) {
	b.settings = ParseBenchSettings(ctx.Page().URL().Query())
	if app.IsServer {
		return
	}
	workers := b.settings.Workers
	if workers == 0 {
		workers = DefaultWorkers()
	}
	b.worker = startPool(ctx, workerBuild(b.settings.Build), workers, b.settings.Pool, b.onReply)
	if b.settings.Auto {
		b.start(ctx, app.Event{})
	}
}

// OnDismount stops the worker.
func (b *Bench) OnDismount() {
	b.stopFrames = true
	b.worker.stop()
}

func (b *Bench) start(ctx app.Context, e app.Event) {
	if b.running {
		return
	}
	b.running = true
	b.rows = nil
	b.err = ""
	b.frames, b.longestGap, b.lastFrame, b.runMillis = 0, 0, 0, 0
	b.startedAt = app.Window().Get("performance").Call("now").Float()
	s := b.settings
	b.runID = b.worker.send(protocol.KindBench, protocol.BenchRequest{
		Sizes: s.Sizes, WidthDiv: s.WidthDiv, Warmup: s.Warmup, Runs: s.Runs, Batch: s.Batch, HalfWeights: s.HalfWeights, SmallTiles: s.SmallTiles, RowBlocks: s.Pool.rows, ImageBlocks: s.Pool.images,
	}, nil)
	b.watchFrames(ctx)
}

// watchFrames counts requestAnimationFrame callbacks while the run lasts:
// if the forward pass ran on the page's thread, there would be none.
func (b *Bench) watchFrames(ctx app.Context) {
	b.stopFrames = false
	if b.frameFunc == nil {
		b.frameFunc = app.FuncOf(func(this app.Value, args []app.Value) any {
			now := args[0].Float()
			if b.lastFrame > 0 {
				b.longestGap = max(b.longestGap, now-b.lastFrame)
			}
			b.lastFrame = now
			b.frames++
			if !b.stopFrames {
				app.Window().Call("requestAnimationFrame", b.frameFunc)
			}
			if b.frames%15 == 0 {
				ctx.Dispatch(func(ctx app.Context) {})
			}
			return nil
		})
	}
	app.Window().Call("requestAnimationFrame", b.frameFunc)
}

func (b *Bench) onReply(ctx app.Context, r workerReply) {
	if r.ID != b.runID && r.ID != 0 {
		return
	}
	switch r.Kind {
	case protocol.KindBenchRow:
		var row protocol.BenchRow
		if err := r.decode(&row); err == nil {
			b.rows = append(b.rows, row)
		}
	case protocol.KindBenchDone:
		b.running = false
		b.stopFrames = true
		b.runMillis = app.Window().Get("performance").Call("now").Float() - b.startedAt
	case protocol.KindError:
		var er protocol.ErrorReply
		r.decode(&er)
		b.err = er.Message
		b.running = false
		b.stopFrames = true
	}
}

// Render draws the page.
func (b *Bench) Render() app.UI {
	s := b.settings
	if len(s.Sizes) == 0 {
		s = ParseBenchSettings(nil)
	}
	state := "idle"
	switch {
	case b.running:
		state = "running"
	case b.err != "":
		state = "error"
	case len(b.rows) > 0:
		state = "done"
	}
	build := "" // none on the server's pre-rendered page
	if b.worker != nil {
		build = b.worker.build
	}
	return app.Div().Class("page").Body(
		pageHeader(BenchPath),
		app.Main().ID("main").Body(
			app.Section().Class("panel").Aria("labelledby", "bench-heading").Body(
				app.H2().ID("bench-heading").Text("Forward-pass benchmark"),
				app.P().Body(
					app.Text(fmt.Sprintf("How fast this device classifies: %s with random weights, %s, in the inference worker; %d warm-up run(s), then %d timed runs per image size. Settings go in the address, e.g. ",
						networkWords(s.WidthDiv), batchWords(s.Batch), s.Warmup, s.Runs)),
					app.Code().Text("/bench?sizes=224,32&width=1&warmup=1&runs=5"),
					app.Text("."),
				),
				app.If(build != "", app.P().ID("bench-build").DataSet("build", build).Text(workerBuildLine(build))),
				app.If(s.HalfWeights || s.SmallTiles, app.P().ID("bench-weights").Text(weightsLine(s))),
				app.If(build != "", poolLine("bench-workers", b.worker)),
				app.Div().Class("row").Body(
					app.Button().ID("bench-start").Type("button").Class("button").Disabled(b.running).
						Text("Run benchmark").OnClick(b.start),
					app.If(b.running, app.Span().ID("busy").Class("spinner").Role("progressbar").Aria("label", "Benchmark running")),
				),
				b.renderProgress(s),
				app.If(b.err != "", app.P().ID("bench-error").Class("error").Role("alert").Text(b.err)),
				// Nothing to show before the first run: no empty table.
				app.If(state != "idle", b.renderTable(state)),
			),
		),
	)
}

// workerBuildLine says which worker build runs.
func workerBuildLine(build string) string {
	if build == BuildRelaxed {
		return "Worker build: relaxed SIMD (worker-relaxed.wasm, f32x4.relaxed_madd kernels)."
	}
	return "Worker build: SIMD128 (worker.wasm; this browser has no relaxed SIMD, or build=simd128 was asked for)."
}

// weightsLine says which memory-saving weight layouts the run uses.
func weightsLine(s BenchSettings) string {
	var parts []string
	if s.HalfWeights {
		parts = append(parts, "Winograd weights kept as float16 (weights=f16: half their memory; probabilities move by up to about 0.003)")
	}
	if s.SmallTiles {
		parts = append(parts, "Winograd F(2x2) in blocks 4 and 5 (tiles=small: less than half those layers' weight memory, slower)")
	}
	return "Memory savings: " + strings.Join(parts, "; ") + "."
}

// renderProgress says how far the run is and, once it has started, how
// many frames the page drew meanwhile: it keeps drawing because the work
// runs in the worker.
func (b *Bench) renderProgress(s BenchSettings) app.UI {
	if !b.running && b.runMillis == 0 {
		return app.Text("")
	}
	progress := fmt.Sprintf("Finished %d image size(s) in %.1f s.", len(b.rows), b.runMillis/1000)
	if b.running {
		progress = fmt.Sprintf("Running: %d of %d image sizes done…", len(b.rows), len(s.Sizes))
	}
	return app.Div().Class("progress-row").Body(
		app.If(b.running, app.Progress().ID("bench-progress").Max(len(s.Sizes)).Value(len(b.rows)).
			Aria("label", "Benchmark progress")),
		app.Span().ID("bench-progress-text").Aria("live", "polite").Text(progress),
		app.Span().ID("bench-frames").Class("note").DataSet("frames", b.frames).
			DataSet("longest-gap", fmt.Sprintf("%.0f", b.longestGap)).
			DataSet("run-ms", fmt.Sprintf("%.0f", b.runMillis)).
			Text(fmt.Sprintf("Meanwhile the page drew %d frames (longest pause %.0f ms).", b.frames, b.longestGap)),
	)
}

// renderTable is the timings, one row per input size, in plain words.
func (b *Bench) renderTable(state string) app.UI {
	return app.Div().Class("table-wrap").Body(app.Table().ID("bench-table").DataSet("state", state).Body(
		app.Caption().Text(fmt.Sprintf("Time per forward pass (%s), in milliseconds", batchWords(b.settings.Batch))),
		app.THead().Body(app.Tr().Body(
			app.Th().Scope("col").Text("Image size"),
			app.Th().Scope("col").Text("Network"),
			app.Th().Scope("col").Text("Workers"),
			app.Th().Scope("col").Text("Memory"),
			app.Th().Scope("col").Text("Timed runs"),
			app.Th().Scope("col").Text("Typical (median) ms"),
			app.Th().Scope("col").Text("Fastest ms"),
		)),
		app.TBody().Body(
			app.Range(b.rows).Slice(func(i int) app.UI {
				r := b.rows[i]
				return app.Tr().DataSet("size", r.Size).DataSet("median", fmt.Sprintf("%.3f", r.MedianMillis)).
					DataSet("workers", r.Workers).DataSet("exchange", r.Exchange).DataSet("wasm-bytes", r.WasmBytes).DataSet("splits", strings.Join(r.Splits, ",")).
					DataSet("parked-passes", r.ParkedPasses).DataSet("spin", r.Spin).DataSet("polled-barriers", r.PolledBarriers).Body(
					app.Td().Text(fmt.Sprintf("%d×%d", r.Size, r.Size)),
					app.Td().Text(networkWords(r.WidthDiv)),
					app.Td().Text(poolWords(r)),
					app.Td().Text(protocol.HumanBytes(r.WasmBytes)+" wasm"),
					app.Td().Text(r.Runs),
					app.Td().Text(fmt.Sprintf("%.1f", r.MedianMillis)),
					app.Td().Text(fmt.Sprintf("%.1f", r.MinMillis)),
				)
			}),
		),
	))
}

// batchWords says how many images a timed pass classifies.
func batchWords(batch int) string {
	if batch <= 1 {
		return "one image at a time"
	}
	return fmt.Sprintf("%d images per pass", batch)
}

// networkWords names a width divisor for people: full VGG16, or the
// fraction of its channels.
func networkWords(widthDiv int) string {
	if widthDiv <= 1 {
		return "full VGG16"
	}
	return fmt.Sprintf("VGG16, 1/%d of the channels", widthDiv)
}

// poolWords says how a row's workers ran: how many, their exchange,
// whether they polled and how they split the leading blocks.
func poolWords(r protocol.BenchRow) string {
	words := r.Exchange
	if r.Spin {
		words += ", polling"
	}
	if w := protocol.SplitWords(r.Splits); w != "" {
		words += ", " + w
	}
	return fmt.Sprintf("%d (%s)", r.Workers, words)
}
