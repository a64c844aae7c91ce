package main

import (
	"os/exec"
	"strings"
	"testing"

	"vggo/bench/randnet"
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
	for _, cmd := range []map[string]any{
		{"op": "forward", "size": 32, "batch": 2, "width_div": 16},
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
}
