package nn

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"vggo/kernels"
)

// Solver is a gorgonia.Solver whose whole state is exported, so a
// checkpoint can save it and a resumed run continues bit for bit (gorgonia's
// own solvers keep their moments unexported).
type Solver struct {
	Kind     string  // "adam", "rmsprop" or "sgd"
	LR       float64 // learning rate
	Beta1    float64 // adam: first-moment decay; sgd: momentum
	Beta2    float64 // adam: second-moment decay; rmsprop: rho
	Eps      float64
	Iter     int         // steps taken
	Slots    [][]float32 // first moment (adam), mean square (rmsprop) or velocity (sgd), per parameter
	Slots2   [][]float32 // adam second moment
	GradClip float64     // clip each gradient element to ±GradClip when > 0
}

// NewSolver returns a solver with Keras' defaults for its kind (Adam
// β=0.9/0.999, RMSProp ρ=0.9, SGD momentum 0.9, ε=1e-7).
func NewSolver(kind string, lr float64) (*Solver, error) {
	s := &Solver{Kind: kind, LR: lr, Eps: 1e-7}
	switch kind {
	case "adam":
		s.Beta1, s.Beta2 = 0.9, 0.999
	case "rmsprop":
		s.Beta2 = 0.9
	case "sgd":
		s.Beta1 = 0.9
	default:
		return nil, fmt.Errorf("optimizer %q: want adam, rmsprop or sgd", kind)
	}
	if lr <= 0 || math.IsNaN(lr) {
		return nil, fmt.Errorf("learning rate %g: want > 0", lr)
	}
	return s, nil
}

// Step updates every parameter in place from its gradient.
func (s *Solver) Step(model []G.ValueGrad) error {
	if s.Slots == nil {
		s.Slots = make([][]float32, len(model))
		s.Slots2 = make([][]float32, len(model))
	}
	if len(s.Slots) != len(model) {
		return fmt.Errorf("solver: state for %d parameters, model has %d", len(s.Slots), len(model))
	}
	s.Iter++
	c1 := 1 - math.Pow(s.Beta1, float64(s.Iter))
	c2 := 1 - math.Pow(s.Beta2, float64(s.Iter))
	adam := kernels.Adam{Beta1: float32(s.Beta1), Beta2: float32(s.Beta2), LR: s.LR, Eps: s.Eps, C1: c1, C2: c2}
	if s.GradClip > 0 {
		adam.Clip = float32(s.GradClip)
	}
	for i, vg := range model {
		gv, err := vg.Grad()
		if err != nil {
			return fmt.Errorf("solver: parameter %d has no gradient: %w", i, err)
		}
		w, g := f32(vg.Value()), f32(gv)
		if s.Slots[i] == nil {
			s.Slots[i] = make([]float32, len(w))
			if s.Kind == "adam" {
				s.Slots2[i] = make([]float32, len(w))
			}
		}
		m := s.Slots[i]
		if len(m) != len(w) {
			return fmt.Errorf("solver: parameter %d has %d values, state has %d", i, len(w), len(m))
		}
		switch s.Kind {
		case "adam":
			adam.Update(w, g, m, s.Slots2[i]) // zeroes g too
			continue
		case "rmsprop":
			rho := float32(s.Beta2)
			for j := range w {
				gj := s.clip(g[j])
				m[j] = rho*m[j] + (1-rho)*gj*gj
				w[j] -= float32(s.LR * float64(gj) / (math.Sqrt(float64(m[j])) + s.Eps))
			}
		case "sgd":
			mu := float32(s.Beta1)
			for j := range w {
				m[j] = mu*m[j] - float32(s.LR)*s.clip(g[j])
				w[j] += m[j]
			}
		}
		// The tape machine adds into gradient values; zero them for the
		// next batch, as gorgonia's own solvers do.
		clear(g)
	}
	return nil
}

func (s *Solver) clip(g float32) float32 {
	if s.GradClip > 0 {
		c := float32(s.GradClip)
		return max(-c, min(c, g))
	}
	return g
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
