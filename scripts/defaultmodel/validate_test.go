package main

import (
	"image"
	"math"
	"math/rand/v2"
	"path/filepath"
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

// TestAverageCommand writes two int8 models, averages them with t = 0.25
// and checks the result: an int8 file with the second model's classes,
// every weight within the int8 step of (1-t)·a + t·b (the inputs as read,
// so only the result's own quantisation is allowed for), and no OOD
// statistics.
func TestAverageCommand(t *testing.T) {
	dir := t.TempDir()
	a, b := randomModel(32, 16), randomModel(32, 16)
	b.Info.Classes = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}
	for i := range b.Base.Layers {
		for j := range b.Base.Layers[i].Kernel {
			b.Base.Layers[i].Kernel[j] = -2 * b.Base.Layers[i].Kernel[j]
		}
	}
	pa, pb, out := filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "b.safetensors"), filepath.Join(dir, "avg.safetensors")
	for p, m := range map[string]*model.Model{pa: a, pb: b} {
		if err := model.WriteModelFile(p, m, model.DTypeInt8); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmdAverage([]string{"-a", pa, "-b", pb, "-t", "0.25", "-out", out}); err != nil {
		t.Fatal(err)
	}
	ra, err := model.ReadModelFile(pa)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := model.ReadModelFile(pb)
	if err != nil {
		t.Fatal(err)
	}
	got, err := model.ReadModelFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Info.DType != model.DTypeInt8 || got.Info.Classes[0] != "a" || got.OOD != nil {
		t.Errorf("dtype %s, classes %q, OOD %v: want int8, the second model's classes, none", got.Info.DType, got.Info.Classes, got.OOD)
	}
	for i := range got.Base.Layers {
		ka, kb, k := ra.Base.Layers[i].Kernel, rb.Base.Layers[i].Kernel, got.Base.Layers[i].Kernel
		step := 0.0 // the largest |weight| / 127 bounds every channel's int8 step
		for j := range k {
			step = max(step, math.Abs(0.75*float64(ka[j])+0.25*float64(kb[j]))/127)
		}
		for j := range k {
			if d := math.Abs(float64(k[j]) - (0.75*float64(ka[j]) + 0.25*float64(kb[j]))); d > step/2+1e-7 {
				t.Fatalf("conv layer %d weight %d: %g, want %g within half an int8 step (%g)", i+1, j, k[j], 0.75*ka[j]+0.25*kb[j], step/2)
			}
		}
	}
}
