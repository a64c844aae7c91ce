// Package inference is the inference worker's engine, kept free of
// syscall/js so it builds and is tested natively: it verifies and loads a
// model file from bytes, classifies image files with exactly the code path of
// the native classifier (model.DecodeImage → model.Preprocess → Net.Forward),
// and times the forward pass with random weights for the benchmark page.
package inference

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"math"
	"math/rand"
	"time"

	"vggo/model"
	"vggo/model/imagefile"
	"vggo/model/rank"
	"vggo/wasm/protocol"
)

// Engine holds at most one ready model. It is not safe for concurrent use;
// the worker handles one message at a time.
type Engine struct {
	name  string
	info  model.Info   // the loaded model's metadata
	net   *model.Net   // the whole network, when the engine works alone
	model *model.Model // the whole model, when the engine works alone: Teach builds files from it
	base  *model.Model // after Teach: the base the taught model's conv layers are (nil otherwise)
	// baseNet is base's network (after Teach): features always come from
	// the base, also after a run that fine-tuned its last conv layer.
	baseNet *model.Net

	// With a pool of workers (SetShard): this worker's shard instead of
	// net, and its way to the others. See shard.go.
	index, count int
	pool         Pool
	shard        *model.Shard
	bench        map[[2]int]*model.Shard // benchmark shards by size and width divisor
}

// CheckSHA256 returns an error naming name when data's SHA-256 is not want
// (lower-case hex).
func CheckSHA256(data []byte, want, name string) error {
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if got != want {
		return fmt.Errorf("%s: integrity check failed: SHA-256 is %s, the index says %s (%d bytes received)", name, got, want, len(data))
	}
	return nil
}

// Load parses a vggo model file from data and builds its network (weights
// are dequantized and transformed once here, not per image). opts packs the
// weights to save memory (LoadOptions); a lone engine with
// options other than the zero ones holds a one-shard network instead of a
// Net, and so cannot teach. On error the previously loaded model stays in
// use.
func (e *Engine) Load(data []byte, name string, opts model.ShardOptions) (protocol.Loaded, error) {
	start := time.Now()
	var (
		m     *model.Model
		info  model.Info
		net   *model.Net
		shard *model.Shard
		err   error
	)
	if e.split() || opts != (model.ShardOptions{RowBlocks: opts.RowBlocks, ImageBlocks: opts.ImageBlocks}) { // whole blocks need a pool
		// Only this worker's channels of each layer, cut as they are read
		// and packed as opts asks (all of them for a lone engine).
		shard, info, err = model.ReadShard(bytes.NewReader(data), int64(len(data)), name, e.index, max(e.count, 1), opts)
		if err != nil {
			return protocol.Loaded{}, err
		}
	} else {
		if m, err = model.ReadModel(bytes.NewReader(data), int64(len(data)), name); err != nil {
			return protocol.Loaded{}, err
		}
		if net, err = model.NewNet(m); err != nil {
			return protocol.Loaded{}, fmt.Errorf("%s: %w", name, err)
		}
		info = m.Info
	}
	// A shard keeps only the Info; a lone worker the Model too (teach).
	e.name, e.info, e.net, e.shard, e.base, e.baseNet, e.model = name, info, net, shard, nil, nil, m
	return protocol.Loaded{
		Name:        name,
		Classes:     info.Classes,
		InputSize:   info.InputSize,
		Preprocess:  info.Preprocess,
		Bytes:       int64(len(data)),
		LoadMillis:  millisSince(start),
		Description: info.Description,
		FlipAverage: info.FlipAverage,
		SaveMemory:  opts.HalfWeights || opts.SmallTiles,
		Splits:      pictureSplits(shard, info),
	}, nil
}

// pictureSplits is how a pass of one picture splits shard s's whole
// blocks (model.Shard.Splits): two images for a flip-averaging model;
// none without a shard.
func pictureSplits(s *model.Shard, info model.Info) []string {
	if s == nil {
		return nil
	}
	batch := 1
	if info.FlipAverage {
		batch = 2
	}
	return s.Splits(batch)
}

// LoadOptions is how Load packs the weights for req: model.SaveMemory
// where the page asks to save memory, else as float32 for Net's speed and
// arithmetic.
func LoadOptions(req protocol.LoadRequest) model.ShardOptions {
	var opts model.ShardOptions
	if req.SaveMemory {
		opts = model.SaveMemory()
	}
	opts.RowBlocks, opts.ImageBlocks = req.RowBlocks, req.ImageBlocks
	return opts
}

// Ready reports whether a model is loaded.
func (e *Engine) Ready() bool { return e.net != nil || e.shard != nil }

// Classify decodes an image file with Go's decoder (EXIF orientation
// applied, pixel budget checked from the header), preprocesses it for the
// loaded model and runs the forward pass. Errors name the file.
func (e *Engine) Classify(data []byte, name string) (protocol.Result, error) {
	if !e.Ready() {
		return protocol.Result{}, fmt.Errorf("%s: no model is loaded yet", name)
	}
	if err := imagefile.Check(name, int64(len(data)), ""); err != nil {
		return protocol.Result{}, err
	}
	start := time.Now()
	img, err := model.DecodeImage(bytes.NewReader(data), name)
	if err != nil {
		return protocol.Result{}, err
	}
	return e.ClassifyImage(img, name, protocol.DecoderGo, millisSince(start))
}

// InputSize is the loaded model's input side in pixels, 0 before a model
// is loaded: what model.ResizeSamples needs to know which pixels to gather.
func (e *Engine) InputSize() int {
	return e.info.InputSize
}

// ClassifyImage preprocesses an image decoded elsewhere (by decoder, in
// decodeMillis) and runs the forward pass. img must be upright; a
// model.SampledImage holding the pixels model.ResizeSamples names gives
// the same input as the whole image.
func (e *Engine) ClassifyImage(img image.Image, name, decoder string, decodeMillis float64) (protocol.Result, error) {
	if !e.Ready() {
		return protocol.Result{}, fmt.Errorf("%s: no model is loaded yet", name)
	}
	start := time.Now()
	info := e.info
	x := model.Preprocess(img, info.InputSize, info.Preprocess)
	probs, scores, o, err := e.forwardOOD(x)
	if err != nil {
		return protocol.Result{}, fmt.Errorf("%s: %w", name, err)
	}
	forwardMillis := millisSince(start) // preprocessing + forward pass, not the input PNG below
	b := img.Bounds()
	var ood *protocol.OOD
	if o != nil {
		ood = &protocol.OOD{Flagged: o.Flagged(scores[0]), Score: scores[0], Threshold: o.Threshold}
	}
	return protocol.Result{
		OOD:           ood,
		Name:          name,
		Model:         e.name,
		Width:         b.Dx(),
		Height:        b.Dy(),
		DecodedWidth:  b.Dx(),
		DecodedHeight: b.Dy(),
		Top:           rank.TopK(probs, info.Classes, 5),
		Probs:         append([]float32(nil), probs...),
		Decoder:       decoder,
		DecodeMillis:  decodeMillis,
		ForwardMillis: forwardMillis,
		Input:         InputPNG(x, info),
	}, nil
}

// BenchClasses is the class count of the random benchmark head.
const BenchClasses = 10

// RandomModel builds a model with random weights (He-scaled, fixed seed) at
// the given input size and width divisor, with a linear head (global average
// pooling → dense), so every input size from 32 up has the same head.
func RandomModel(size, widthDiv int, seed int64) *model.Model {
	rng := rand.New(rand.NewSource(seed))
	arch := model.Arch{WidthDiv: widthDiv}
	m := &model.Model{
		Info: model.Info{
			FormatVersion: 1,
			Arch:          "vgg16",
			InputSize:     size,
			Head:          model.HeadLinear,
			Preprocess:    "caffe",
			WidthDiv:      widthDiv,
		},
		Base: model.ConvBase{Arch: arch},
	}
	for i := 0; i < BenchClasses; i++ {
		m.Info.Classes = append(m.Info.Classes, fmt.Sprintf("class %d", i))
	}
	fill := func(n int, scale float64) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * scale)
		}
		return w
	}
	for i := range m.Base.Layers {
		s := arch.Conv(i)
		m.Base.Layers[i] = model.ConvParams{
			Kernel: fill(9*s.Cin*s.Cout, math.Sqrt(2/float64(9*s.Cin))), // He: keeps activations O(input) through 13 ReLU layers
			Bias:   fill(s.Cout, 0.01),
		}
	}
	c := arch.Channels()
	m.Head = model.Head{Kind: model.HeadLinear, Dense: []model.DenseParams{{
		In: c, Out: BenchClasses,
		Kernel: fill(c*BenchClasses, 1/float64(c)),
		Bias:   make([]float32, BenchClasses),
	}}}
	return m
}

// Bench times Net.Forward on one random image per run at each size: warmup
// untimed runs, then runs timed ones; the row holds each time and their
// median. report is called after each size so a page can show rows as they
// come.
func Bench(req protocol.BenchRequest, report func(protocol.BenchRow)) error {
	if req.WidthDiv <= 0 {
		req.WidthDiv = 1
	}
	req.Batch = max(req.Batch, 1)
	if req.Runs <= 0 {
		req.Runs = 1
	}
	for _, size := range req.Sizes {
		if size < 32 || size > 512 {
			return fmt.Errorf("bench: input size %d outside 32..512", size)
		}
		x := benchInput(size, req.Batch)
		var forward func() error
		if opts := (model.ShardOptions{HalfWeights: req.HalfWeights, SmallTiles: req.SmallTiles}); opts != (model.ShardOptions{}) {
			// Only a Shard takes these options: a lone one.
			s, err := model.TakeShardWith(RandomModel(size, req.WidthDiv, 1), 0, 1, opts)
			if err != nil {
				return fmt.Errorf("bench: size %d: %w", size, err)
			}
			forward = func() error { _, _, err := s.ForwardOOD(req.Batch, x, loneExchange); return err }
		} else {
			net, err := model.NewNet(RandomModel(size, req.WidthDiv, 1))
			if err != nil {
				return fmt.Errorf("bench: size %d: %w", size, err)
			}
			forward = func() error { net.Forward(req.Batch, x); return nil }
		}
		row, err := timeRuns(size, req, forward)
		if err != nil {
			return err
		}
		report(row)
	}
	return nil
}

func millisSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}
