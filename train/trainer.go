package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"vggo/model"
	"vggo/model/headtrain"
	"vggo/train/checkpoint"
	"vggo/train/nn"
	"vggo/train/report"
)

// trainer is a run's trainable state across epochs: the graphs, the live
// and best parameters, the optimizer, and the run state that checkpoints
// hold.
type trainer struct {
	c                *fitConfig
	pr               *prepared
	params, best     *nn.Params
	solver           *nn.Solver
	trainG, evalG    nn.Runner // headtrain's step when only the head trains, else gorgonia graphs
	st               *checkpoint.State
	ckptPath         string
	stdout, progress io.Writer
	warn             io.Writer // unreadable images, named

	per                 int // values per cached feature
	x, targets, mask    []float32
	classes, batches, n int // class count, batches per epoch, training images
}

// newTrainer builds the graphs over fresh parameters (the head continues
// from --weights' when that is an earlier run's model on the same classes).
func newTrainer(c *fitConfig, pr *prepared, ckptPath string, stdout, progress, warn io.Writer) (*trainer, error) {
	spec := pr.spec
	params := spec.InitParams(pr.base, c.Seed)
	fmt.Fprintf(stdout, "head: %s\n", headLayers(spec))
	if pr.from != nil {
		warmStartHead(c, pr, params, stdout)
	}
	trainG, err := spec.NewRunner(params, c.Batch, true)
	if err != nil {
		return nil, err
	}
	evalG, err := spec.NewRunner(params, c.Batch, false)
	if err != nil {
		return nil, err
	}
	solver, err := nn.NewSolver(c.Optimizer, c.LR)
	if err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	in := spec.InputShape()
	t := &trainer{c: c, pr: pr, params: params, best: params.Clone(), solver: solver, trainG: trainG, evalG: evalG,
		st:       &checkpoint.State{Config: c.fingerprint(), DataDigest: sampleDigest(pr.train, pr.val), BestValLoss: math.Inf(1)},
		ckptPath: ckptPath, stdout: stdout, progress: progress, warn: warn,
		per: in[0] * in[1] * in[2], classes: len(pr.ds.Classes), n: len(pr.train.Samples)}
	t.batches = (t.n + c.Batch - 1) / c.Batch
	t.x = make([]float32, c.Batch*t.per)
	t.targets = make([]float32, c.Batch*t.classes)
	if n := trainG.MaskLen(); n > 0 {
		t.mask = make([]float32, n)
	}
	return t, nil
}

// headLayers describes the head, e.g. "gap: GAP → 256 → dropout 0.2 → 10 classes".
func headLayers(spec nn.Spec) string {
	parts := []string{"GAP"}
	if spec.Head == model.HeadSeed {
		parts[0] = "flatten"
	}
	for _, h := range spec.Hidden {
		parts = append(parts, strconv.Itoa(h))
	}
	if len(spec.Hidden) > 0 && spec.Dropout > 0 {
		parts = append(parts, fmt.Sprintf("dropout %g", spec.Dropout))
	}
	return spec.Head + ": " + strings.Join(append(parts, fmt.Sprintf("%d classes", spec.Classes)), " → ")
}

// warmStartHead keeps the classifier of the earlier run's model given as
// --weights when it was trained on the same classes, in the same order.
func warmStartHead(c *fitConfig, pr *prepared, params *nn.Params, stdout io.Writer) {
	var err error
	if !slices.Equal(pr.from.Info.Classes, pr.ds.Classes) {
		err = fmt.Errorf("its classes %v differ from the dataset's %v", pr.from.Info.Classes, pr.ds.Classes)
	} else {
		err = pr.spec.LoadHead(params, &pr.from.Head) // copies nothing when it fails
	}
	if err != nil {
		fmt.Fprintf(stdout, "head: new, not %s's (%v)\n", c.Weights, err)
	} else {
		fmt.Fprintf(stdout, "head: continues from %s\n", c.Weights)
	}
}

// resume continues from a checkpoint of a run with the same settings.
func (t *trainer) resume(st *checkpoint.State) error {
	if st.DataDigest != t.st.DataDigest {
		return fmt.Errorf("%s: the training or validation images changed since the checkpoint was written (files added, removed or unreadable); start a new run", t.ckptPath)
	}
	if err := t.restore(st); err != nil {
		return fmt.Errorf("%s: %w", t.ckptPath, err)
	}
	t.st = st
	fmt.Fprintf(t.stdout, "resuming after epoch %d (batch %d) from %s\n", st.Epoch, st.Batch, t.ckptPath)
	if st.Epoch > 0 && st.Batch == 0 {
		if _, err := os.Stat(t.snapshotPath(st.Epoch)); errors.Is(err, fs.ErrNotExist) {
			return t.snapshot(st.Epoch) // killed between checkpoint and snapshot
		}
	}
	return nil
}

func (t *trainer) restore(st *checkpoint.State) error {
	if err := t.params.Restore(st.Tensors, "param/"); err != nil {
		return err
	}
	if err := t.best.Restore(st.Tensors, "best/"); err != nil {
		return err
	}
	if st.SolverKind != t.solver.Kind {
		return fmt.Errorf("optimizer %s in checkpoint, %s now", st.SolverKind, t.solver.Kind)
	}
	return t.solver.RestoreMoments(st.Tensors, st.SolverIter, t.params)
}

// save writes the checkpoint: the run state, the live and best parameters
// and the optimizer's moments.
func (t *trainer) save() error {
	st, s := t.st, t.solver
	st.Tensors = map[string][]float32{}
	t.params.Save(st.Tensors, "param/")
	t.best.Save(st.Tensors, "best/")
	s.SaveMoments(st.Tensors)
	st.SolverKind, st.SolverIter = s.Kind, s.Iter
	return checkpoint.Save(t.ckptPath, st)
}

// run trains the remaining epochs, saving a checkpoint after each, until
// the last, early stopping, or ctx's cancellation (then errInterrupted,
// after a checkpoint); it ends with the best epoch's weights in params.
func (t *trainer) run(ctx context.Context, res *fitResult) error {
	c, st, pr := t.c, t.st, t.pr
	stopped := st.History.StoppedEarly // a resumed run that had stopped early stays stopped
	for epoch := st.Epoch + 1; epoch <= c.Epochs && !stopped; epoch++ {
		start := time.Now()
		hitsBefore := pr.cache.Hits.Load()
		lossSum, correct, seen, err := t.trainEpoch(ctx, epoch)
		if err != nil {
			return err
		}
		res.EpochHits = append(res.EpochHits, pr.cache.Hits.Load()-hitsBefore)
		ev, err := evaluateSet(t.evalG, pr.cache, pr.val, pr.ds.Classes, t.per, c.Batch, newBar(len(pr.val.Samples), "validation", t.progress))
		if err != nil {
			return err
		}
		e := report.Epoch{Epoch: epoch, TrainLoss: lossSum / float64(seen), TrainAcc: float64(correct) / float64(seen),
			ValLoss: ev.loss, ValAcc: ev.conf.Accuracy(), Seconds: time.Since(start).Seconds()}
		fmt.Fprintf(t.stdout, "epoch %d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f  (%.1fs)\n",
			epoch, c.Epochs, e.TrainLoss, e.TrainAcc, e.ValLoss, e.ValAcc, e.Seconds)
		stopped = t.record(e)
		if c.scoreOnly {
			continue
		}
		if err := t.save(); err != nil {
			return err
		}
		if err := t.snapshot(epoch); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return errInterrupted
		}
	}
	if st.BestEpoch > 0 {
		t.params.CopyFrom(t.best)
	}
	return nil
}

// snapshot writes the epoch's live weights as OUT/epoch-N.safetensors
// when --snapshots asks for them. It runs after the epoch's checkpoint;
// a run killed in between writes the missing snapshot when resumed
// (resume calls it while the live weights are still that epoch's).
func (t *trainer) snapshot(epoch int) error {
	if !t.c.Snapshots {
		return nil
	}
	path := t.snapshotPath(epoch)
	m := exportModel(t.c, t.pr.spec, t.pr.base, t.params, t.pr.ds.Classes)
	if err := model.WriteModelFile(path, m, t.c.Export); err != nil {
		return err
	}
	fmt.Fprintf(t.stdout, "snapshot %s\n", path)
	return nil
}

func (t *trainer) snapshotPath(epoch int) string {
	return filepath.Join(t.c.Out, fmt.Sprintf("epoch-%d.safetensors", epoch))
}

// trainEpoch runs epoch's batches from st.Batch on and returns its sums
// (loss·n, correct, n). Cancelled before the last batch, it saves a
// checkpoint at the batch reached and returns errInterrupted; cancelled at
// the last, it completes the epoch (the caller saves and stops).
func (t *trainer) trainEpoch(ctx context.Context, epoch int) (lossSum float64, correct, seen int, err error) {
	c, st := t.c, t.st
	perm := headtrain.EpochOrder(c.Seed, epoch, t.n)
	lossSum, correct, seen = st.PartLoss, st.PartCorrect, st.PartN
	bar := newBar(t.n, fmt.Sprintf("epoch %d/%d", epoch, c.Epochs), t.progress)
	bar.AddFree(min(st.Batch*c.Batch, t.n))
	for b := st.Batch; b < t.batches; b++ {
		idx := perm[b*c.Batch : min((b+1)*c.Batch, t.n)]
		loss, err := t.step(epoch, b, idx)
		if err != nil {
			return 0, 0, 0, err
		}
		lossSum += float64(loss) * float64(len(idx))
		correct += headtrain.CountCorrect(t.trainG.LogitsValue(), t.targets, len(idx), t.classes)
		seen += len(idx)
		bar.Describe(fmt.Sprintf("loss %.4f", lossSum/float64(seen)))
		bar.Add(len(idx))
		if ctx.Err() != nil && b+1 < t.batches {
			st.Batch, st.PartLoss, st.PartCorrect, st.PartN = b+1, lossSum, correct, seen
			if err := t.save(); err != nil {
				return 0, 0, 0, err
			}
			return 0, 0, 0, errInterrupted
		}
	}
	bar.Finish()
	return lossSum, correct, seen, nil
}

// step trains on batch b of epoch, the training samples idx.
func (t *trainer) step(epoch, b int, idx []int) (float32, error) {
	c := t.c
	if err := fillBatch(t.pr.cache, t.pr.train, idx, (epoch-1)%c.AugCopies, t.per, t.classes, t.x, t.targets); err != nil {
		return 0, err
	}
	headtrain.SmoothLabels(t.targets, len(idx), t.classes, c.LabelSmoothing)
	if t.mask != nil {
		headtrain.DropoutMask(t.mask, c.Dropout, c.Seed, epoch, b)
	}
	loss, err := t.trainG.Step(t.x, t.targets, t.mask)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(float64(loss)) {
		return 0, fmt.Errorf("epoch %d batch %d: loss is NaN (learning rate %g too high?)", epoch, b+1, t.solver.LR)
	}
	t.solver.LR = c.lrAt((epoch-1)*t.batches+b, t.batches)
	return loss, t.solver.Step(t.trainG.ValueGrads())
}

// record adds a finished epoch to the history and the early-stopping
// state, keeping the best weights, and reports whether to stop. Early
// stopping watches the validation loss, or the training loss when there is
// no validation split (--val 0).
func (t *trainer) record(e report.Epoch) (stop bool) {
	st := t.st
	st.History.Epochs = append(st.History.Epochs, e)
	monitored := e.ValLoss
	if len(t.pr.val.Samples) == 0 {
		monitored = e.TrainLoss
	}
	if monitored < st.BestValLoss {
		st.BestValLoss, st.BestEpoch, st.BadEpochs = monitored, e.Epoch, 0
		t.best.CopyFrom(t.params)
	} else {
		st.BadEpochs++
		if t.c.Patience > 0 && st.BadEpochs >= t.c.Patience {
			fmt.Fprintf(t.stdout, "early stopping: no lower validation loss for %d epochs; restoring epoch %d\n", st.BadEpochs, st.BestEpoch)
			st.History.StoppedEarly = true
			stop = true
		}
	}
	st.History.BestEpoch = st.BestEpoch
	st.Epoch, st.Batch, st.PartLoss, st.PartCorrect, st.PartN = e.Epoch, 0, 0, 0, 0
	return stop
}
