package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vggo/model"
	"vggo/model/safetensors"
	"vggo/model/weights"
)

const fixtureWeights = "../testdata/vgg16_div16.pth"

// TestPretrainedBaseIsKeptFrozen trains a linear head on the torchvision
// fixture weights (width/16) with the whole base frozen, exports float32,
// and checks the exported conv base equals the loaded weights bit for bit.
func TestPretrainedBaseIsKeptFrozen(t *testing.T) {
	dir := t.TempDir()
	c := &fitConfig{Data: fixture, ValFraction: 0.2, Seed: 3, Weights: fixtureWeights, Head: "linear", InputSize: 32, WidthDiv: 16,
		FineTune: 0, Optimizer: "rmsprop", LR: 0.001, Batch: 32, Epochs: 2, Dropout: 0.2, AugCopies: 1,
		Out: filepath.Join(dir, "run"), CacheDir: filepath.Join(dir, "cache"), Export: "float32", Quiet: true}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if c.Preprocess != model.PreprocessTorch {
		t.Errorf("default preprocessing for .pth is %q, want torch", c.Preprocess)
	}
	res, err := fit(context.Background(), c, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want, err := weights.Load(fixtureWeights, model.Arch{WidthDiv: 16})
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.ReadModelFile(res.ModelPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Layers {
		if !slices.Equal(got.Base.Layers[i].Kernel, want.Layers[i].Kernel) || !slices.Equal(got.Base.Layers[i].Bias, want.Layers[i].Bias) {
			t.Fatalf("conv layer %d changed although frozen", i)
		}
	}
	if got.Info.Head != "linear" || len(got.Head.Dense) != 1 || got.Head.Dense[0].In != 32 || got.Head.Dense[0].Out != 4 {
		t.Errorf("head %+v", got.Info)
	}
	// float32 export classifies exactly like the float32 graph.
	if res.ExportAccuracy != res.TestAccuracy {
		t.Errorf("float32 export accuracy %g differs from the graph's %g", res.ExportAccuracy, res.TestAccuracy)
	}
}

// TestAugmentedCopiesAreCached checks that --aug-copies K caches K
// augmented copies of every training image (and one plain copy of each
// validation and test image), and that a rerun reuses all of them.
func TestAugmentedCopiesAreCached(t *testing.T) {
	dir := t.TempDir()
	c := smallFit(fixture, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 2)
	c.Aug.RotationRange, c.Aug.HorizontalFlip, c.AugCopies = 15, true, 3
	c.TrainPerClass = 10
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	res, err := fit(context.Background(), c, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// 10 train/class after the limit, of which the validation split takes
	// none (the limit is applied after splitting 50 → 40/10).
	const train, val, test = 40, 40, 100
	if want := 3*train + val + test; res.CacheComputed != want {
		t.Errorf("computed %d activations, want %d", res.CacheComputed, want)
	}
	c.Out = filepath.Join(dir, "run2")
	fitAllCached(t, c)
}

// TestExtract writes the frozen features as a safetensors dataset and
// checks shapes, labels and metadata.
func TestExtract(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "features.safetensors")
	var stdout, stderr bytes.Buffer
	code := run([]string{"extract", "-o", out, "-data", fixture, "-weights", fixtureWeights, "-width-div", "16", "-input-size", "32",
		"-fine-tune", "0", "-cache", filepath.Join(dir, "cache"), "-quiet"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	sf, err := safetensors.Read(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		split string
		n     int
	}{{"train", 160}, {"validation", 40}, {"test", 100}} {
		feat, ok1 := sf.Tensor(tc.split + ".features")
		lab, ok2 := sf.Tensor(tc.split + ".labels")
		if !ok1 || !ok2 {
			t.Fatalf("%s tensors missing", tc.split)
		}
		if want := []int{tc.n, 1, 1, 32}; !slices.Equal(feat.Shape, want) || feat.DType != safetensors.F16 {
			t.Errorf("%s features shape %v, want %v", tc.split, feat.Shape, want)
		}
		counts := make([]int, 4)
		for i := 0; i < tc.n; i++ {
			counts[binary.LittleEndian.Uint32(lab.Data[4*i:])]++
		}
		for _, n := range counts {
			if n != tc.n/4 {
				t.Errorf("%s label counts %v", tc.split, counts)
				break
			}
		}
	}
	// The first test image's row equals the frozen base's output computed
	// directly with package model, within float16 rounding.
	first, _ := os.ReadDir(filepath.Join(fixture, "test", "0_tshirt_top"))
	img, err := os.Open(filepath.Join(fixture, "test", "0_tshirt_top", first[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := model.DecodeImage(img, first[0].Name())
	img.Close()
	if err != nil {
		t.Fatal(err)
	}
	base, _ := weights.Load(fixtureWeights, model.Arch{WidthDiv: 16})
	fnet, _ := model.NewFeatureNet(base, 32)
	want := fnet.ForwardTo(1, model.Preprocess(decoded, 32, model.PreprocessTorch), 12)
	feat, _ := sf.Tensor("test.features")
	nonZero := 0
	for _, w := range want {
		if w != 0 {
			nonZero++
		}
	}
	if nonZero < len(want)/4 {
		t.Fatalf("only %d of %d reference features are non-zero", nonZero, len(want))
	}
	for j, w := range want {
		got := safetensors.Float16ToFloat32(binary.LittleEndian.Uint16(feat.Data[2*j:]))
		if math.Abs(float64(got-w)) > 1e-3*math.Max(1, math.Abs(float64(w))) {
			t.Fatalf("feature %d: extracted %g, model computes %g", j, got, w)
		}
	}
	var classes []string
	json.Unmarshal([]byte(sf.Metadata["classes"]), &classes)
	if strings.Join(classes, ",") != "0_tshirt_top,1_trouser,7_sneaker,8_bag" {
		t.Errorf("classes metadata %q", sf.Metadata["classes"])
	}
}
