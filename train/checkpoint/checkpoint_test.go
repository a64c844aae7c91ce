package checkpoint

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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

func TestDecodeRejectsDamage(t *testing.T) {
	b, _ := Encode(&State{Version: Version, Tensors: map[string][]float32{"x": {1, 2}}})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a vggo checkpoint"},
		{"truncated tensors", b[:len(b)-3], "out of bounds"},
		{"truncated header", b[:20], "exceeds file"},
	} {
		if _, err := Decode(tc.data, "f"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := Encode(&State{Version: Version, Epoch: 2, Tensors: map[string][]float32{"a": {1, 2}, "b": {3}}})
	f.Add(b)
	f.Add([]byte(magic + "\x02\x00\x00\x00\x00\x00\x00\x00{}"))
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
