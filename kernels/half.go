package kernels

import "math"

// Half-precision (IEEE 754 binary16) storage for packed weights. A
// Winograd layer built with NewWinograd3x3Half keeps its transformed
// weights as float16 bits in the packed-B layout the microkernel reads
// (half the memory of float32), and widens one K block of one panel at a
// time (kc×nr values, at most 16 KiB) into a float32 scratch that stays in
// the L1 cache while every row strip of the GEMM reads it, so the widening
// is paid once per panel per GEMM call, not per row strip; the microkernels
// are unchanged (XNNPACK's scheme for fp16 weights).

// halfMax is the largest finite float16 value; toHalf saturates to it so
// packed weights are never infinite.
const halfMax = 65504

// toHalf rounds f to the nearest float16 (ties to even), saturating finite
// values beyond ±65504 to ±65504; NaN becomes the quiet NaN 0x7e00. The
// result is exact when f is a float16 value, subnormals included.
func toHalf(f float32) uint16 {
	if f != f {
		return 0x7e00
	}
	if f > halfMax {
		f = halfMax
	} else if f < -halfMax {
		f = -halfMax
	}
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	b &^= 0x80000000
	exp := int(b>>23) - 127 // unbiased exponent of |f|
	switch {
	case exp >= -14: // normal float16: keep 10 of the 23 mantissa bits
		// Round to nearest even on the 13 dropped bits; a carry into the
		// exponent is the correct rounding up (saturation above keeps it
		// finite).
		b += 0xfff + (b>>13)&1
		return sign | uint16((b>>13)-(127-15)<<10)
	case exp >= -25: // subnormal float16: value = m × 2^-24
		// |f| = mant × 2^(exp-23) with 24 significant bits, so
		// m = |f| / 2^-24 = mant × 2^(exp+1): shift right by -1-exp (14..24).
		mant := b&0x7fffff | 0x800000
		shift := uint(-1 - exp)
		m := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || rem == half && m&1 == 1 {
			m++
		}
		return sign | uint16(m)
	}
	return sign // rounds to ±0
}

// halfExpBias2 is 2^112, the factor that turns the float32 whose bits are
// a float16's exponent and mantissa shifted left by 13 into the float16's
// value: the exponent biases differ by 127-15 = 112, and for float16
// subnormals (exponent field 0) the shifted bits are a float32 subnormal
// with the same mantissa, which the product scales exactly too.
const halfExpBias2 = 0x1p112

// widenHalfGo widens len(dst) float16 values from src into dst: the
// portable twin of the SIMD widening, the same bit steps (sign moved to
// bit 31, exponent and mantissa shifted by 13, product with 2^112), so the
// two agree bit for bit on every input; for finite float16 values (all
// toHalf writes) the product is exact, so both equal the float16 value.
func widenHalfGo(dst []float32, src []uint16) {
	src = src[:len(dst)]
	for i, h := range src {
		bits := uint32(h&0x8000)<<16 | uint32(h&0x7fff)<<13
		dst[i] = math.Float32frombits(bits) * halfExpBias2
	}
}

// widenHalf is the widening the GEMM driver calls: widenHalfGo, or the
// SIMD version where the build has one (half_wasm.go).
var widenHalf = widenHalfGo
