package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// halfValue is the float16 definition, in float64: the reference both
// widenings and toHalf are held to.
func halfValue(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp, mant := int(h>>10)&0x1f, float64(h&0x3ff)
	switch exp {
	case 0:
		return sign * mant * math.Ldexp(1, -24)
	case 0x1f:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * (1 + mant/1024) * math.Ldexp(1, exp-15)
}

// TestWidenHalfMatchesDefinition widens every finite float16 bit pattern
// (subnormals and both zeros included) with the build's widening (SIMD
// where the build has it) and the portable twin, at lengths that leave
// SIMD tails, inside guard bands: both must equal the definition exactly,
// and agree bit for bit with each other on all 65536 patterns (Inf and
// NaN too, which toHalf never writes).
func TestWidenHalfMatchesDefinition(t *testing.T) {
	all := make([]uint16, 1<<16)
	for i := range all {
		all[i] = uint16(i)
	}
	for _, n := range []int{1, 7, 8, 9, 15, 17, 1 << 16} {
		for start := 0; start+n <= len(all); start += max(n, 4093) {
			src := all[start : start+n]
			got, twin := newGuarded(n), newGuarded(n)
			widenHalf(got.data, src)
			widenHalfGo(twin.data, src)
			got.check(t)
			twin.check(t)
			for i, h := range src {
				if a, b := math.Float32bits(got.data[i]), math.Float32bits(twin.data[i]); a != b {
					t.Fatalf("n=%d: %#04x: widenHalf %#08x, widenHalfGo %#08x", n, h, a, b)
				}
				if h&0x7c00 == 0x7c00 {
					continue // Inf/NaN: only the bit agreement above is promised
				}
				if want := halfValue(h); float64(got.data[i]) != want || math.Signbit(float64(got.data[i])) != math.Signbit(want) {
					t.Fatalf("n=%d: %#04x widens to %g, want %g", n, h, got.data[i], want)
				}
			}
		}
	}
}

// TestToHalfRounds checks toHalf against the definition: every finite
// float16 value round-trips; random float32 values (across the normal and
// subnormal float16 ranges and beyond) go to the nearest float16, ties to
// the even mantissa; overflow saturates to ±65504; NaN stays NaN.
func TestToHalfRounds(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		if h&0x7c00 == 0x7c00 {
			continue
		}
		if got := toHalf(float32(halfValue(h))); got != h {
			t.Fatalf("toHalf(%g) = %#04x, want %#04x", halfValue(h), got, h)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(f float32) {
		h := toHalf(f)
		v, x := halfValue(h), float64(f)
		if math.Signbit(v) != math.Signbit(x) {
			t.Fatalf("toHalf(%g) = %#04x (%g): sign lost", f, h, v)
		}
		if math.Abs(x) > halfMax {
			if math.Abs(v) != halfMax {
				t.Fatalf("toHalf(%g) = %g, want saturation to ±65504", f, v)
			}
			return
		}
		// The neighbours of h in magnitude must not be closer to f.
		for _, nb := range []uint16{h + 1, h - 1} {
			if nb&0x7fff >= 0x7c00 || (h&0x7fff == 0 && nb == h-1) {
				continue
			}
			if nb&0x8000 != h&0x8000 {
				continue
			}
			d, dn := math.Abs(v-x), math.Abs(halfValue(nb)-x)
			if dn < d || dn == d && h&1 == 1 {
				t.Fatalf("toHalf(%g) = %#04x (%g), but %#04x (%g) is nearer or an even tie", f, h, v, nb, halfValue(nb))
			}
		}
	}
	for range 200000 {
		e := rng.IntN(50) - 30 // 2^-30 .. 2^19
		f := float32(math.Ldexp(rng.Float64()+0.5, e))
		if rng.IntN(2) == 0 {
			f = -f
		}
		check(f)
	}
	// Exact ties between neighbours, normal and subnormal.
	for _, h := range []uint16{0x0001, 0x0002, 0x0400, 0x3c00, 0x3c01, 0x7bfe} {
		check(float32((halfValue(h) + halfValue(h+1)) / 2))
	}
	if h := toHalf(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Fatalf("toHalf(NaN) = %#04x, want a NaN", h)
	}
}
