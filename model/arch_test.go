package model

import (
	"math"
	"testing"
)

func TestCountNonFinite(t *testing.T) {
	x := []float32{0, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, math.SmallestNonzeroFloat32}
	if n := CountNonFinite(x); n != 3 {
		t.Errorf("CountNonFinite = %d, want 3", n)
	}
}
