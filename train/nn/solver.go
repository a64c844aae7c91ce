package nn

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"vggo/model/headtrain"
)

// Solver is a gorgonia.Solver over headtrain.Optimizer (the update rules
// the browser's head training uses too), whose whole state is exported, so a
// checkpoint can save it and a resumed run continues bit for bit (gorgonia's
// own solvers keep their moments unexported).
type Solver struct {
	headtrain.Optimizer
}

// NewSolver returns a solver with Keras' defaults for its kind (Adam
// β=0.9/0.999, RMSProp ρ=0.9, SGD momentum 0.9, ε=1e-7).
func NewSolver(kind string, lr float64) (*Solver, error) {
	o, err := headtrain.NewOptimizer(kind, lr)
	if err != nil {
		return nil, err
	}
	return &Solver{*o}, nil
}

// Step updates every parameter in place from its gradient, then zeroes the
// gradients: the tape machine adds into them, as gorgonia's own solvers
// expect.
func (s *Solver) Step(model []G.ValueGrad) error {
	params, grads := make([][]float32, len(model)), make([][]float32, len(model))
	for i, vg := range model {
		gv, err := vg.Grad()
		if err != nil {
			return fmt.Errorf("solver: parameter %d has no gradient: %w", i, err)
		}
		params[i], grads[i] = f32(vg.Value()), f32(gv)
	}
	if err := s.Update(params, grads); err != nil { // zeroes grads too
		return fmt.Errorf("solver: %w", err)
	}
	return nil
}

// SaveMoments puts the moments into tensors as "m/NNN" and "v/NNN", by
// parameter index. The values are shared, not copied, so the caller writes
// them out before the next Step.
func (s *Solver) SaveMoments(tensors map[string][]float32) {
	for i := range s.Slots {
		tensors[momentName("m", i)] = s.Slots[i]
		if s.Slots2[i] != nil {
			tensors[momentName("v", i)] = s.Slots2[i]
		}
	}
}

// RestoreMoments continues a solver for p after iter steps, with the
// moments SaveMoments put into tensors (none before the first step).
func (s *Solver) RestoreMoments(tensors map[string][]float32, iter int, p *Params) error {
	s.Iter = iter
	if iter == 0 {
		return nil
	}
	s.Slots = make([][]float32, len(p.Tensors))
	s.Slots2 = make([][]float32, len(p.Tensors))
	for i, t := range p.Tensors {
		n := len(t.Float32s())
		s.Slots[i], s.Slots2[i] = tensors[momentName("m", i)], tensors[momentName("v", i)]
		if len(s.Slots[i]) != n || (s.Kind == "adam" && len(s.Slots2[i]) != n) {
			return fmt.Errorf("optimizer state %d missing or wrong size", i)
		}
	}
	return nil
}

func momentName(kind string, i int) string { return fmt.Sprintf("%s/%03d", kind, i) }
