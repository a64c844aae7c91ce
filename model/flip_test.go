package model

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestWithMirrors: the second half holds each image mirrored left to
// right (checked pixel by pixel against the definition), the first half x
// itself, and mirroring twice gives x back.
func TestWithMirrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const batch, size = 2, 5
	x := uniformFloats(rng, batch*size*size*3, 1)
	m := WithMirrors(batch, size, x)
	if len(m) != 2*len(x) || !slices.Equal(m[:len(x)], x) {
		t.Fatalf("first half differs from x")
	}
	for b := range batch {
		for y := range size {
			for c := range size {
				for ch := range 3 {
					got := m[len(x)+((b*size+y)*size+c)*3+ch]
					want := x[((b*size+y)*size+(size-1-c))*3+ch]
					if got != want {
						t.Fatalf("image %d pixel (%d,%d) channel %d: %g, want %g", b, y, c, ch, got, want)
					}
				}
			}
		}
	}
	if twice := WithMirrors(batch, size, m[len(x):]); !slices.Equal(twice[len(x):], x) {
		t.Errorf("mirroring twice does not give x back")
	}
}

// TestFlipAverage: a model with Info.FlipAverage gives, for each image,
// the mean of the probabilities the same model without it gives for the
// image and for its mirror image (within 1e-6: one pass of 2·batch
// images against two passes), through Forward and ForwardOOD; its OOD
// scores are the images' own. The head is softened so that the mirror
// images change the probabilities by far more than the tolerance.
func TestFlipAverage(t *testing.T) {
	m, _, _ := oodModel(t)
	softenHead(m, 0.01)
	plain, err := NewNet(m) // with the OOD statistics
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(23, 24))
	const batch = 3
	x := uniformFloats(rng, batch*32*32*3, 100)
	mirrored := WithMirrors(batch, 32, x)[len(x):]
	a, b := plain.Forward(batch, x), plain.Forward(batch, mirrored)
	_, wantScores := plain.ForwardOOD(batch, x)
	m.Info.FlipAverage = true
	flip, err := NewNet(m)
	if err != nil {
		t.Fatal(err)
	}
	probs := flip.Forward(batch, x)
	probsOOD, scores := flip.ForwardOOD(batch, x)
	if !slices.Equal(probs, probsOOD) {
		t.Errorf("ForwardOOD's probabilities differ from Forward's")
	}
	if len(probs) != len(a) {
		t.Fatalf("%d probabilities, want %d", len(probs), len(a))
	}
	if d := maxAbsDiff(a, b); d < 1e-4 {
		t.Fatalf("the mirror images move the probabilities by %.2g only, too little for the 1e-6 tolerance to tell an average from either answer", d)
	}
	for i := range probs {
		want := (float64(a[i]) + float64(b[i])) / 2
		if math.Abs(float64(probs[i])-want) > 1e-6 {
			t.Fatalf("probability %d: %g, want the mean of %g and %g", i, probs[i], a[i], b[i])
		}
	}
	if len(scores) != batch || len(wantScores) != batch {
		t.Fatalf("%d OOD scores, want %d as the plain model gives (%d)", len(scores), batch, len(wantScores))
	}
	for i := range scores {
		if math.Abs(scores[i]-wantScores[i]) > 1e-9*math.Max(1, math.Abs(wantScores[i])) {
			t.Errorf("OOD score %d: %g, want the image's own %g", i, scores[i], wantScores[i])
		}
	}
}

// TestFlipAverageInFile: the flag travels through a model file as
// flip_average "true", is absent when off, and a value other than true or
// false is refused with its name.
func TestFlipAverageInFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	for _, on := range []bool{false, true} {
		m := randomNetModel(rng, 64, 32, HeadGAP, 3)
		m.Info.FlipAverage = on
		var buf bytes.Buffer
		if err := WriteModel(&buf, m, DTypeFloat32); err != nil {
			t.Fatal(err)
		}
		got, err := ReadModel(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "m.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		if got.Info.FlipAverage != on || strings.Contains(buf.String(), "flip_average") != on {
			t.Errorf("written with FlipAverage %v: read %v, key in file %v", on, got.Info.FlipAverage, strings.Contains(buf.String(), "flip_average"))
		}
	}
	m := randomNetModel(rng, 64, 32, HeadGAP, 3)
	m.Info.FlipAverage = true
	var buf bytes.Buffer
	if err := WriteModel(&buf, m, DTypeFloat32); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(buf.Bytes(), []byte(`"flip_average":"true"`), []byte(`"flip_average":"yes!"`), 1)
	if bytes.Equal(bad, buf.Bytes()) {
		t.Fatal("could not find the flip_average entry in the header")
	}
	if _, err := ReadModel(bytes.NewReader(bad), int64(len(bad)), "bad.safetensors"); err == nil || !strings.Contains(err.Error(), `flip_average "yes!"`) {
		t.Errorf("flip_average yes!: error %v, want one naming the value", err)
	}
}
