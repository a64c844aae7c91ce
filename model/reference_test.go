package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"vggo/internal/fixture"
)

// The float64 PyTorch reference written by testdata/make_reference.py.
var referenceDir = filepath.Join("..", "testdata", "reference")

type referenceTensor struct {
	Image  string `json:"image"`
	Mode   string `json:"mode"`
	Size   int    `json:"size"`
	Kind   string `json:"kind"` // "input", "conv" or "gap"
	Shape  []int  `json:"shape"`
	Offset int    `json:"offset"`
	Data   []float64
}

type referenceCase struct {
	Image     string
	Mode      string
	Size      int
	Input     referenceTensor
	Conv, GAP referenceTensor
}

// loadReference reads reference.json/.bin from dir and groups the tensors
// by case, in file order.
func loadReference(t testing.TB, dir string) []referenceCase {
	t.Helper()
	var index struct {
		Tensors []referenceTensor `json:"tensors"`
	}
	js, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatalf("reference fixtures missing (run testdata/make_reference.py): %v", err)
	}
	if err := json.Unmarshal(js, &index); err != nil {
		t.Fatalf("reference.json: %v", err)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "reference.bin"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []referenceCase
	byKey := map[string]int{}
	for _, rt := range index.Tensors {
		n := 1
		for _, d := range rt.Shape {
			n *= d
		}
		if rt.Offset < 0 || rt.Offset+8*n > len(bin) {
			t.Fatalf("reference.json: %s %s %s past the end of reference.bin", rt.Image, rt.Mode, rt.Kind)
		}
		rt.Data = make([]float64, n)
		for i := range rt.Data {
			rt.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(bin[rt.Offset+8*i:]))
		}
		key := fmt.Sprintf("%s/%s/%d", rt.Image, rt.Mode, rt.Size)
		ci, ok := byKey[key]
		if !ok {
			ci = len(cases)
			byKey[key] = ci
			cases = append(cases, referenceCase{Image: rt.Image, Mode: rt.Mode, Size: rt.Size})
		}
		switch rt.Kind {
		case "input":
			cases[ci].Input = rt
		case "conv":
			cases[ci].Conv = rt
		case "gap":
			cases[ci].GAP = rt
		default:
			t.Fatalf("reference.json: unknown kind %q", rt.Kind)
		}
	}
	if len(cases) == 0 {
		t.Fatal("reference.json lists no tensors")
	}
	return cases
}

// maxRelError returns max|got-want| / max|want| and the index of the
// worst element.
func maxRelError(got []float32, want []float64) (float64, int) {
	if len(got) != len(want) {
		return math.Inf(1), -1
	}
	scale, worst, at := 0.0, 0.0, 0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	if scale == 0 {
		scale = 1
	}
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > worst {
			worst, at = d, i
		}
	}
	return worst / scale, at
}

// The committed reference is what make_reference.py computes now: the
// script, the images and the weights have not drifted apart. Needs python3
// with torch; fails (does not skip) without it, as CI installs it.
func TestReferenceFixturesReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PyTorch (-short)")
	}
	if runtime.GOOS == "js" {
		t.Skip("js/wasm cannot start processes; the native test run checks the fixtures")
	}
	out := t.TempDir()
	cmd := fixture.Python(filepath.Join("..", "testdata", "make_reference.py"), "--out", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_reference.py (needs python3 with torch, torchvision, numpy, PIL): %v\n%s", err, msg)
	}
	fresh := loadReference(t, out)
	committed := loadReference(t, referenceDir)
	if len(fresh) != len(committed) {
		t.Fatalf("%d cases now, %d committed", len(fresh), len(committed))
	}
	for i := range fresh {
		for _, pair := range [][2]referenceTensor{
			{fresh[i].Input, committed[i].Input}, {fresh[i].Conv, committed[i].Conv}, {fresh[i].GAP, committed[i].GAP},
		} {
			a, b := pair[0], pair[1]
			if len(a.Data) != len(b.Data) {
				t.Fatalf("%s %s %s: %d values now, %d committed", a.Image, a.Mode, a.Kind, len(a.Data), len(b.Data))
			}
			for j := range a.Data {
				if math.Abs(a.Data[j]-b.Data[j]) > 1e-9*(1+math.Abs(b.Data[j])) {
					t.Fatalf("%s %s %s[%d]: %v now, %v committed: regenerate with testdata/make_reference.py",
						a.Image, a.Mode, a.Kind, j, a.Data[j], b.Data[j])
				}
			}
		}
	}
}
