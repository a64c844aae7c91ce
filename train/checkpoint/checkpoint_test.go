package checkpoint

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"vggo/model/safetensors"
	"vggo/train/report"
)

func TestRoundTripAndAtomicReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ckpt")
	s := &State{Config: "cfg", Epoch: 3, Batch: 2, BestValLoss: 0.5, BestEpoch: 2, SolverKind: "adam", SolverIter: 40,
		History: report.History{Epochs: []report.Epoch{{Epoch: 1, TrainLoss: 1}}},
		Tensors: map[string][]float32{"param/a": {1, 2, 3}, "m/0": {-1}, "best/a": {}, "param/big": make([]float32, 10007)}}
	for i := range s.Tensors["param/big"] {
		s.Tensors["param/big"][i] = float32(i) * 0.5
	}
	if err := Save(p, s); err != nil {
		t.Fatal(err)
	}
	s.Epoch = 4
	if err := Save(p, s); err != nil {
		t.Fatal(err)
	}
	got, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip:\n%+v\n%+v", got, s)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

// TestIsSafetensors: any safetensors reader opens a checkpoint and finds
// the tensors as 1-D F32 and the run state in the metadata.
func TestIsSafetensors(t *testing.T) {
	b, err := Encode(&State{Epoch: 7, Tensors: map[string][]float32{"param/w": {1.5, -2}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	w, ok := f.Tensor("param/w")
	if v, _ := w.Float32s(); !ok || w.DType != safetensors.F32 || !reflect.DeepEqual(v, []float32{1.5, -2}) {
		t.Errorf("tensor param/w: %v %s %v", ok, w.DType, v)
	}
	if f.Metadata["format"] != "vggo-checkpoint" || !strings.Contains(f.Metadata["state"], `"Epoch":7`) || len(f.Metadata["sha256"]) != 64 {
		t.Errorf("metadata %v", f.Metadata)
	}
}

// TestNoEpochScoredYet: a checkpoint saved by an interrupt during the
// first epoch, before any validation loss exists (+Inf, which JSON cannot
// hold), saves and restores.
func TestNoEpochScoredYet(t *testing.T) {
	b, err := Encode(&State{Version: Version, Batch: 3, BestValLoss: math.Inf(1), Tensors: map[string][]float32{"param/w": {1}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Decode(b, "f")
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(s.BestValLoss, 1) || s.Batch != 3 {
		t.Errorf("best validation loss %g, batch %d; want +Inf, 3", s.BestValLoss, s.Batch)
	}
}

// TestEveryFlippedBitIsRefused flips each bit of a small checkpoint, one at
// a time: every damaged copy is refused, naming the file, unless it reads
// back exactly the saved state (a flipped letter case in a safetensors
// header key, which JSON decoding ignores).
func TestEveryFlippedBitIsRefused(t *testing.T) {
	saved := &State{Version: Version, Config: `{"lr":0.001}`, Epoch: 2, BestValLoss: 0.25, SolverKind: "adam", SolverIter: 9,
		Tensors: map[string][]float32{"param/w": {1, 2, 3}, "best/w": {1, 2, 2.5}, "m/000": {0.1, 0.2, 0.3}}}
	good, err := Encode(saved)
	if err != nil {
		t.Fatal(err)
	}
	const name = "run/checkpoint.ckpt"
	harmless := 0
	for i := range 8 * len(good) {
		bad := bytes.Clone(good)
		bad[i/8] ^= 1 << (i % 8)
		s, err := Decode(bad, name)
		switch {
		case err == nil && reflect.DeepEqual(s, saved):
			harmless++
		case err == nil || !strings.HasPrefix(err.Error(), name+": "):
			t.Fatalf("bit %d of byte %d flipped: error %v, want a refusal naming %s", i%8, i/8, err, name)
		}
	}
	if harmless > 8*len(good)/50 {
		t.Errorf("%d of %d flipped bits read back unchanged: too many to be letter cases in header keys", harmless, 8*len(good))
	}
	// A flipped bit in the tensor data of a file on disk, for the message.
	path := filepath.Join(t.TempDir(), "checkpoint.ckpt")
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 1
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path+": the checkpoint is corrupt") {
		t.Errorf("flipped data bit: %v", err)
	}
}

func TestDecodeRejectsDamage(t *testing.T) {
	b, _ := Encode(&State{Version: Version, Tensors: map[string][]float32{"x": {1, 2}}})
	other := new(bytes.Buffer)
	safetensors.Write(other, []safetensors.Tensor{{Name: "x", DType: safetensors.F32, Shape: []int{1}, Data: make([]byte, 4)}}, nil)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "f: not a vggo checkpoint"},
		{"truncated tensors", b[:len(b)-3], "f: not a vggo checkpoint"},
		{"truncated header", b[:20], "f: not a vggo checkpoint"},
		{"other safetensors file", other.Bytes(), `f: not a vggo checkpoint (a safetensors file without format "vggo-checkpoint"`},
		{"format version 1", []byte(oldMagic + "\x02\x00\x00\x00\x00\x00\x00\x00{}"), "f: a checkpoint in the format of vggo before checkpoints became safetensors"},
	} {
		if _, err := Decode(tc.data, "f"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := Encode(&State{Version: Version, Epoch: 2, Tensors: map[string][]float32{"a": {1, 2}, "b": {3}}})
	f.Add(b)
	f.Add([]byte(oldMagic + "\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(data, "fuzz")
		if err != nil {
			return
		}
		if _, err := Encode(s); err != nil {
			t.Fatal(err)
		}
	})
}
