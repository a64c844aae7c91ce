package headtrain

import (
	"fmt"
	"math"
	"math/rand/v2"

	"vggo/kernels"
	"vggo/model"
)

// Optimizer updates parameters from their gradients. Its whole state is
// exported, so a checkpoint can save it and a resumed run continues bit for
// bit. train/nn's Solver wraps it for gorgonia's graphs.
type Optimizer struct {
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

// NewOptimizer returns an optimizer with Keras' defaults for its kind (Adam
// β=0.9/0.999, RMSProp ρ=0.9, SGD momentum 0.9, ε=1e-7).
func NewOptimizer(kind string, lr float64) (*Optimizer, error) {
	s := &Optimizer{Kind: kind, LR: lr, Eps: 1e-7}
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

// Update takes one step, params[i] -= update(grads[i]), then zeroes the
// gradients (gorgonia's tape machine adds into them). Adam runs as
// kernels.Adam: threaded and SIMD, bit for bit the scalar loop it replaced.
func (s *Optimizer) Update(params, grads [][]float32) error {
	if s.Slots == nil {
		s.Slots = make([][]float32, len(params))
		s.Slots2 = make([][]float32, len(params))
	}
	if len(s.Slots) != len(params) || len(grads) != len(params) {
		return fmt.Errorf("optimizer: state for %d parameters, %d parameters, %d gradients", len(s.Slots), len(params), len(grads))
	}
	s.Iter++
	c1 := 1 - math.Pow(s.Beta1, float64(s.Iter))
	c2 := 1 - math.Pow(s.Beta2, float64(s.Iter))
	adam := kernels.Adam{Beta1: float32(s.Beta1), Beta2: float32(s.Beta2), LR: s.LR, Eps: s.Eps, C1: c1, C2: c2, Clip: float32(max(s.GradClip, 0))}
	for i, w := range params {
		g := grads[i]
		if len(g) != len(w) {
			return fmt.Errorf("optimizer: parameter %d has %d values, its gradient %d", i, len(w), len(g))
		}
		if s.Slots[i] == nil {
			s.Slots[i] = make([]float32, len(w))
			if s.Kind == "adam" {
				s.Slots2[i] = make([]float32, len(w))
			}
		}
		m := s.Slots[i]
		if len(m) != len(w) {
			return fmt.Errorf("optimizer: parameter %d has %d values, state has %d", i, len(w), len(m))
		}
		switch s.Kind {
		case "adam":
			adam.Update(w, g, m, s.Slots2[i]) // zeroes g
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
		default:
			return fmt.Errorf("optimizer %q: want adam, rmsprop or sgd", s.Kind)
		}
		clear(g)
	}
	return nil
}

func (s *Optimizer) clip(g float32) float32 {
	if s.GradClip > 0 {
		c := float32(s.GradClip)
		return max(-c, min(c, g))
	}
	return g
}

// EpochOrder is the order in which epoch (1-based) visits n training
// samples: a permutation seeded by (seed, epoch), the same natively and in
// the browser.
func EpochOrder(seed uint64, epoch, n int) []int {
	return rand.New(rand.NewPCG(seed, uint64(epoch))).Perm(n)
}

// DropoutMask fills mask for batch b (0-based) of epoch (1-based) with an
// inverted-dropout mask: 0 with probability rate, else 1/(1−rate), from a
// generator seeded by (seed, epoch, b).
func DropoutMask(mask []float32, rate float64, seed uint64, epoch, b int) {
	rng := rand.New(rand.NewPCG(seed^0xd0d0, uint64(epoch)<<32|uint64(b)))
	keep := float32(1 / (1 - rate))
	for i := range mask {
		if rng.Float64() < rate {
			mask[i] = 0
		} else {
			mask[i] = keep
		}
	}
}

// InitDense initialises dense layers of the given (in, out) sizes from rng:
// He-normal for the ReLU layers, Glorot-uniform for the last (softmax)
// layer, zero biases, in that draw order.
func InitDense(rng *rand.Rand, sizes [][2]int) []model.DenseParams {
	var out []model.DenseParams
	for i, io := range sizes {
		k := make([]float32, io[0]*io[1])
		if i < len(sizes)-1 {
			std := math.Sqrt(2 / float64(io[0]))
			for j := range k {
				k[j] = float32(rng.NormFloat64() * std)
			}
		} else {
			lim := math.Sqrt(6 / float64(io[0]+io[1]))
			for j := range k {
				k[j] = float32((2*rng.Float64() - 1) * lim)
			}
		}
		out = append(out, model.DenseParams{In: io[0], Out: io[1], Kernel: k, Bias: make([]float32, io[1])})
	}
	return out
}

// InitRand is the generator the native trainer initialises parameters
// from (train/nn's Spec.InitParams): with a frozen base, the head's layers
// are its first draws.
func InitRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6e6e)) }
