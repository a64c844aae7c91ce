//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

func init() {
	if archsimd.X86.AVX2() {
		reluBackwardSpan = reluBackwardAVX2
		reluBackwardSpans = append(reluBackwardSpans, namedReLUBackward{"avx2", reluBackwardAVX2})
	}
	if archsimd.X86.AVX512() {
		transposeBlock16 = transposeBlock16AVX512
		reluBackwardSpan = reluBackwardAVX512
		reluBackwardSpans = append(reluBackwardSpans, namedReLUBackward{"avx512", reluBackwardAVX512})
	}
}

// reluBackwardAVX512 is reluBackwardScalar 16 lanes at a time: dy where
// y > 0 (false for NaN), else +0.
func reluBackwardAVX512(y, dy, dx []float32) {
	n := len(y)
	dy, dx = dy[:n], dx[:n]
	var zero archsimd.Float32x16
	i := 0
	for ; i+16 <= n; i += 16 {
		pos := archsimd.LoadFloat32x16(y[i : i+16]).Greater(zero)
		archsimd.LoadFloat32x16(dy[i : i+16]).Masked(pos).Store(dx[i : i+16])
	}
	if i < n {
		reluBackwardScalar(y[i:], dy[i:], dx[i:])
	}
}

// reluBackwardAVX2 is reluBackwardScalar 8 lanes at a time.
func reluBackwardAVX2(y, dy, dx []float32) {
	n := len(y)
	dy, dx = dy[:n], dx[:n]
	var zero archsimd.Float32x8
	i := 0
	for ; i+8 <= n; i += 8 {
		pos := archsimd.LoadFloat32x8(y[i : i+8]).Greater(zero)
		archsimd.LoadFloat32x8(dy[i : i+8]).Masked(pos).Store(dx[i : i+8])
	}
	if i < n {
		reluBackwardScalar(y[i:], dy[i:], dx[i:])
	}
}

// transposeLo and transposeHi are the ConcatPermute indices of one stage
// of the 16x16 transpose, for the row pair (i, i+d) at distance d (8, 4,
// 2, 1): the new row i keeps the column blocks of row i that have bit d
// clear and takes the matching blocks of row i+d into the others; the new
// row i+d gets what is left. After the four stages every row and column
// index bit has been swapped: the block is transposed.
var transposeLo, transposeHi = func() (lo, hi [4][16]uint32) {
	for s, d := range [4]uint32{8, 4, 2, 1} {
		for k := uint32(0); k < 16; k++ {
			if k&d == 0 {
				lo[s][k], hi[s][k] = k, k+d
			} else {
				lo[s][k], hi[s][k] = 16+k-d, 16+k
			}
		}
	}
	return lo, hi
}()

// transposeBlock16AVX512 transposes one 16x16 block in registers: 16
// loads, four stages of 16 two-source permutes (VPERMI2PS), 16 stores.
func transposeBlock16AVX512(dst []float32, ld int, src []float32, ls int) {
	var r [16]archsimd.Float32x16
	for i := range r {
		r[i] = archsimd.LoadFloat32x16(src[i*ls : i*ls+16])
	}
	for s, d := range [4]int{8, 4, 2, 1} {
		lo := archsimd.LoadUint32x16Array(&transposeLo[s])
		hi := archsimd.LoadUint32x16Array(&transposeHi[s])
		for i := 0; i < 16; i++ {
			if i&d != 0 {
				continue
			}
			a, b := r[i], r[i+d]
			r[i], r[i+d] = a.ConcatPermute(b, lo), a.ConcatPermute(b, hi)
		}
	}
	for i := range r {
		r[i].Store(dst[i*ld : i*ld+16])
	}
}
