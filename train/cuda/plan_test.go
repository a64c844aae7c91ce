package cuda

import (
	"slices"
	"strings"
	"testing"

	"vggo/model"
	"vggo/train/nn"
)

func testSpec(t *testing.T, boundary int, head string, dropout float64) nn.Spec {
	t.Helper()
	hidden, err := nn.DefaultHidden(head, 16)
	if err != nil {
		t.Fatal(err)
	}
	return nn.Spec{Arch: model.Arch{WidthDiv: 16}, InputSize: 32, Boundary: boundary, Head: head, Hidden: hidden, Classes: 3, Dropout: dropout}
}

func ops(p *Plan) []string {
	var s []string
	for _, c := range p.Calls {
		s = append(s, c.Op.String())
	}
	return s
}

func adams(n int) []string { return slices.Repeat([]string{"AdamUpdate"}, n) }

// The three cases of the tutorial: feature extraction (the head alone),
// fine-tuning the last conv layer, everything.
func TestPlanCallOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		spec nn.Spec
		want []string
	}{
		{"frozen, gap head with dropout", testSpec(t, model.ConvLayers, model.HeadGAP, 0.2), append([]string{
			"GlobalAvgPool", "Gemm", "AddBias", "ReLU", "Dropout", "Gemm", "AddBias",
			"LossOnHost",
			"BiasGrad", "GemmGradWeights", "GemmGradInput", "Dropout",
			"ReLUBackward", "BiasGrad", "GemmGradWeights"}, // nothing below dense1 trains: no GemmGradInput
			adams(4)...)},
		{"fine-tune 1, linear head", testSpec(t, model.ConvLayers-1, model.HeadLinear, 0.2), append([]string{
			"ConvForward", "AddBias", "ReLU", "MaxPool", "GlobalAvgPool", "Gemm", "AddBias",
			"LossOnHost",
			"BiasGrad", "GemmGradWeights", "GemmGradInput", "AvgPoolBackward",
			"MaxPoolBackward", "ReLUBackward", "BiasGrad", "ConvBackwardFilter"}, // the input is frozen: no ConvBackwardData
			adams(4)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan(tc.spec, 5, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := ops(p); !slices.Equal(got, tc.want) {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPlanAllLayers(t *testing.T) {
	spec := testSpec(t, 0, model.HeadSeed, 0.5)
	p, err := NewPlan(spec, 4, true)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, o := range ops(p) {
		count[o]++
	}
	want := map[string]int{"ConvForward": 13, "ConvBackwardFilter": 13, "ConvBackwardData": 12, "MaxPool": 5, "MaxPoolBackward": 5,
		"ReLU": 13 + 2, "ReLUBackward": 13 + 2, "AddBias": 16, "BiasGrad": 16, "Gemm": 3, "GemmGradWeights": 3, "GemmGradInput": 3,
		"Dropout": 2, "LossOnHost": 1, "AdamUpdate": 32}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d calls, want %d", k, count[k], n)
		}
	}
	if count["GlobalAvgPool"] != 0 {
		t.Errorf("the seed head flattens; got %d global average pools", count["GlobalAvgPool"])
	}
	// The flatten is a view of the last pool's output, and so is its gradient.
	dense1 := p.Calls[slices.IndexFunc(p.Calls, func(c Call) bool { return c.Op == Gemm })]
	flat := p.Bufs[dense1.Args[0]]
	if src := p.Bufs[flat.Alias]; flat.Alias < 0 || src.Name != "block5_conv3/pool" || src.Len() != flat.Len() {
		t.Fatalf("dense1's input %s aliases %d, want block5_conv3/pool of the same size", flat.Name, flat.Alias)
	}
	if !slices.Equal(flat.Shape, []int{4, 32}) { // 1×1×512/16 after five pools of 32
		t.Errorf("flatten shape %v, want [4 32]", flat.Shape)
	}
	for _, b := range p.Bufs {
		if b.Name == "dflatten" && (b.Alias < 0 || p.Bufs[b.Alias].Name != "dblock5_conv3/pool") {
			t.Errorf("dflatten does not alias dblock5_conv3/pool")
		}
	}
	// The backward pass runs the layers in reverse: the last conv's filter
	// gradient before the first's.
	last, first := -1, -1
	for i, c := range p.Calls {
		if c.Op == ConvBackwardFilter {
			if name := p.Bufs[c.Args[2]].Name; name == "dblock5_conv3/kernel" {
				last = i
			} else if name == "dblock1_conv1/kernel" {
				first = i
			}
		}
	}
	if last < 0 || first < 0 || last > first {
		t.Errorf("ConvBackwardFilter of block5_conv3 at %d, of block1_conv1 at %d: want the last layer first", last, first)
	}
}

// The plan's parameters are nn's, in nn's order, with the same number of
// values (conv kernels transposed to KRSC), and every buffer is sized for
// the batch.
func TestPlanBuffersMatchNN(t *testing.T) {
	for _, boundary := range []int{0, 7, model.ConvLayers - 1, model.ConvLayers} {
		for _, head := range []string{model.HeadSeed, model.HeadGAP, model.HeadLinear} {
			spec := testSpec(t, boundary, head, 0.2)
			p, err := NewPlan(spec, 3, true)
			if err != nil {
				t.Fatal(err)
			}
			params := spec.InitParams(nil, 1)
			if len(p.Params) != len(params.Names) || len(p.Grads) != len(p.Params) {
				t.Fatalf("boundary %d %s: %d parameters, %d gradients; nn has %d", boundary, head, len(p.Params), len(p.Grads), len(params.Names))
			}
			var values int64
			for i, bi := range p.Params {
				b, nnShape := p.Bufs[bi], params.Shapes[i]
				if b.Name != params.Names[i] || b.Len() != params.Tensors[i].Len() {
					t.Errorf("parameter %d: %s%v, nn has %s%v", i, b.Name, b.Shape, params.Names[i], nnShape)
				}
				if len(nnShape) == 4 && !slices.Equal(b.Shape, []int{nnShape[3], 3, 3, nnShape[2]}) {
					t.Errorf("%s: device shape %v, want KRSC of HWIO %v", b.Name, b.Shape, nnShape)
				}
				values += int64(b.Len())
			}
			bytes := p.Bytes()
			if bytes[Param] != 4*values || bytes[Grad] != 4*values || bytes[Moment] != 8*values {
				t.Errorf("boundary %d %s: %d/%d/%d bytes of params/grads/moments for %d values", boundary, head, bytes[Param], bytes[Grad], bytes[Moment], values)
			}
			in := spec.InputShape()
			if got := p.Bufs[p.Input].Shape; !slices.Equal(got, []int{3, in[0], in[1], in[2]}) {
				t.Errorf("input %v, want batch 3 of %v", got, in)
			}
			if got := p.Bufs[p.Logits].Shape; !slices.Equal(got, []int{3, 3}) {
				t.Errorf("logits %v, want [3 3]", got)
			}
			for _, b := range p.Bufs {
				if (b.Role == Activation || b.Role == ActGrad) && b.Shape[0] != 3 {
					t.Errorf("%s%v: not sized for the batch", b.Name, b.Shape)
				}
			}
		}
	}
}

// An inference plan ends at the logits and has no gradients or moments.
func TestPlanInference(t *testing.T) {
	p, err := NewPlan(testSpec(t, model.ConvLayers-3, model.HeadGAP, 0.2), 2, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range p.Calls {
		if c.Op >= LossOnHost {
			t.Errorf("inference plan has %s", c.Op)
		}
	}
	if b := p.Bytes(); b[Grad] != 0 || b[Moment] != 0 || b[ActGrad] != 0 || p.Mask != -1 {
		t.Errorf("inference plan keeps training state: %v, mask %d", b, p.Mask)
	}
}

func TestPlanRejectsBadSpec(t *testing.T) {
	if _, err := NewPlan(testSpec(t, 0, model.HeadGAP, 0), 0, true); err == nil || !strings.Contains(err.Error(), "batch 0") {
		t.Errorf("batch 0: err %v", err)
	}
	s := testSpec(t, 0, model.HeadGAP, 0)
	s.Classes = 1
	if _, err := NewPlan(s, 2, true); err == nil || !strings.Contains(err.Error(), "classes") {
		t.Errorf("1 class: err %v", err)
	}
}

func TestKernelLayoutRoundTrip(t *testing.T) {
	cin, cout := 3, 5
	k := make([]float32, 9*cin*cout)
	for i := range k {
		k[i] = float32(i)
	}
	krsc := hwioToKRSC(k, cin, cout)
	// HWIO [r=1][s=2][c=1][o=4] is KRSC [o=4][r=1][s=2][c=1].
	if got, want := krsc[(4*9+1*3+2)*cin+1], k[((1*3+2)*cin+1)*cout+4]; got != want {
		t.Errorf("KRSC value %g, want %g", got, want)
	}
	back := make([]float32, len(k))
	krscToHWIO(krsc, cin, cout, back)
	if !slices.Equal(back, k) {
		t.Errorf("round trip changed the kernel")
	}
}
