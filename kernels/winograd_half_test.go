package kernels

import (
	"fmt"
	"math"
	"testing"
)

// TestWinogradHalfIsRoundedFloat32 holds the float16 layer to the float32
// layer whose transformed weights were rounded to float16 in place: the
// same values through the same microkernel calls, so the outputs must
// agree bit for bit (this pins the panel widening inside the GEMMs, over
// K blocks and partial panels), on awkward shapes, both tiles and both
// strategies, inside guard bands. The rounded weights must also be the
// float16 nearest to the float32 ones, and take half the bytes.
func TestWinogradHalfIsRoundedFloat32(t *testing.T) {
	for i, s := range awkwardConvShapes {
		rng := newRand(uint64(300 + i))
		in := randFloats(rng, s.n*s.h*s.w*s.cin)
		kernel := randFloats(rng, 9*s.cin*s.cout)
		bias := randFloats(rng, s.cout)
		for _, tile := range []int{4, 2} {
			half := NewWinograd3x3Half(s.cin, s.cout, kernel, bias, tile)
			rounded := newWinograd3x3(s.cin, s.cout, kernel, bias, tile, false)
			if !half.Half() || rounded.Half() {
				t.Fatal("Half() reports the wrong storage")
			}
			if 2*half.WeightBytes() != rounded.WeightBytes() {
				t.Fatalf("float16 weights take %d bytes, float32 %d: want half", half.WeightBytes(), rounded.WeightBytes())
			}
			for f, u := range rounded.u {
				for j, v := range u.data {
					h := toHalf(v)
					if h != half.u[f].half[j] {
						t.Fatalf("frequency %d value %d: float16 layer holds %#04x, want toHalf(%g) = %#04x", f, j, half.u[f].half[j], v, h)
					}
					u.data[j] = float32(halfValue(h))
				}
			}
			for _, mode := range []int{1, 2} {
				name := fmt.Sprintf("%dx%dx%dx%d->%d/F%d/%s", s.n, s.h, s.w, s.cin, s.cout, tile, winoModeNames[mode])
				t.Run(name, func(t *testing.T) {
					got, want := newGuarded(s.n*s.h*s.w*s.cout), newGuarded(s.n*s.h*s.w*s.cout)
					withWinoMode(mode, func() {
						half.Forward(s.n, s.h, s.w, in, got.data, true)
						rounded.Forward(s.n, s.h, s.w, in, want.data, true)
					})
					got.check(t)
					want.check(t)
					for j := range got.data {
						if math.Float32bits(got.data[j]) != math.Float32bits(want.data[j]) {
							t.Fatalf("output %d: float16 layer %g, rounded float32 layer %g", j, got.data[j], want.data[j])
						}
					}
				})
			}
		}
	}
}

// TestWinogradHalfAccuracy measures the float16 layer against the float64
// reference with VGG16-like data. Rounding each transformed weight to
// float16 (relative error ≤ 2^-11) costs far more than the float32
// transforms do: measured 4e-3 to 7e-3 of max|ref| with F(4x4), whose
// output transform multiplies weights by up to 8·8, and about 3.5e-4 with
// F(2x2), against 1e-5 and 6e-7 in float32. The test holds F(4x4) to 1e-2
// and F(2x2) to 1e-3 of max|ref|: float16 weights are for memory-tight
// devices, not the default.
func TestWinogradHalfAccuracy(t *testing.T) {
	const n, h, w, cout = 1, 12, 12, 32
	for _, cin := range []int{3, 64, 256, 512} {
		scale := 1.0
		if cin == 3 {
			scale = 60
		}
		rng := newRand(uint64(cin))
		in, kernel, bias := vggLikeData(rng, n*h*w, cin, cout, scale)
		want := f64Conv3x3(n, h, w, cin, cout, in, kernel, bias, false)
		for _, tile := range []int{4, 2} {
			out := newGuarded(n * h * w * cout)
			NewWinograd3x3Half(cin, cout, kernel, bias, tile).Forward(n, h, w, in, out.data, false)
			out.check(t)
			e := maxRelErr(out.data, want)
			t.Logf("Cin=%d F(%dx%d) float16 weights: error %.2e of max|ref|", cin, tile, tile, e)
			bound := map[int]float64{4: 1e-2, 2: 1e-3}[tile]
			if e > bound {
				t.Errorf("Cin=%d F(%d): error %.3g > %g", cin, tile, e, bound)
			}
		}
	}
}
