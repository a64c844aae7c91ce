package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"time"

	"vggo/bench/randnet"
	"vggo/kernels"
	"vggo/model"
	"vggo/train/augment"
	"vggo/train/cache"
	"vggo/train/nn"
)

// torchChild is the long-lived bench/torch_bench.py process: one JSON
// command per line in, one JSON answer per line out.
type torchChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startTorch(python, script string, threads int) (*torchChild, error) {
	cmd := exec.Command(python, script, "--threads", fmt.Sprint(threads))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", python, script, err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &torchChild{cmd: cmd, in: in, out: sc}, nil
}

// call sends one command and decodes the answer into reply; an "error"
// field in the answer becomes the returned error.
func (t *torchChild) call(cmd map[string]any, reply any) error {
	b, _ := json.Marshal(cmd)
	if _, err := t.in.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("torch_bench.py %s: %w", b, err)
	}
	if !t.out.Scan() {
		return fmt.Errorf("torch_bench.py %s: no answer (exited? see its stderr above)", b)
	}
	var e struct {
		Error string `json:"error"`
	}
	line := t.out.Bytes()
	if json.Unmarshal(line, &e) == nil && e.Error != "" {
		return fmt.Errorf("torch_bench.py %s: %s", b, e.Error)
	}
	return json.Unmarshal(line, reply)
}

// ms runs a command whose answer is {"ms": ...}.
func (t *torchChild) ms(cmd map[string]any) (float64, error) {
	var r struct {
		MS float64 `json:"ms"`
	}
	err := t.call(cmd, &r)
	return r.MS, err
}

func (t *torchChild) close() {
	t.in.Close()
	t.cmd.Wait()
}

// vggoForward is a native vggo forward pass of one configuration.
type vggoForward struct {
	net   *model.Net
	batch int
	x     []float32
}

func newVggoForward(size, batch, widthDiv int) (*vggoForward, error) {
	net, err := model.NewNet(randnet.Model(size, widthDiv, 1))
	if err != nil {
		return nil, err
	}
	return &vggoForward{net: net, batch: batch, x: randnet.Input(batch*size*size*3, 2)}, nil
}

func (f *vggoForward) run() (float64, error) {
	start := time.Now()
	f.net.Forward(f.batch, f.x)
	return msSince(start), nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Nanoseconds()) / 1e6 }

// vggoTrainer is one training step of the trainer's graph (train/nn, as
// `train fit` builds it): conv layers from spec.Boundary on, the gap head,
// softmax cross-entropy, backward and Adam.
type vggoTrainer struct {
	graph   *nn.Graph
	solver  *nn.Solver
	batch   int
	targets []float32
	mask    []float32
	rng     *rand.Rand
	dropout float64
}

func newVggoTrainer(spec nn.Spec, batch int) (*vggoTrainer, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	g, err := spec.Build(spec.InitParams(nil, 1), batch, true)
	if err != nil {
		return nil, err
	}
	s, err := nn.NewSolver("adam", 1e-3)
	if err != nil {
		return nil, err
	}
	t := &vggoTrainer{graph: g, solver: s, batch: batch, targets: make([]float32, batch*spec.Classes),
		rng: rand.New(rand.NewPCG(3, 3)), dropout: spec.Dropout}
	for i := 0; i < batch; i++ {
		t.targets[i*spec.Classes+i%spec.Classes] = 1
	}
	if g.Mask != nil {
		t.mask = make([]float32, g.Mask.Shape().TotalSize())
	}
	return t, nil
}

// step trains on x (batch × the spec's input shape).
func (t *vggoTrainer) step(x []float32) error {
	for i := range t.mask { // inverted dropout, as train fit draws it
		t.mask[i] = 0
		if t.rng.Float64() >= t.dropout {
			t.mask[i] = float32(1 / (1 - t.dropout))
		}
	}
	if _, err := t.graph.Step(x, t.targets, t.mask); err != nil {
		return err
	}
	return t.solver.Step(t.graph.ValueGrads())
}

func gapSpec(widthDiv, size, boundary int) nn.Spec {
	hidden, _ := nn.DefaultHidden(model.HeadGAP, widthDiv)
	return nn.Spec{Arch: model.Arch{WidthDiv: widthDiv}, InputSize: size, Boundary: boundary, Head: model.HeadGAP,
		Hidden: hidden, Classes: randnet.Classes, Dropout: 0.2}
}

// fineTuneSetup builds what both fine-tuning rows need: the random
// network, the trainer for its last conv layer and gap head, and a feature
// cache of cacheBytes in a temporary folder that done removes.
func fineTuneSetup(size, widthDiv, batch int, cacheBytes int64) (net *model.Net, spec nn.Spec, tr *vggoTrainer, fc *cache.Cache, done func(), err error) {
	if net, err = model.NewNet(randnet.Model(size, widthDiv, 1)); err != nil {
		return
	}
	spec = gapSpec(widthDiv, size, 12)
	if tr, err = newVggoTrainer(spec, batch); err != nil {
		return
	}
	dir, err := os.MkdirTemp("", "vggo-bench-cache-")
	if err != nil {
		return
	}
	if fc, err = cache.Open(dir, cacheBytes); err != nil {
		os.RemoveAll(dir)
		return
	}
	return net, spec, tr, fc, func() { os.RemoveAll(dir) }, nil
}

// vggoFineTune is configuration (ii) the way `train fit --fine-tune 1`
// runs it: conv layers 1-12 once per image into the feature cache
// (train/cache, as fit's feature source fills it), then every epoch trains
// the last conv layer and the gap head on cached features.
func vggoFineTune(size, images, epochs, batch, widthDiv int, x []float32) (float64, error) {
	net, spec, tr, fc, done, err := fineTuneSetup(size, widthDiv, batch, 1<<30)
	if err != nil {
		return 0, err
	}
	defer done()
	per := size * size * 3
	shape := spec.InputShape()
	featPer := shape[0] * shape[1] * shape[2]
	key := func(i int) string { return cache.Key("bench", fmt.Sprint(i)) }

	start := time.Now()
	for s := 0; s < images; s += batch {
		n := min(batch, images-s)
		out := net.ForwardTo(n, x[s*per:(s+n)*per], 11)
		for i := 0; i < n; i++ {
			if err := fc.Put(key(s+i), out[i*featPer:(i+1)*featPer]); err != nil {
				return 0, err
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	xb := make([]float32, batch*featPer)
	for e := 0; e < epochs; e++ {
		perm := rng.Perm(images)
		for s := 0; s+batch <= images; s += batch {
			for i := 0; i < batch; i++ {
				f, ok := fc.Get(key(perm[s+i]))
				if !ok {
					return 0, fmt.Errorf("feature cache lost image %d", perm[s+i])
				}
				copy(xb[i*featPer:], f)
			}
			if err := tr.step(xb); err != nil {
				return 0, err
			}
		}
	}
	return msSince(start), nil
}

// fineTuneAug is the augmentation of the augmented fine-tuning row, as
// `train fit -rotation 20 -flip` sets it.
var fineTuneAug = augment.Params{RotationRange: 20, HorizontalFlip: true}

// augImages returns n size×size RGB images of random pixels (seeded, so
// every run and both engines see the same ones) and their bytes, NHWC
// uint8, for bench/torch_bench.py.
func augImages(n, size int) ([]*image.NRGBA, []byte) {
	rng := rand.New(rand.NewPCG(11, 11))
	raw := make([]byte, n*size*size*3)
	imgs := make([]*image.NRGBA, n)
	for i := range imgs {
		img := image.NewNRGBA(image.Rect(0, 0, size, size))
		for p := 0; p < size*size; p++ {
			for c := 0; c < 3; c++ {
				v := byte(rng.IntN(256))
				img.Pix[4*p+c] = v
				raw[(i*size*size+p)*3+c] = v
			}
			img.Pix[4*p+3] = 255
		}
		imgs[i] = img
	}
	return imgs, raw
}

// vggoFineTuneAug is the augmented fine-tuning row the way `train fit
// -fine-tune 1 -rotation 20 -flip -aug-copies EPOCHS` runs it, so every
// epoch sees a new random draw of every image: each copy drawn with
// train/augment (seeded per image and copy, as fit's feature source
// does), preprocessed ("torch" mode) and run through conv layers 1-12 in
// batches of 16 into the feature cache; then epoch e trains the last conv
// layer and the gap head on copy e's cached features.
func vggoFineTuneAug(size, epochs, batch, widthDiv int, imgs []*image.NRGBA) (float64, error) {
	net, spec, tr, fc, done, err := fineTuneSetup(size, widthDiv, batch, 4<<30)
	if err != nil {
		return 0, err
	}
	defer done()
	images := len(imgs)
	per := size * size * 3
	shape := spec.InputShape()
	featPer := shape[0] * shape[1] * shape[2]
	key := func(i, copy int) string { return cache.Key("bench-aug", fmt.Sprint(i), fmt.Sprint(copy)) }

	start := time.Now()
	const frozenBatch = 16 // as fit's feature source
	x := make([]float32, frozenBatch*per)
	for c := 0; c < epochs; c++ {
		for s := 0; s < images; s += frozenBatch {
			n := min(frozenBatch, images-s)
			for i := 0; i < n; i++ {
				img := imgs[s+i]
				b := img.Bounds()
				d := fineTuneAug.Sample(augment.RNG(1, fmt.Sprint(s+i), c), b.Dx(), b.Dy())
				if err := model.PreprocessInto(x[i*per:(i+1)*per], d.Apply(img), size, "torch"); err != nil {
					return 0, err
				}
			}
			out := net.ForwardTo(n, x[:n*per], 11)
			for i := 0; i < n; i++ {
				if err := fc.Put(key(s+i, c), out[i*featPer:(i+1)*featPer]); err != nil {
					return 0, err
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 5))
	xb := make([]float32, batch*featPer)
	for e := 0; e < epochs; e++ {
		perm := rng.Perm(images)
		for s := 0; s+batch <= images; s += batch {
			for i := 0; i < batch; i++ {
				f, ok := fc.Get(key(perm[s+i], e))
				if !ok {
					return 0, fmt.Errorf("feature cache lost image %d copy %d", perm[s+i], e)
				}
				copy(xb[i*featPer:], f)
			}
			if err := tr.step(xb); err != nil {
				return 0, err
			}
		}
	}
	return msSince(start), nil
}

// setNativeThreads makes vggo's kernels use n goroutines, as many as
// PyTorch gets threads.
func setNativeThreads(n int) { kernels.SetThreads(n) }
