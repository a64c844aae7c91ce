package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vggo/bench/randnet"
	"vggo/kernels"
)

// TestNativeVggoRuns runs each native vggo measurement once at width/16 on
// 32x32 inputs: the harness's own code paths, not their speed.
func TestNativeVggoRuns(t *testing.T) {
	f, err := newVggoForward(32, 2, 16)
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := f.run(); err != nil || ms <= 0 {
		t.Fatalf("forward: %v ms, %v", ms, err)
	}
	tr, err := newVggoTrainer(gapSpec(16, 32, 0), 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.step(randInput(4 * 32 * 32 * 3)); err != nil {
		t.Fatalf("train step: %v", err)
	}
	ms, err := vggoFineTune(32, 6, 2, 3, 16, randInput(6*32*32*3))
	if err != nil || ms <= 0 {
		t.Fatalf("fine-tune: %v ms, %v", ms, err)
	}
	imgs, raw := augImages(6, 32)
	if len(raw) != 6*32*32*3 || imgs[5].Pix[4*7+2] != raw[(5*32*32+7)*3+2] {
		t.Fatalf("augImages: the images and their bytes differ")
	}
	ms, err = vggoFineTuneAug(32, 2, 3, 16, imgs)
	if err != nil || ms <= 0 {
		t.Fatalf("augmented fine-tune: %v ms, %v", ms, err)
	}
}

// TestRandomModelShapes checks the benchmark network against the
// architecture: 13 conv layers of VGG16 and one Dense layer to 10 classes.
func TestRandomModelShapes(t *testing.T) {
	m := randnet.Model(32, 16, 1)
	if err := m.Base.Check(); err != nil {
		t.Fatal(err)
	}
	if len(m.Head.Dense) != 1 || m.Head.Dense[0].In != 512/16 || m.Head.Dense[0].Out != randnet.Classes {
		t.Fatalf("head %+v: want one Dense %d→%d", m.Head.Dense, 512/16, randnet.Classes)
	}
}

// TestTorchChild drives bench/torch_bench.py through its line protocol at
// a tiny size: info, a forward pass, a training step, a short fine-tune,
// and an unknown command, which must come back as an error.
func TestTorchChild(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import torch").Run(); err != nil {
		t.Fatalf("%s cannot import torch (Debian's python3-torch; scripts/deps.sh installs it): %v", python, err)
	}
	tc, err := startTorch(python, "torch_bench.py", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.close()
	var info struct {
		Torch   string `json:"torch"`
		Threads int    `json:"threads"`
	}
	if err := tc.call(map[string]any{"op": "info"}, &info); err != nil || info.Torch == "" || info.Threads != 1 {
		t.Fatalf("info: %+v, %v", info, err)
	}
	_, raw := augImages(4, 32)
	imagesPath := filepath.Join(t.TempDir(), "images.u8")
	if err := os.WriteFile(imagesPath, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []map[string]any{
		{"op": "finetune_aug", "size": 32, "images": 4, "epochs": 2, "batch": 2, "width_div": 16, "images_path": imagesPath, "rotation": 20},
		{"op": "forward", "size": 32, "batch": 2, "width_div": 16},
		{"op": "conv_pass", "size": 8, "batch": 2, "cin": 16, "cout": 32, "pass": "forward"},
		{"op": "conv_pass", "size": 8, "batch": 2, "cin": 16, "cout": 32, "pass": "data"},
		{"op": "conv_pass", "size": 8, "batch": 2, "cin": 16, "cout": 32, "pass": "filter"},
		{"op": "train_step", "size": 32, "batch": 2, "width_div": 16},
		{"op": "finetune", "size": 32, "images": 4, "epochs": 2, "batch": 2, "width_div": 16},
	} {
		if ms, err := tc.ms(cmd); err != nil || ms <= 0 {
			t.Errorf("%v: %v ms, %v", cmd, ms, err)
		}
	}
	if _, err := tc.ms(map[string]any{"op": "nonsense"}); err == nil || !strings.Contains(err.Error(), "unknown op") {
		t.Errorf("unknown op: error %v", err)
	}
	short := map[string]any{"op": "finetune_aug", "size": 32, "images": 5, "epochs": 1, "batch": 2, "width_div": 16, "images_path": imagesPath}
	if _, err := tc.ms(short); err == nil || !strings.Contains(err.Error(), imagesPath) {
		t.Errorf("images file of the wrong size: error %v, want one naming %s", err, imagesPath)
	}
}

// TestVggLayerShapes checks the distinct layer shapes of VGG16 at 32x32:
// nine, covering the 13 layers in order, each layer's input channels the
// previous one's output.
func TestVggLayerShapes(t *testing.T) {
	shapes := vggLayerShapes(32, 1)
	want := []layerShape{
		{[]string{"block1_conv1"}, 32, 3, 64}, {[]string{"block1_conv2"}, 32, 64, 64},
		{[]string{"block2_conv1"}, 16, 64, 128}, {[]string{"block2_conv2"}, 16, 128, 128},
		{[]string{"block3_conv1"}, 8, 128, 256}, {[]string{"block3_conv2", "block3_conv3"}, 8, 256, 256},
		{[]string{"block4_conv1"}, 4, 256, 512}, {[]string{"block4_conv2", "block4_conv3"}, 4, 512, 512},
		{[]string{"block5_conv1", "block5_conv2", "block5_conv3"}, 2, 512, 512},
	}
	if len(shapes) != len(want) {
		t.Fatalf("%d shapes %v, want %d", len(shapes), shapes, len(want))
	}
	for i := range want {
		if shapes[i].String() != want[i].String() {
			t.Errorf("shape %d: %s, want %s", i, shapes[i], want[i])
		}
	}
}

// TestLayerPassesRun runs each pass of a small layer once and checks the
// input gradient against a second layer's: the pass the table times is
// the layer's real work, not a no-op.
func TestLayerPassesRun(t *testing.T) {
	s := layerShape{names: []string{"x"}, side: 8, cin: 16, cout: 32}
	p := newLayerPasses(s, 2)
	for _, ps := range layerPassNames {
		if ms, err := p.run(ps.pass); err != nil || ms < 0 {
			t.Fatalf("%s: %v ms, %v", ps.pass, ms, err)
		}
	}
	if _, err := p.run("sideways"); err == nil {
		t.Fatal("unknown pass: no error")
	}
	ref := make([]float32, len(p.din))
	kernels.Conv3x3BackwardData(2, 8, 8, 16, 32, p.kernel, p.dout, ref)
	for i := range ref {
		if d := ref[i] - p.din[i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("input gradient %d: %v, Conv3x3BackwardData gives %v", i, p.din[i], ref[i])
		}
	}
}
