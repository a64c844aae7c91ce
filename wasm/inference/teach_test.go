//go:build !js

package inference

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"

	"vggo/internal/fixture"
	"vggo/model"
	"vggo/model/headtrain"
	"vggo/wasm/protocol"
)

const defaultModel = "../../web/models/fashion-mnist-vgg16.vggo.safetensors"

// TestTeachFashionMNIST teaches the default base three hard Fashion-MNIST
// classes from 20 images each, through the worker's engine code, head only
// and with the last conv layer fine-tuned too, and checks the built model
// file: it loads, names the classes, classifies as the engine that taught
// it, and classifies 50 held-out images per class at least 80 % right.
func TestTeachFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the 16 MB default model and runs 210 images through VGG16")
	}
	data, err := os.ReadFile(defaultModel)
	if err != nil {
		t.Fatal(err)
	}
	for _, tune := range []bool{false, true} {
		t.Run(map[bool]string{false: "head", true: "last-conv"}[tune], func(t *testing.T) { teachFashionMNIST(t, data, tune) })
	}
}

func teachFashionMNIST(t *testing.T, data []byte, tune bool) {
	var base Engine
	if _, err := base.Load(data, "fashion-mnist-vgg16", model.ShardOptions{}); err != nil {
		t.Fatal(err)
	}
	imgs, labels, err := fixture.FashionMNISTTest(1000)
	if err != nil {
		t.Fatal(err)
	}
	trainIdx, heldIdx := fixture.TeachSplit(labels, 20, 50)
	req := protocol.TeachTrainRequest{ModelName: "Tops", Settings: headtrain.DefaultSettings(), Description: "three kinds of tops", TuneConv: tune}
	for k, c := range fixture.HardClasses {
		req.Classes = append(req.Classes, c.Name)
		for _, i := range trainIdx[k] {
			f, err := base.Features(imgs[i], "train", tune)
			if err != nil {
				t.Fatal(err)
			}
			req.Features = append(req.Features, f.Features)
			req.Labels = append(req.Labels, k)
		}
	}
	epochs := 0
	res, err := base.Teach(req, func(e protocol.TeachEpoch) bool { epochs++; return true })
	if err != nil {
		t.Fatal(err)
	}
	ev, err := base.TeachEvaluate(req, func(e protocol.TeachEpoch) bool { epochs++; return true })
	if err != nil {
		t.Fatal(err)
	}
	file, entry, err := base.BuildModel("")
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * req.Settings.Epochs; epochs != want { // hold-out (20 per class) + final
		t.Errorf("%d epochs reported, want %d", epochs, want)
	}
	t.Logf("evaluation: %s, %.1f %% of %d; %s", ev.Method, 100*ev.Accuracy, ev.Evaluated, ev.Explain)
	var taught Engine
	loaded, err := taught.Load(file, "Tops", model.ShardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(loaded.Classes, ",") != "Pullover,Shirt,T-shirt" {
		t.Errorf("classes %v", loaded.Classes)
	}
	info, err := model.ReadModelInfo(bytes.NewReader(file), int64(len(file)), "Tops")
	if err != nil {
		t.Fatal(err)
	}
	if info.DType != model.DTypeInt8 || info.Provenance["made_by"] == "" || info.Provenance["accuracy"] == "" || info.Provenance["base"] == "" || info.Description != "three kinds of tops" {
		t.Errorf("model file metadata: dtype %s, provenance %v, description %q", info.DType, info.Provenance, info.Description)
	}
	correct, n := 0, 0
	for k := range fixture.HardClasses {
		for _, i := range heldIdx[k] {
			r, err := taught.ClassifyImage(imgs[i], "held", protocol.DecoderGo, 0)
			if err != nil {
				t.Fatal(err)
			}
			// The engine that taught classifies as the saved file does.
			inPage, err := base.ClassifyImage(imgs[i], "held", protocol.DecoderGo, 0)
			if err != nil {
				t.Fatal(err)
			}
			for j, p := range r.Probs {
				if d := math.Abs(float64(p - inPage.Probs[j])); d > 1e-5 {
					t.Fatalf("image %d: the taught engine and the saved file differ by %g in class %d", i, d, j)
				}
			}
			if r.Top[0].Index == k {
				correct++
			}
			n++
		}
	}
	// The file holds the base's last conv layer, retrained when asked.
	baseModel, err := model.ReadModel(bytes.NewReader(data), int64(len(data)), "base")
	if err != nil {
		t.Fatal(err)
	}
	taughtModel, err := model.ReadModel(bytes.NewReader(file), int64(len(file)), "Tops")
	if err != nil {
		t.Fatal(err)
	}
	last := baseModel.Base.Arch.Depth() - 1
	moved := 0.0
	for j, w := range taughtModel.Base.Layers[last].Kernel {
		moved = max(moved, math.Abs(float64(w-baseModel.Base.Layers[last].Kernel[j])))
	}
	t.Logf("last conv layer: max |taught − base| = %.3g", moved)
	if tune && moved < 1e-4 || !tune && moved > 1e-6 {
		t.Errorf("last conv layer moved by %.3g from the base's (fine-tuned: %v)", moved, tune)
	}
	acc := float64(correct) / float64(n)
	t.Logf("held-out accuracy %.1f %% (%d of %d), int8 model file %d bytes, train %.0f ms", 100*acc, correct, n, len(file), res.TrainMillis)
	if acc < 0.8 {
		t.Errorf("held-out accuracy %.1f %%, want ≥ 80 %%", 100*acc)
	}
	if entry.SHA256 == "" || !strings.HasPrefix(entry.URL, protocol.LocalModelPrefix) {
		t.Errorf("entry %+v", entry)
	}
}

// TestTeachRefuses: the engine names what is wrong with a request.
func TestTeachRefuses(t *testing.T) {
	e := Engine{}
	m := RandomModel(32, 16, 1)
	var buf bytes.Buffer
	if err := model.WriteModel(&buf, m, model.DTypeInt8); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Load(buf.Bytes(), "r", model.ShardOptions{}); err != nil {
		t.Fatal(err)
	}
	c := m.Base.Arch.Channels()
	feat := func(n int) [][]float32 {
		out := make([][]float32, n)
		for i := range out {
			out[i] = make([]float32, c)
			out[i][i%c] = 1
		}
		return out
	}
	for _, tc := range []struct {
		name string
		req  protocol.TeachTrainRequest
		want string
	}{
		{"single class", protocol.TeachTrainRequest{Classes: []string{"a"}, Features: feat(2), Labels: []int{0, 0}}, "at least 2"},
		{"duplicate names", protocol.TeachTrainRequest{Classes: []string{"Cat", "cat "}, Features: feat(4), Labels: []int{0, 0, 1, 1}}, "two classes are named"},
		{"empty class", protocol.TeachTrainRequest{Classes: []string{"a", "b"}, Features: feat(3), Labels: []int{0, 0, 0}}, `class "b" has 0 image(s)`},
		{"wrong base", protocol.TeachTrainRequest{Classes: []string{"a", "b"}, Features: [][]float32{{1}, {2}, {3}, {4}}, Labels: []int{0, 0, 1, 1}}, "another base"},
	} {
		tc.req.Settings = headtrain.DefaultSettings()
		_, err := e.Teach(tc.req, func(protocol.TeachEpoch) bool { return true })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
