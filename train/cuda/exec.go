//go:build linux

package cuda

import (
	"fmt"

	"vggo/train/nn"
)

// Options are a Runner's settings.
type Options struct {
	// Strict forbids TF32 in cuDNN and cuBLAS: full float32 products, for
	// comparing with the CPU. Off, convolutions may use TF32 tensor cores
	// and matrix products may not, as in PyTorch's defaults.
	Strict bool
	// Workspace caps cuDNN's scratch memory per convolution (default 1 GiB).
	Workspace uint64
	// Adam is the optimizer (training plans).
	Adam Adam
}

// Runner runs a Plan on a Device: every buffer allocated, every descriptor
// and algorithm chosen once, at NewRunner.
type Runner struct {
	d      *Device
	p      *Plan
	opt    Options
	mem    []Buffer
	calls  []func() error
	loss   int // index of the LossOnHost call, len(calls) for inference plans
	ws     Buffer
	wsNeed uint64
	iter   int     // Adam steps taken
	lr     float64 // the current step's learning rate
	// host copies for the loss
	logits, dlogits, targets []float32
	lastLoss                 float32
}

var one, zero = float32(1), float32(0)

// NewRunner prepares p on d.
func NewRunner(d *Device, p *Plan, opt Options) (*Runner, error) {
	if opt.Workspace == 0 {
		opt.Workspace = 1 << 30
	}
	leave, err := d.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	// PyTorch's defaults, matched when not strict: TF32 in cuDNN's
	// convolutions, none in matrix products.
	blasMode := int32(blasDefault)
	if opt.Strict {
		blasMode = blasPedantic
	}
	if err := blasErr("cublasSetMathMode", cublasSetMathMode(d.blas, blasMode)); err != nil {
		return nil, err
	}
	r := &Runner{d: d, p: p, opt: opt, mem: make([]Buffer, len(p.Bufs)), loss: len(p.Calls)}
	for i, b := range p.Bufs {
		if b.Alias >= 0 {
			r.mem[i] = Buffer{Ptr: r.mem[b.Alias].Ptr, N: b.Len()}
			continue
		}
		if r.mem[i], err = alloc(b.Len()); err != nil {
			r.free()
			return nil, fmt.Errorf("buffer %s%v: %w", b.Name, b.Shape, err)
		}
	}
	for i, c := range p.Calls {
		if c.Op == LossOnHost {
			r.loss = i
		}
		f, err := r.prepare(c)
		if err != nil {
			r.free()
			return nil, fmt.Errorf("%s: %w", c.Op, err)
		}
		r.calls = append(r.calls, f)
	}
	if r.ws, err = alloc(int(r.wsNeed+3) / 4); err != nil {
		r.free()
		return nil, fmt.Errorf("cuDNN workspace: %w", err)
	}
	k := p.Spec.Classes
	r.logits, r.dlogits, r.targets = make([]float32, p.Batch*k), make([]float32, p.Batch*k), make([]float32, p.Batch*k)
	return r, nil
}

func (r *Runner) free() {
	for i, b := range r.mem {
		if r.p.Bufs[i].Alias < 0 {
			b.free()
		}
	}
	r.ws.free()
}

// Close frees the device memory.
func (r *Runner) Close() error {
	leave, err := r.d.enter()
	if err != nil {
		return err
	}
	defer leave()
	r.free()
	return nil
}

// Step trains on one batch: x [B,H,W,C] features, targets [B,K] one-hot
// (zero rows for padding), mask the dropout mask (nil without dropout), lr
// this step's learning rate. It returns the batch's loss, computed before
// the update.
func (r *Runner) Step(x, targets, mask []float32, lr float64) (float32, error) {
	if len(r.p.Grads) == 0 {
		return 0, fmt.Errorf("step: the plan was lowered without training")
	}
	if len(targets) != len(r.targets) {
		return 0, fmt.Errorf("step: %d targets, want %d", len(targets), len(r.targets))
	}
	copy(r.targets, targets)
	r.lr = lr
	r.iter++
	if err := r.run(x, mask, len(r.calls)); err != nil {
		r.iter--
		return 0, err
	}
	return r.lastLoss, nil
}

// Forward runs the forward pass on x and returns the logits [B,K] (valid
// until the next call).
func (r *Runner) Forward(x, mask []float32) ([]float32, error) {
	if err := r.run(x, mask, r.loss); err != nil {
		return nil, err
	}
	leave, err := r.d.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	return r.logits, r.mem[r.p.Logits].download(r.logits)
}

func (r *Runner) run(x, mask []float32, upTo int) error {
	leave, err := r.d.enter()
	if err != nil {
		return err
	}
	defer leave()
	if err := r.mem[r.p.Input].upload(x); err != nil {
		return fmt.Errorf("features: %w", err)
	}
	if r.p.Mask >= 0 {
		if err := r.mem[r.p.Mask].upload(mask); err != nil {
			return fmt.Errorf("dropout mask: %w", err)
		}
	}
	for i, f := range r.calls[:upTo] {
		if err := f(); err != nil {
			return fmt.Errorf("call %d (%s): %w", i, r.p.Calls[i].Op, err)
		}
	}
	return cuErr("cuCtxSynchronize", cuCtxSynchronize())
}

// SetParams uploads ps (nn's layouts) into the plan's parameters.
func (r *Runner) SetParams(ps *nn.Params) error {
	return r.transfer(values(ps), r.p.Params, true)
}

// Params downloads the plan's parameters into ps.
func (r *Runner) Params(ps *nn.Params) error {
	return r.transfer(values(ps), r.p.Params, false)
}

// Grads downloads the last step's gradients into gs (shaped as the
// parameters), for comparisons with the CPU trainer.
func (r *Runner) Grads(gs *nn.Params) error {
	return r.transfer(values(gs), r.p.Grads, false)
}

// Logits are the last training step's logits [B,K], before its update.
func (r *Runner) Logits() []float32 { return r.logits }

// SaveSolver writes the Adam state (moments in nn's layouts, steps taken)
// into s, so a checkpoint written from the GPU resumes on the CPU.
func (r *Runner) SaveSolver(s *nn.Solver) error {
	s.Iter = r.iter
	s.Slots, s.Slots2 = make([][]float32, len(r.p.Moments)), make([][]float32, len(r.p.Moments))
	for i, mv := range r.p.Moments {
		s.Slots[i], s.Slots2[i] = make([]float32, r.p.Bufs[mv[0]].Len()), make([]float32, r.p.Bufs[mv[1]].Len())
	}
	if err := r.transfer(s.Slots, firsts(r.p.Moments), false); err != nil {
		return err
	}
	return r.transfer(s.Slots2, seconds(r.p.Moments), false)
}

// LoadSolver continues from the CPU solver s (nil moments before its first
// step).
func (r *Runner) LoadSolver(s *nn.Solver) error {
	if s.Kind != "adam" {
		return fmt.Errorf("the GPU path has Adam only, not %s", s.Kind)
	}
	r.iter = s.Iter
	if s.Iter == 0 {
		return nil
	}
	if err := r.transfer(s.Slots, firsts(r.p.Moments), true); err != nil {
		return err
	}
	return r.transfer(s.Slots2, seconds(r.p.Moments), true)
}

func values(ps *nn.Params) [][]float32 {
	v := make([][]float32, len(ps.Tensors))
	for i, t := range ps.Tensors {
		v[i] = t.Float32s()
	}
	return v
}

func firsts(p [][2]int) []int {
	var s []int
	for _, x := range p {
		s = append(s, x[0])
	}
	return s
}

func seconds(p [][2]int) []int {
	var s []int
	for _, x := range p {
		s = append(s, x[1])
	}
	return s
}

// transfer copies host tensors (nn layouts) to or from the device buffers
// bufs, transposing conv kernels (the rank-4 ones).
func (r *Runner) transfer(host [][]float32, bufs []int, up bool) error {
	if len(host) != len(bufs) {
		return fmt.Errorf("%d tensors for %d device buffers", len(host), len(bufs))
	}
	leave, err := r.d.enter()
	if err != nil {
		return err
	}
	defer leave()
	for i, v := range host {
		b, buf := r.mem[bufs[i]], r.p.Bufs[bufs[i]]
		if len(v) != b.N {
			return fmt.Errorf("%s: %d values on the host, %d on the device", buf.Name, len(v), b.N)
		}
		conv := len(buf.Shape) == 4
		cout, cin := buf.Shape[0], buf.Shape[len(buf.Shape)-1]
		switch {
		case up && conv:
			err = b.upload(hwioToKRSC(v, cin, cout))
		case up:
			err = b.upload(v)
		case conv:
			tmp := make([]float32, b.N)
			if err = b.download(tmp); err == nil {
				krscToHWIO(tmp, cin, cout, v)
			}
		default:
			err = b.download(v)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", buf.Name, err)
		}
	}
	return nil
}
