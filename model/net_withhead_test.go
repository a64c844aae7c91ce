package model

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestWithHeadEqualsNewNet: a Net given another head over the same base
// (what the teach page does after training) classifies exactly as a Net
// built from scratch for that model, for a whole base and for bases cut
// after K conv layers, and refuses a model of another shape.
func TestWithHeadEqualsNewNet(t *testing.T) {
	const size, batch = 32, 2
	rng := rand.New(rand.NewPCG(23, 5))
	full := randomConvBase(rng, Arch{WidthDiv: 16})
	x := uniformFloats(rng, batch*size*size*3, 100)
	for _, layers := range []int{13, 10, 4} {
		first := cutModel(rng, full, layers, size, HeadGAP, 3)
		second := cutModel(rng, full, layers, size, HeadLinear, 5)
		net, err := NewNet(first)
		if err != nil {
			t.Fatal(err)
		}
		swapped, err := net.WithHead(second)
		if err != nil {
			t.Fatalf("K=%d: %v", layers, err)
		}
		fresh, err := NewNet(second)
		if err != nil {
			t.Fatal(err)
		}
		got, want := swapped.Forward(batch, x), fresh.Forward(batch, x)
		if !slices.Equal(got, want) {
			t.Errorf("K=%d: WithHead's probabilities %v, NewNet's %v", layers, got, want)
		}
	}
	other := cutModel(rng, full, 13, 64, HeadGAP, 3)
	net, err := NewNet(cutModel(rng, full, 13, size, HeadGAP, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.WithHead(other); err == nil {
		t.Error("WithHead took a 64x64 model on a 32x32 Net")
	}
}
