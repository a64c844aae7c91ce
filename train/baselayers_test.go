package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"vggo/model"
	"vggo/model/safetensors"
)

// fit -base-layers 7 trains on the activation after block 3 (4x4x32 at
// 32x32, width/8), says so, and exports a model file that records the cut
// and holds only those 7 conv layers; evaluate and classify read it and
// agree with the run's own score of the exported file. extract cuts the
// same way, and a -fine-tune beyond the cut is refused.
func TestBaseLayers(t *testing.T) {
	dir := t.TempDir()
	c := smallFit(fixture, filepath.Join(dir, "run"), filepath.Join(dir, "cache"), 2)
	c.BaseLayers, c.FineTune = 7, 2
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := fit(context.Background(), c, &log, io.Discard)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, want := range []string{
		"conv base: the first 7 of 13 conv layers (-base-layers 7), output 4x4x32\n",
		"conv layers 1-5 frozen (activations cached in " + c.CacheDir + "), 2 trainable conv layer(s)\n",
		"head: gap: GAP → 32 → dropout 0.2 → 4 classes\n",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	m, err := model.ReadModelFile(res.ModelPath)
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.BaseLayers != 7 || m.Base.Arch.Depth() != 7 || m.Head.Dense[0].In != 32 {
		t.Errorf("model file: base_layers %d, depth %d, head input %d; want 7, 7, 32", m.Info.BaseLayers, m.Base.Arch.Depth(), m.Head.Dense[0].In)
	}
	f, err := safetensors.ReadFile(res.ModelPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range f.Tensors {
		if strings.HasPrefix(ts.Name, "block4") || strings.HasPrefix(ts.Name, "block5") {
			t.Errorf("model file holds %s, past the cut", ts.Name)
		}
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"evaluate", "-model", res.ModelPath, "-data", fixture}, &out, &errOut); code != 0 {
		t.Fatalf("evaluate: %d %s", code, errOut.String())
	}
	if want := fmt.Sprintf("100 images, accuracy %.4f", res.ExportAccuracy); !strings.Contains(out.String(), want) {
		t.Errorf("evaluate says %q, want %q", out.String(), want)
	}
	out.Reset()
	if code := run([]string{"classify", "-model", res.ModelPath, filepath.Join(fixture, "test", "1_trouser")}, &out, &errOut); code != 0 || len(strings.Split(strings.TrimSpace(out.String()), "\n")) != 25 {
		t.Errorf("classify: exit %d, %q %s", code, out.String(), errOut.String())
	}

	// extract: features at the freeze boundary of the cut base, no head.
	out.Reset()
	feat := filepath.Join(dir, "features.safetensors")
	args := []string{"extract", "-o", feat, "-data", fixture, "-from-scratch", "-input-size", "32", "-width-div", "8",
		"-base-layers", "7", "-fine-tune", "0", "-cache", c.CacheDir, "-quiet", "-val", "0.2"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("extract: %d %s", code, errOut.String())
	}
	if strings.Contains(out.String(), "head") {
		t.Errorf("extract talks of a head it does not use:\n%s", out.String())
	}
	ef, err := safetensors.ReadFile(feat)
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := ef.Tensor("train.features"); !ok || fmt.Sprint(tr.Shape[1:]) != "[4 4 32]" || ef.Metadata["base_layers"] != "7" {
		t.Errorf("extracted train.features shape %v, base_layers %q; want [N 4 4 32] and 7", tr.Shape, ef.Metadata["base_layers"])
	}

	bad := *c
	bad.FineTune = 8
	if err := bad.validate(); err == nil || err.Error() != "fit: --fine-tune 8: want 0..7 (the base uses 7 conv layers)" {
		t.Errorf("-fine-tune 8 with -base-layers 7: %v", err)
	}
	bad = *c
	bad.BaseLayers = 14
	if err := bad.validate(); err == nil || !strings.Contains(err.Error(), "--base-layers 14: want 1..13") {
		t.Errorf("-base-layers 14: %v", err)
	}
}
