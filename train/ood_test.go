package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"vggo/model"
	"vggo/model/safetensors"
)

// TestOODSubcommand adds OOD statistics to a model file without them: the
// weights stay byte for byte, the chosen layers are described, and about
// the chosen share of the validation images is flagged.
func TestOODSubcommand(t *testing.T) {
	arch := model.Arch{WidthDiv: 16}
	rng := rand.New(rand.NewPCG(1, 2))
	dense := func(in, out int) model.DenseParams {
		k := make([]float32, in*out)
		for i := range k {
			k[i] = float32(rng.NormFloat64()) * 0.1
		}
		return model.DenseParams{In: in, Out: out, Kernel: k, Bias: make([]float32, out)}
	}
	m := &model.Model{Info: model.Info{Arch: "vgg16", InputSize: 32, WidthDiv: 16, Head: model.HeadLinear,
		Classes: []string{"a", "b", "c", "d"}, Preprocess: model.PreprocessTorch}}
	m.Base = *randomBase(arch, 1)
	m.Head = model.Head{Kind: model.HeadLinear, Dense: []model.DenseParams{dense(arch.Channels(), 4)}}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := model.WriteModelFile(path, m, model.DTypeInt8); err != nil {
		t.Fatal(err)
	}
	before := tensorBytes(t, path)
	var out, errOut bytes.Buffer
	args := []string{"ood", "-model", path, "-data", fixture, "-val", "0.5", "-per-class", "10", "-quantile", "0.9", "-layers", "3,12"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("train ood: status %d\n%s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "90.0 % quantile") {
		t.Errorf("output %q does not state the quantile", out.String())
	}
	after := tensorBytes(t, path)
	for name, b := range before {
		if !bytes.Equal(after[name], b) {
			t.Errorf("tensor %s changed", name)
		}
	}
	got, err := model.ReadModelFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.OOD == nil || len(got.OOD.Layers) != 2 || got.OOD.Layers[0].Layer != 3 || got.OOD.Layers[1].Layer != 12 {
		t.Fatalf("OOD statistics %+v, want layers 3 and 12", got.OOD)
	}
	if code := run([]string{"ood", "-model", path, "-data", fixture, "-layers", "12,3"}, io.Discard, &errOut); code == 0 || !strings.Contains(errOut.String(), "ascending") {
		t.Errorf("-layers 12,3: status %d, %q; want a refusal naming the order", code, errOut.String())
	}
}

func tensorBytes(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, x := range f.Tensors {
		out[x.Name] = x.Data
	}
	return out
}
