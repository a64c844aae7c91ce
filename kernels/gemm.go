package kernels

import (
	"fmt"
	"sync"
)

// gemmKernel is one SGEMM microkernel variant together with the blocking it
// is tuned for. The driver (gemmRun) is shared by all variants: it packs A in
// strips of mr rows, walks the packed B panels of nr columns and calls micro
// for every mr×nr tile of C.
//
// Packed layouts (both zero-padded to full tiles):
//   - A strip s of a kc-deep block is row-major: a[s*mr*kc + i*kc + kk] =
//     A[i0+s*mr+i][k0+kk], so packing a row of A (or an image patch for the
//     convolution) is a contiguous copy, and the microkernel broadcasts
//     from mr row streams.
//   - B panel p: data[p*K*nr + kk*nr + j] = B[kk][p*nr+j]; the kc-deep block
//     starting at k0 is the contiguous slice from p*K*nr + k0*nr.
type gemmKernel struct {
	name string
	mr   int // rows of C per microkernel call
	nr   int // columns of C per microkernel call (the packed-B panel width)
	kc   int // depth of one K block (fixed per variant: results never depend on threads)
	mc   int // rows of A packed at once (multiple of mr), sized for the L2 cache

	// micro computes the mr×nr product of a packed A strip and a packed B
	// panel over kc steps and stores its top-left rows×cols corner into c
	// (row stride ldc): c = acc, or c = c + acc when load is set; then, if
	// bias is non-nil, c += bias[j]; then, if relu, c = max(c, 0).
	// It must not read c when load is false.
	micro func(kc int, a, b, c []float32, ldc, rows, cols int, load bool, bias []float32, relu bool)

	// kmajor says micro reads each packed A strip k-major instead:
	// a[s*mr*kc + kk*mr + i]. A transposed A (stored K×M, as the kernel
	// gradients' left matrices are) packs into it by contiguous copies of
	// mr floats, where the row-major strip needs a transposition.
	kmajor bool
	// transATwin, when set, is the same tile (mr, nr, kc, mc: the packed B
	// is shared) with kmajor set; gemmWith runs it for a transposed A.
	transATwin *gemmKernel
}

// genericGemm is the portable pure-Go microkernel, compiled on every target.
var genericGemm = &gemmKernel{name: "generic", mr: 4, nr: 4, kc: 256, mc: 64, micro: microGeneric4x4}

// gemmVariants lists every microkernel usable on this machine, fastest
// first; the last one is always genericGemm. Tests run all of them.
var gemmVariants = append(archGemmVariants(), genericGemm)

// bestGemm is the variant PackB and Gemm use.
var bestGemm = gemmVariants[0]

// PackedB is a K×N right-hand matrix packed once into the panel layout the
// active microkernel reads, for reuse across many GemmPacked calls (the
// weights of a convolution or dense layer).
type PackedB struct {
	k, n int
	kern *gemmKernel
	data []float32
	half []uint16 // float16 bits in data's layout instead of data (Winograd3x3 built with NewWinograd3x3Half); data is nil then
}

// K returns the number of rows (the reduction length) of the packed matrix.
func (p *PackedB) K() int { return p.k }

// N returns the number of columns of the packed matrix.
func (p *PackedB) N() int { return p.n }

// PackB packs op(B) (K×N) for GemmPacked. op(B) = B when transB is false
// (b holds K rows of ldb floats), or Bᵀ when transB is true (b holds N rows
// of ldb floats, each one a column of op(B)).
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	return packBWith(bestGemm, transB, k, n, b, ldb)
}

func packBWith(kern *gemmKernel, transB bool, k, n int, b []float32, ldb int) *PackedB {
	return packBInto(kern, transB, k, n, b, ldb, nil)
}

// packedBLen is the number of floats the packed form of a K×N matrix takes.
func packedBLen(kern *gemmKernel, k, n int) int {
	return (n + kern.nr - 1) / kern.nr * kern.nr * k
}

// packBInto packs like packBWith, into buf when it is big enough.
func packBInto(kern *gemmKernel, transB bool, k, n int, b []float32, ldb int, buf []float32) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("kernels: PackB: negative size k=%d n=%d", k, n))
	}
	if transB {
		checkMatrix("PackB", "b", b, n, k, ldb)
	} else {
		checkMatrix("PackB", "b", b, k, n, ldb)
	}
	nr := kern.nr
	panels := (n + nr - 1) / nr
	data := buf
	if cap(data) < packedBLen(kern, k, n) {
		data = make([]float32, packedBLen(kern, k, n))
	}
	data = data[:packedBLen(kern, k, n)]
	for p := 0; p < panels; p++ {
		j0 := p * nr
		cols := min(nr, n-j0)
		panel := data[p*k*nr : (p+1)*k*nr]
		if !transB {
			for kk := 0; kk < k; kk++ {
				row := panel[kk*nr : kk*nr+nr]
				copy(row[:cols], b[kk*ldb+j0:kk*ldb+j0+cols])
				clear(row[cols:])
			}
			continue
		}
		if cols < nr {
			clear(panel)
		}
		for j := 0; j < cols; j++ {
			col := b[(j0+j)*ldb : (j0+j)*ldb+k]
			for kk, v := range col {
				panel[kk*nr+j] = v
			}
		}
	}
	return &PackedB{k: k, n: n, kern: kern, data: data}
}

// packPool recycles the packed copies of B that Gemm makes for one call.
var packPool sync.Pool

// Gemm computes C = op(A)·op(B), or C += op(A)·op(B) when accumulate is set,
// with op(A) M×K and op(B) K×N, all row-major with leading dimensions lda,
// ldb, ldc. transA means a holds K rows of lda floats (Aᵀ); transB likewise.
// With accumulate false, C is only written, never read.
func Gemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: Gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	if m == 0 || n == 0 {
		return
	}
	var buf []float32
	if p, ok := packPool.Get().(*[]float32); ok {
		buf = *p
	}
	pb := packBInto(bestGemm, transB, k, n, b, ldb, buf)
	gemmWith(pb.kern, transA, m, a, lda, pb, c, ldc, accumulate, nil, false)
	packPool.Put(&pb.data)
}

// GemmPacked computes C = A·B (+ C when accumulate) + bias, then max(·, 0)
// when relu is set, with A M×K row-major (lda) and B packed by PackB.
// bias has one value per column of C (length N) or is nil.
// This is the fused epilogue convolution and dense layers use.
func GemmPacked(m int, a []float32, lda int, b *PackedB, c []float32, ldc int, accumulate bool, bias []float32, relu bool) {
	if m < 0 {
		panic(fmt.Sprintf("kernels: GemmPacked: negative m=%d", m))
	}
	gemmWith(b.kern, false, m, a, lda, b, c, ldc, accumulate, bias, relu)
}

// gemmWith checks A and runs the driver with A read straight from memory.
func gemmWith(kern *gemmKernel, transA bool, m int, a []float32, lda int, b *PackedB, c []float32, ldc int, accumulate bool, bias []float32, relu bool) {
	if m == 0 || b.n == 0 {
		return
	}
	if transA {
		checkMatrix("Gemm", "a", a, b.k, m, lda)
	} else {
		checkMatrix("Gemm", "a", a, m, b.k, lda)
	}
	if transA && kern.transATwin != nil {
		kern = kern.transATwin
	}
	mr := kern.mr
	packA := func(dst []float32, i0, rows, k0, kc int) {
		if kern.kmajor {
			packAKMajor(dst, a, lda, transA, i0, rows, k0, kc, mr)
			return
		}
		packAStrips(dst, a, lda, transA, i0, rows, k0, kc, mr)
	}
	gemmRun(kern, m, packA, b, c, ldc, accumulate, bias, relu)
}

// packAKMajor packs rows [i0, i0+rows) and columns [k0, k0+kc) of op(A)
// into k-major strips of mr rows (dst[s*mr*kc + kk*mr + i]), zero-padding
// the last strip. For a transposed A each step is a copy of mr
// consecutive floats.
func packAKMajor(dst, a []float32, lda int, transA bool, i0, rows, k0, kc, mr int) {
	for s := 0; s*mr < rows; s++ {
		r := min(mr, rows-s*mr)
		strip := dst[s*mr*kc : (s+1)*mr*kc]
		for kk := 0; kk < kc; kk++ {
			d := strip[kk*mr : kk*mr+mr]
			if transA {
				copy(d[:r], a[(k0+kk)*lda+i0+s*mr:])
			} else {
				for i := range r {
					d[i] = a[(i0+s*mr+i)*lda+k0+kk]
				}
			}
			clear(d[r:])
		}
	}
}

// packAStrips packs rows [i0, i0+rows) and columns [k0, k0+kc) of op(A) into
// strips of mr rows (layout in gemmKernel's comment), zero-padding the last.
func packAStrips(dst, a []float32, lda int, transA bool, i0, rows, k0, kc, mr int) {
	padded := (rows + mr - 1) / mr * mr
	if transA {
		packATransposed(dst, a, lda, i0, rows, k0, kc)
	}
	for i := 0; i < padded; i++ {
		d := dst[i*kc : i*kc+kc]
		switch {
		case i >= rows:
			clear(d)
		case !transA:
			copy(d, a[(i0+i)*lda+k0:])
		}
	}
}

// packATransposedBlock is how many rows of a stored Aᵀ packATransposed
// reads per pass: they stay in L1 while every packed row takes that many
// contiguous values from them.
const packATransposedBlock = 16

// packATransposed writes dst[i*kc+kk] = a[(k0+kk)*lda+i0+i] for i < rows
// and kk < kc: rows of op(A) = Aᵀ, from a stored K×M. It goes in blocks of
// packATransposedBlock stored rows, so reads and writes both stay within
// a few cache lines (row by row of dst, it would read one line per value).
func packATransposed(dst, a []float32, lda, i0, rows, k0, kc int) {
	const blk = packATransposedBlock
	for kb := 0; kb < kc; kb += blk {
		n := min(blk, kc-kb)
		var src [blk][]float32
		for kk := 0; kk < n; kk++ {
			src[kk] = a[(k0+kb+kk)*lda+i0:][:rows]
		}
		for i := 0; i < rows; i++ {
			d := dst[i*kc+kb:][:n]
			for kk := range d {
				d[kk] = src[kk][i]
			}
		}
	}
}

// packAFunc packs rows [i0, i0+rows) and reduction columns [k0, k0+kc) of the
// left-hand matrix into dst in strips of the kernel's mr rows. Plain GEMM
// copies from memory; the 3x3 convolution gathers image patches (implicit
// GEMM) so the im2col matrix never exists in full.
type packAFunc func(dst []float32, i0, rows, k0, kc int)

// scratchList recycles per-worker packed-A buffers between calls (each
// holds one mc×kc block, so the list stays small).
var scratchList freeList

// gemmRun is the blocked SGEMM driver shared by all variants and by the
// convolution. Work is split into tasks over blocks of mc rows and, when
// there are fewer row blocks than threads, chunks of B panels; the K loop is
// never split, and its block boundaries (multiples of kern.kc) are fixed, so
// every element of C is computed by the same sequence of operations whatever
// the thread count.
func gemmRun(kern *gemmKernel, m int, packA packAFunc, b *PackedB, c []float32, ldc int, accumulate bool, bias []float32, relu bool) {
	n, k := b.n, b.k
	if m == 0 || n == 0 {
		return
	}
	if ldc < n {
		panic(fmt.Sprintf("kernels: GemmPacked: ldc=%d < n=%d", ldc, n))
	}
	if len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("kernels: GemmPacked: len(c)=%d, need %d for %dx%d with ldc=%d", len(c), (m-1)*ldc+n, m, n, ldc))
	}
	if bias != nil && len(bias) < n {
		panic(fmt.Sprintf("kernels: GemmPacked: len(bias)=%d < n=%d", len(bias), n))
	}
	if k == 0 {
		epilogueOnly(m, n, c, ldc, accumulate, bias, relu)
		return
	}
	mr, nr, kc, mc := kern.mr, kern.nr, kern.kc, kern.mc
	mBlocks := (m + mc - 1) / mc
	panels := (n + nr - 1) / nr
	nChunks := 1
	if threads := Threads(); threads > 1 {
		for mBlocks*nChunks < 2*threads && nChunks*2 <= panels {
			nChunks *= 2
		}
	}
	panelsPerChunk := (panels + nChunks - 1) / nChunks
	nChunks = (panels + panelsPerChunk - 1) / panelsPerChunk
	kcMax := min(kc, k)
	scratchLen := min(mc, (m+mr-1)/mr*mr) * kcMax

	parallelFor(mBlocks*nChunks, nil, func(_, task int) {
		buf := scratchList.get(scratchLen)
		defer scratchList.put(buf)
		ap := *buf
		i0 := (task / nChunks) * mc
		rows := min(mc, m-i0)
		p0 := (task % nChunks) * panelsPerChunk
		p1 := min(panels, p0+panelsPerChunk)
		for k0 := 0; k0 < k; k0 += kc {
			kb := min(kc, k-k0)
			packA(ap, i0, rows, k0, kb)
			load := accumulate || k0 > 0
			last := k0+kb == k
			for p := p0; p < p1; p++ {
				bp := b.data[p*k*nr+k0*nr : p*k*nr+(k0+kb)*nr]
				j0 := p * nr
				cols := min(nr, n-j0)
				var pb []float32
				if last && bias != nil {
					pb = bias[j0 : j0+cols]
				}
				for s := 0; s*mr < rows; s++ {
					r := min(mr, rows-s*mr)
					kern.micro(kb, ap[s*mr*kb:(s+1)*mr*kb], bp, c[(i0+s*mr)*ldc+j0:], ldc, r, cols, load, pb, relu && last)
				}
			}
		}
	})
}

// epilogueOnly handles K = 0: C = (C or 0) + bias, then ReLU.
func epilogueOnly(m, n int, c []float32, ldc int, accumulate bool, bias []float32, relu bool) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			var v float32
			if accumulate {
				v = row[j]
			}
			if bias != nil {
				v += bias[j]
			}
			if relu && v < 0 {
				v = 0
			}
			row[j] = v
		}
	}
}

// storeTile writes the rows×cols corner of an mr×nr accumulator tile (row
// stride nr) into c with the epilogue described at gemmKernel.micro.
// The SIMD variants use it for partial edge tiles.
func storeTile(tile []float32, nr int, c []float32, ldc, rows, cols int, load bool, bias []float32, relu bool) {
	for i := 0; i < rows; i++ {
		row := c[i*ldc : i*ldc+cols]
		acc := tile[i*nr : i*nr+cols]
		for j := range row {
			v := acc[j]
			if load {
				v = row[j] + v
			}
			if bias != nil {
				v += bias[j]
			}
			if relu && v < 0 {
				v = 0
			}
			row[j] = v
		}
	}
}

// microGeneric4x4 is the portable 4×4 microkernel: sixteen scalar
// accumulators, which the Go compiler keeps in registers on most targets.
func microGeneric4x4(kc int, a, b, c []float32, ldc, rows, cols int, load bool, bias []float32, relu bool) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	a0, a1, a2, a3 := a[0:kc], a[kc:2*kc], a[2*kc:3*kc], a[3*kc:4*kc]
	b = b[:kc*4]
	for kk := 0; kk < kc; kk++ {
		bk := b[kk*4 : kk*4+4 : kk*4+4]
		x0, x1, x2, x3 := a0[kk], a1[kk], a2[kk], a3[kk]
		b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
		c00 += x0 * b0
		c01 += x0 * b1
		c02 += x0 * b2
		c03 += x0 * b3
		c10 += x1 * b0
		c11 += x1 * b1
		c12 += x1 * b2
		c13 += x1 * b3
		c20 += x2 * b0
		c21 += x2 * b1
		c22 += x2 * b2
		c23 += x2 * b3
		c30 += x3 * b0
		c31 += x3 * b1
		c32 += x3 * b2
		c33 += x3 * b3
	}
	tile := [16]float32{
		c00, c01, c02, c03,
		c10, c11, c12, c13,
		c20, c21, c22, c23,
		c30, c31, c32, c33,
	}
	storeTile(tile[:], 4, c, ldc, rows, cols, load, bias, relu)
}

// checkMatrix panics with a clear message when s cannot hold a rows×cols
// row-major matrix with leading dimension ld.
func checkMatrix(fn, name string, s []float32, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("kernels: %s: ld%s=%d < %d columns", fn, name, ld, cols))
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("kernels: %s: len(%s)=%d, need %d for %dx%d with ld=%d", fn, name, len(s), need, rows, cols, ld))
	}
}
