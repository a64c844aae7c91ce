package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"vggo/model"
	"vggo/model/headtrain"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func maxAbsDiff(a, b []float32) (d, scale float64) {
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		scale = math.Max(scale, math.Abs(float64(b[i])))
	}
	return d, scale
}

// nhwcToNCHW and hwioToOIHW convert to gorgonia's built-in layouts.
func nhwcToNCHW(n, h, w, c int, x []float32) []float32 {
	out := make([]float32, len(x))
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				for ch := 0; ch < c; ch++ {
					out[((b*c+ch)*h+y)*w+xx] = x[((b*h+y)*w+xx)*c+ch]
				}
			}
		}
	}
	return out
}

func hwioToOIHW(cin, cout int, k []float32) []float32 {
	out := make([]float32, len(k))
	for ky := 0; ky < 3; ky++ {
		for kx := 0; kx < 3; kx++ {
			for i := 0; i < cin; i++ {
				for o := 0; o < cout; o++ {
					out[((o*cin+i)*3+ky)*3+kx] = k[((ky*3+kx)*cin+i)*cout+o]
				}
			}
		}
	}
	return out
}

func tdense(data []float32, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// projectedGrads builds loss = Σ R ⊙ f(inputs) and returns the output and
// the gradients w.r.t. the inputs, run on a tape machine.
func projectedGrads(t *testing.T, inputs []*tensor.Dense, r []float32, f func(g *G.ExprGraph, in G.Nodes) (*G.Node, error)) ([]float32, [][]float32) {
	t.Helper()
	g := G.NewGraph()
	var nodes G.Nodes
	for i, v := range inputs {
		nodes = append(nodes, G.NodeFromAny(g, v, G.WithName(string(rune('a'+i)))))
	}
	out, err := f(g, nodes)
	if err != nil {
		t.Fatal(err)
	}
	rn := G.NodeFromAny(g, tdense(r, out.Shape()...), G.WithName("r"))
	prod, err := G.HadamardProd(out, rn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := G.Sum(prod)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var gs [][]float32
	for _, gr := range grads {
		gs = append(gs, append([]float32(nil), f32(gr.Value())...))
	}
	return append([]float32(nil), f32(out.Value())...), gs
}

// TestConvAgainstGorgoniaConv2d compares the custom conv op (forward and
// both gradients) with gorgonia's built-in NCHW Conv2d on the same data,
// on shapes for each algorithm the op's layer picks: direct (3 input
// channels), Winograd F(4x4) and F(2x2).
func TestConvAgainstGorgoniaConv2d(t *testing.T) {
	for _, sh := range [][5]int{{2, 5, 6, 3, 4}, {2, 8, 8, 16, 20}, {1, 4, 4, 24, 16}} {
		t.Run(fmt.Sprint(sh), func(t *testing.T) { checkConvAgainstGorgonia(t, sh[0], sh[1], sh[2], sh[3], sh[4]) })
	}
}

func checkConvAgainstGorgonia(t *testing.T, n, h, w, cin, cout int) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, k := randSlice(rng, n*h*w*cin), randSlice(rng, 9*cin*cout)
	zero := make([]float32, cout)
	r := randSlice(rng, n*h*w*cout)
	mineY, mineG := projectedGrads(t, []*tensor.Dense{tdense(x, n, h, w, cin), tdense(k, 3, 3, cin, cout), tdense(zero, cout)}, r,
		func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return Conv3x3(in[0], in[1], in[2], false) })
	refY, refG := projectedGrads(t, []*tensor.Dense{tdense(nhwcToNCHW(n, h, w, cin, x), n, cin, h, w), tdense(hwioToOIHW(cin, cout, k), cout, cin, 3, 3)},
		nhwcToNCHW(n, h, w, cout, r),
		func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
			return G.Conv2d(in[0], in[1], tensor.Shape{3, 3}, []int{1, 1}, []int{1, 1}, []int{1, 1})
		})
	check := func(name string, got, want []float32) {
		d, s := maxAbsDiff(got, want)
		if d > 1e-4*math.Max(1, s) {
			t.Errorf("%s: max |diff| %g (scale %g)", name, d, s)
		}
	}
	check("forward", nhwcToNCHW(n, h, w, cout, mineY), refY)
	check("dx", nhwcToNCHW(n, h, w, cin, mineG[0]), refG[0])
	check("dkernel", hwioToOIHW(cin, cout, mineG[1]), refG[1])
	// dbias = Σ R over N, H, W.
	db := make([]float32, cout)
	for i, v := range r {
		db[i%cout] += v
	}
	check("dbias", mineG[2], db)
}

// TestMaxPoolAgainstGorgonia compares with gorgonia's MaxPool2D.
func TestMaxPoolAgainstGorgonia(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, h, w, c = 2, 4, 6, 3
	x := randSlice(rng, n*h*w*c)
	r := randSlice(rng, n*(h/2)*(w/2)*c)
	mineY, mineG := projectedGrads(t, []*tensor.Dense{tdense(x, n, h, w, c)}, r,
		func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return MaxPool2x2(in[0]) })
	refY, refG := projectedGrads(t, []*tensor.Dense{tdense(nhwcToNCHW(n, h, w, c, x), n, c, h, w)}, nhwcToNCHW(n, h/2, w/2, c, r),
		func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
			return G.MaxPool2D(in[0], tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2})
		})
	if d, _ := maxAbsDiff(nhwcToNCHW(n, h/2, w/2, c, mineY), refY); d != 0 {
		t.Errorf("forward differs by %g", d)
	}
	if d, _ := maxAbsDiff(nhwcToNCHW(n, h, w, c, mineG[0]), refG[0]); d > 1e-6 {
		t.Errorf("dx differs by %g", d)
	}
}

// TestOpsFiniteDifferences checks every custom op's gradient against
// central differences of its own forward pass, in float64 accumulation.
func TestOpsFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	tests := []struct {
		name   string
		shapes [][]int
		out    []int
		f      func(g *G.ExprGraph, in G.Nodes) (*G.Node, error)
	}{
		{"conv+relu", [][]int{{1, 4, 3, 2}, {3, 3, 2, 3}, {3}}, []int{1, 4, 3, 3},
			func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return Conv3x3(in[0], in[1], in[2], true) }},
		{"dense+relu", [][]int{{3, 5}, {5, 4}, {4}}, []int{3, 4},
			func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return Dense(in[0], in[1], in[2], true) }},
		{"gap", [][]int{{2, 3, 2, 4}}, []int{2, 4},
			func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return GlobalAvgPool(in[0]) }},
		{"flatten", [][]int{{2, 2, 2, 3}}, []int{2, 12},
			func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return Flatten(in[0]) }},
		{"maxpool", [][]int{{1, 4, 4, 2}}, []int{1, 2, 2, 2},
			func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return MaxPool2x2(in[0]) }},
	}
	for _, tc := range tests {
		var inputs []*tensor.Dense
		for _, s := range tc.shapes {
			n := 1
			for _, d := range s {
				n *= d
			}
			inputs = append(inputs, tdense(randSlice(rng, n), s...))
		}
		nOut := 1
		for _, d := range tc.out {
			nOut *= d
		}
		r := randSlice(rng, nOut)
		_, grads := projectedGrads(t, inputs, r, tc.f)
		lossAt := func() float64 {
			y, _ := projectedGrads(t, inputs, r, tc.f)
			s := 0.0
			for i := range y {
				s += float64(y[i]) * float64(r[i])
			}
			return s
		}
		const eps = 1e-2
		for i, in := range inputs {
			data := in.Float32s()
			for j := range data {
				orig := data[j]
				data[j] = orig + eps
				lp := lossAt()
				data[j] = orig - eps
				lm := lossAt()
				data[j] = orig
				fd := (lp - lm) / (2 * eps)
				if math.Abs(fd-float64(grads[i][j])) > 2e-2*math.Max(1, math.Abs(fd)) {
					t.Errorf("%s: input %d element %d: analytic %g, finite difference %g", tc.name, i, j, grads[i][j], fd)
				}
			}
		}
	}
}

// TestSoftmaxCrossEntropy checks the loss value against float64 and its
// gradient (softmax − target)/rows, with a zero padding row ignored.
func TestSoftmaxCrossEntropy(t *testing.T) {
	logits := []float32{1, 2, 3, 0, 0, 0, 5, -5, 0}
	targets := []float32{0, 0, 1, 1, 0, 0, 0, 0, 0} // third row is padding
	g := G.NewGraph()
	l := G.NodeFromAny(g, tdense(logits, 3, 3), G.WithName("l"))
	tt := G.NodeFromAny(g, tdense(targets, 3, 3), G.WithName("t"))
	loss, err := SoftmaxCrossEntropy(l, tt)
	if err != nil {
		t.Fatal(err)
	}
	grads, err := G.Grad(loss, l)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var want float64
	wantG := make([]float64, 9)
	for r := 0; r < 2; r++ {
		z := 0.0
		for j := 0; j < 3; j++ {
			z += math.Exp(float64(logits[r*3+j]))
		}
		for j := 0; j < 3; j++ {
			p := math.Exp(float64(logits[r*3+j])) / z
			want -= float64(targets[r*3+j]) * math.Log(p) / 2
			wantG[r*3+j] = (p - float64(targets[r*3+j])) / 2
		}
	}
	if got := f32(loss.Value())[0]; math.Abs(float64(got)-want) > 1e-6 {
		t.Errorf("loss %g, want %g", got, want)
	}
	for i, v := range f32(grads[0].Value()) {
		if math.Abs(float64(v)-wantG[i]) > 1e-6 {
			t.Errorf("grad[%d] = %g, want %g", i, v, wantG[i])
		}
	}
}

// fakeVG is a parameter with a fixed gradient, for solver tests.
type fakeVG struct{ w, g *tensor.Dense }

func (f fakeVG) Value() G.Value         { return f.w }
func (f fakeVG) Grad() (G.Value, error) { return f.g, nil }

// TestAdamMatchesGorgonia runs our Adam and gorgonia's side by side.
func TestAdamMatchesGorgonia(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	w0 := randSlice(rng, 10)
	mine := &Solver{headtrain.Optimizer{Kind: "adam", LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}}
	theirs := G.NewAdamSolver(G.WithLearnRate(0.01), G.WithEps(1e-8), G.WithBatchSize(1))
	a := fakeVG{tdense(append([]float32(nil), w0...), 10), tdense(make([]float32, 10), 10)}
	b := fakeVG{tdense(append([]float32(nil), w0...), 10), tdense(make([]float32, 10), 10)}
	for step := 0; step < 5; step++ {
		g := randSlice(rng, 10)
		copy(a.g.Float32s(), g)
		copy(b.g.Float32s(), g)
		if err := mine.Step([]G.ValueGrad{a}); err != nil {
			t.Fatal(err)
		}
		if err := theirs.Step([]G.ValueGrad{b}); err != nil { // gorgonia zeroes b.g as we zero a.g
			t.Fatal(err)
		}
		if d, _ := maxAbsDiff(a.w.Float32s(), b.w.Float32s()); d > 1e-5 {
			t.Fatalf("step %d: weights differ by %g", step, d)
		}
	}
}

// TestSGDAndRMSProp checks two steps against the formulas in float64.
func TestSGDAndRMSProp(t *testing.T) {
	for _, kind := range []string{"sgd", "rmsprop"} {
		s, err := NewSolver(kind, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		p := fakeVG{tdense([]float32{1}, 1), tdense([]float32{0.5}, 1)}
		w, state := 1.0, 0.0
		for step := 0; step < 2; step++ {
			p.g.Float32s()[0] = 0.5
			s.Step([]G.ValueGrad{p})
			g := 0.5
			if kind == "sgd" {
				state = 0.9*state - 0.1*g
				w += state
			} else {
				state = 0.9*state + 0.1*g*g
				w -= 0.1 * g / (math.Sqrt(state) + 1e-7)
			}
			if got := p.w.Float32s()[0]; math.Abs(float64(got)-w) > 1e-6 {
				t.Errorf("%s step %d: w=%g want %g", kind, step, got, w)
			}
		}
	}
	if _, err := NewSolver("lbfgs", 0.1); err == nil {
		t.Error("unknown optimizer accepted")
	}
}

// TestTrainingReducesLoss trains the top of a tiny VGG on a synthetic
// two-class problem and checks the loss falls and the eval graph, sharing
// the parameters, sees the updated weights.
func TestTrainingReducesLoss(t *testing.T) {
	spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: 11, Head: model.HeadGAP, Hidden: []int{16}, Classes: 2, Dropout: 0.2}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	in := spec.InputShape()
	if in != [3]int{2, 2, 32} {
		t.Fatalf("input shape %v", in)
	}
	p := spec.InitParams(nil, 1)
	const b = 8
	train, err := spec.Build(p, b, true)
	if err != nil {
		t.Fatal(err)
	}
	eval, err := spec.Build(p, b, false)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	per := in[0] * in[1] * in[2]
	x := make([]float32, b*per)
	tg := make([]float32, b*2)
	for i := 0; i < b; i++ {
		c := i % 2
		tg[i*2+c] = 1
		for j := 0; j < per; j++ {
			x[i*per+j] = float32(rng.NormFloat64()*0.3) + float32(c)*float32(j%3)*0.5
		}
	}
	mask := make([]float32, b*16)
	for i := range mask {
		mask[i] = 1
	}
	solver, _ := NewSolver("adam", 0.01)
	first, err := eval.Step(x, tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for it := 0; it < 30; it++ {
		if _, err := train.Step(x, tg, mask); err != nil {
			t.Fatal(err)
		}
		if err := solver.Step(train.ValueGrads()); err != nil {
			t.Fatal(err)
		}
	}
	last, err := eval.Step(x, tg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(last < first*0.5) {
		t.Fatalf("loss %g → %g: did not halve", first, last)
	}
}

// TestGradientsDoNotAccumulate runs the same batch twice with a solver
// step (of negligible size) between and expects the same gradient: the
// tape machine adds into gradient values, so the solver must zero them.
func TestGradientsDoNotAccumulate(t *testing.T) {
	spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: model.ConvLayers, Head: model.HeadLinear, Classes: 2}
	p := spec.InitParams(nil, 1)
	g, err := spec.Build(p, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4*32)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	tg := []float32{1, 0, 0, 1, 1, 0, 0, 1}
	s, _ := NewSolver("sgd", 1e-30)
	var first []float32
	for i := 0; i < 3; i++ {
		if _, err := g.Step(x, tg, nil); err != nil {
			t.Fatal(err)
		}
		gv, _ := g.ValueGrads()[0].Grad()
		if i == 0 {
			first = append([]float32(nil), f32(gv)...)
		} else if d, _ := maxAbsDiff(f32(gv), first); d > 1e-6 {
			t.Fatalf("run %d: gradient differs from the first by %g", i+1, d)
		}
		if err := s.Step(g.ValueGrads()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLoadHead copies one initialisation's head into another's parameters
// and refuses a head of another shape without touching the parameters.
func TestLoadHead(t *testing.T) {
	spec := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: 11, Head: model.HeadGAP, Hidden: []int{16}, Classes: 3}
	src, dst := spec.InitParams(nil, 1), spec.InitParams(nil, 2)
	var h model.Head
	h.Kind = model.HeadGAP
	for i := 4; i < len(src.Tensors); i += 2 {
		h.Dense = append(h.Dense, model.DenseParams{In: src.Shapes[i][0], Out: src.Shapes[i][1], Kernel: src.Tensors[i].Float32s(), Bias: src.Tensors[i+1].Float32s()})
	}
	if err := spec.LoadHead(dst, &h); err != nil {
		t.Fatal(err)
	}
	for i := range dst.Tensors {
		same := slices.Equal(dst.Tensors[i].Float32s(), src.Tensors[i].Float32s())
		switch {
		case i >= 4 && !same:
			t.Errorf("%s: not copied from the source head", dst.Names[i])
		case i < 4 && i%2 == 0 && same: // conv kernels (the biases start at zero in both)
			t.Errorf("%s: the conv layers changed too", dst.Names[i])
		}
	}
	other := spec
	other.Classes = 4
	before := slices.Clone(dst.Tensors[len(dst.Tensors)-2].Float32s())
	if err := other.LoadHead(dst, &h); err == nil || !strings.Contains(err.Error(), "dense2") {
		t.Errorf("3-class head into a 4-class spec: %v", err)
	}
	if !slices.Equal(before, dst.Tensors[len(dst.Tensors)-2].Float32s()) {
		t.Error("a refused head changed the parameters")
	}
}

// TestSpecValidate: each bad field is refused, and what a model file also
// records is refused in model's own words.
func TestSpecValidate(t *testing.T) {
	good := Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: 11, Head: model.HeadGAP, Hidden: []int{16}, Classes: 2, Dropout: 0.2}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"boundary", func(s *Spec) { s.Boundary = model.ConvLayers + 1 }, "freeze boundary 14: want 0..13"},
		{"classes", func(s *Spec) { s.Classes = 1 }, "1 classes: need at least 2"},
		{"dropout", func(s *Spec) { s.Dropout = 1 }, "dropout 1: want [0, 1)"},
		{"input size", func(s *Spec) { s.InputSize = 100 }, model.ValidateInputSize(100).Error()},
		{"width", func(s *Spec) { s.Arch.WidthDiv = 3 }, model.Arch{WidthDiv: 3}.Validate().Error()},
		{"head", func(s *Spec) { s.Head = "mlp" }, model.ValidateHead("mlp").Error()},
	}
	for _, c := range cases {
		s := good
		c.edit(&s)
		if err := s.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}
