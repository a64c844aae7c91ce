package kernels

import (
	"fmt"
	"testing"
)

// packATransposedNaive is the row-by-row loop packATransposed replaced:
// the reference for its test and the baseline of its benchmark.
func packATransposedNaive(dst, a []float32, lda, i0, rows, k0, kc int) {
	for i := 0; i < rows; i++ {
		d := dst[i*kc : i*kc+kc]
		for kk := range d {
			d[kk] = a[(k0+kk)*lda+i0+i]
		}
	}
}

// TestPackATransposed checks the blocked transposed packing against the
// naive loop on shapes that do not fill a block, with guard bands.
func TestPackATransposed(t *testing.T) {
	for _, c := range []struct{ lda, i0, rows, k0, kc int }{
		{64, 0, 14, 0, 256}, {64, 50, 14, 3, 17}, {70, 5, 3, 100, 1}, {16, 0, 16, 0, 16}, {33, 1, 32, 0, 31},
	} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			a := randFloats(newRand(7), (c.k0+c.kc)*c.lda)
			want := make([]float32, c.rows*c.kc)
			packATransposedNaive(want, a, c.lda, c.i0, c.rows, c.k0, c.kc)
			got := newGuarded(c.rows * c.kc)
			packATransposed(got.data, a, c.lda, c.i0, c.rows, c.k0, c.kc)
			got.check(t)
			if at := bitsEqual(got.data, want); at >= 0 {
				t.Fatalf("differs at %d: %v, want %v", at, got.data[at], want[at])
			}
		})
	}
}

// BenchmarkPackATransposed packs a 112x256 block of Aᵀ as the Winograd
// kernel gradient does (A = the input transform, 64 channels a row), with
// the blocked loop and with the naive one.
func BenchmarkPackATransposed(b *testing.B) {
	const lda, rows, kc = 128, 112, 256
	a := randFloats(newRand(1), kc*lda)
	dst := make([]float32, rows*kc)
	for _, v := range []struct {
		name string
		fn   func(dst, a []float32, lda, i0, rows, k0, kc int)
	}{{"blocked", packATransposed}, {"naive", packATransposedNaive}} {
		b.Run(v.name, func(b *testing.B) {
			for range b.N {
				v.fn(dst, a, lda, 0, rows, 0, kc)
			}
		})
	}
}
