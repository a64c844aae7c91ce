//go:build goexperiment.simd && wasm

package kernels

import "simd/archsimd"

func init() { widenHalf = widenHalfSIMD128 }

// widenHalfSIMD128 is widenHalfGo eight values at a time: extend the
// float16 bits to 32, move the sign to bit 31 and the exponent and
// mantissa up by 13, reinterpret as float32 and multiply by 2^112 (which
// also scales float16 subnormals, shifted into float32 subnormals,
// exactly). The tail of fewer than 8 runs widenHalfGo.
func widenHalfSIMD128(dst []float32, src []uint16) {
	src = src[:len(dst)]
	signMask := archsimd.BroadcastUint32x4(0x8000)
	magMask := archsimd.BroadcastUint32x4(0x7fff)
	scale := archsimd.BroadcastFloat32x4(halfExpBias2)
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		h := archsimd.LoadUint16x8Array((*[8]uint16)(src[i : i+8]))
		lo, hi := h.ExtendLo4ToUint32(), h.ExtendHi4ToUint32()
		lo = lo.And(signMask).ShiftAllLeft(16).Or(lo.And(magMask).ShiftAllLeft(13))
		hi = hi.And(signMask).ShiftAllLeft(16).Or(hi.And(magMask).ShiftAllLeft(13))
		lo.BitsToFloat32().Mul(scale).StoreArray((*[4]float32)(dst[i : i+4]))
		hi.BitsToFloat32().Mul(scale).StoreArray((*[4]float32)(dst[i+4 : i+8]))
	}
	if i < len(dst) {
		widenHalfGo(dst[i:], src[i:])
	}
}
