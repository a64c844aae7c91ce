package main

import (
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"vggo/model"
)

// TestValidationScores: the batched loss and accuracy equal those of
// Net.Classify image by image (a separate path: one image at a time,
// ranked probabilities), within float32 rounding.
func TestValidationScores(t *testing.T) {
	net, err := model.NewNet(randomModel(32, 16))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var images []image.Image
	var labels []int
	for i := 0; i < 73; i++ { // not a multiple of the batch
		g := image.NewGray(image.Rect(0, 0, 28, 28))
		for j := range g.Pix {
			g.Pix[j] = uint8(rng.IntN(256))
		}
		images = append(images, g)
		labels = append(labels, rng.IntN(10))
	}
	loss, acc := validationScores(net, images, labels)
	wantLoss, correct := 0.0, 0
	for i, img := range images {
		pred := net.Classify(img)
		if pred[0].Index == labels[i] {
			correct++
		}
		for _, p := range pred {
			if p.Index == labels[i] {
				wantLoss -= math.Log(float64(p.Prob))
			}
		}
	}
	wantLoss /= float64(len(images))
	if math.Abs(loss-wantLoss) > 1e-5 || acc != float64(correct)/float64(len(images)) {
		t.Errorf("loss %.6f, accuracy %.4f; one image at a time: %.6f, %.4f", loss, acc, wantLoss, float64(correct)/float64(len(images)))
	}
}

// TestAverageCommand writes three int8 models and averages two of them
// with -t 0.25, then all three as a plain mean, and checks each result: an
// int8 file with the last model's classes, every weight within half the
// int8 step of Σ share·model (the inputs as read, so only the result's own
// quantisation is allowed for), and no OOD statistics. -t with three
// files is refused.
func TestAverageCommand(t *testing.T) {
	dir := t.TempDir()
	a, b, c := randomModel(32, 16), randomModel(32, 16), randomModel(32, 16)
	b.Info.Classes = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	c.Info.Classes = b.Info.Classes
	for i := range b.Base.Layers {
		for j := range b.Base.Layers[i].Kernel {
			b.Base.Layers[i].Kernel[j] = -2 * b.Base.Layers[i].Kernel[j]
		}
	}
	paths := []string{filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors"), filepath.Join(dir, "c.safetensors")}
	read := make([]*model.Model, 3)
	for i, m := range []*model.Model{a, b, c} {
		if err := model.WriteModelFile(paths[i], m, model.DTypeInt8); err != nil {
			t.Fatal(err)
		}
		var err error
		if read[i], err = model.ReadModelFile(paths[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args   []string
		inputs []*model.Model
		shares []float64
	}{
		{[]string{"-t", "0.25", paths[0], paths[1]}, read[:2], []float64{0.75, 0.25}},
		{[]string{paths[0], paths[1], paths[2]}, read, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}},
	} {
		out := filepath.Join(dir, "avg.safetensors")
		if err := cmdAverage(append([]string{"-out", out}, tc.args...)); err != nil {
			t.Fatal(err)
		}
		got, err := model.ReadModelFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if got.Info.DType != model.DTypeInt8 || got.Info.Classes[0] != "a" || got.OOD != nil {
			t.Errorf("%v: dtype %s, classes %q, OOD %v: want int8, the last model's classes, none", tc.args, got.Info.DType, got.Info.Classes, got.OOD)
		}
		for i := range got.Base.Layers {
			k := got.Base.Layers[i].Kernel
			want := make([]float64, len(k))
			step := 0.0 // the largest |weight| / 127 bounds every channel's int8 step
			for j := range k {
				for m, in := range tc.inputs {
					want[j] += tc.shares[m] * float64(in.Base.Layers[i].Kernel[j])
				}
				step = max(step, math.Abs(want[j])/127)
			}
			for j := range k {
				if d := math.Abs(float64(k[j]) - want[j]); d > step/2+1e-7 {
					t.Fatalf("%v: conv layer %d weight %d: %g, want %g within half an int8 step (%g)", tc.args, i+1, j, k[j], want[j], step/2)
				}
			}
		}
	}
	err := cmdAverage([]string{"-out", filepath.Join(dir, "x.safetensors"), "-t", "0.5", paths[0], paths[1], paths[2]})
	if err == nil || !strings.Contains(err.Error(), "-t needs exactly two model files, not 3") {
		t.Errorf("-t with three files: error %v, want one saying -t needs two", err)
	}
}
