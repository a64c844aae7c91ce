package kernels

import "fmt"

// ReLUBackward computes dx = dy where the ReLU output y is positive, else 0
// (the subgradient at 0 is taken as 0; so is a NaN y). All three slices
// have len(y) elements; dx may be the same slice as dy. It runs on the
// threads in chunks, 16 lanes at a time on AVX-512 (8 on AVX2): every
// activation of a training step passes through it once.
func ReLUBackward(y, dy, dx []float32) {
	n := len(y)
	checkLen("ReLUBackward dy", dy, n)
	checkLen("ReLUBackward dx", dx, n)
	parallelFor((n+reluChunk-1)/reluChunk, nil, func(_, task int) {
		lo, hi := task*reluChunk, min(n, (task+1)*reluChunk)
		reluBackwardSpan(y[lo:hi], dy[lo:hi], dx[lo:hi])
	})
}

// reluChunk is how many elements one task of ReLUBackward takes.
const reluChunk = 1 << 15

// reluBackwardSpan is ReLUBackward on one chunk; SIMD builds replace it at
// init when the CPU allows.
var reluBackwardSpan = reluBackwardScalar

// reluBackwardSpans lists every reluBackwardSpan this CPU can run, for the
// tests.
var reluBackwardSpans = []namedReLUBackward{{"scalar", reluBackwardScalar}}

type namedReLUBackward struct {
	name string
	fn   func(y, dy, dx []float32)
}

func reluBackwardScalar(y, dy, dx []float32) {
	n := len(y)
	dy, dx = dy[:n], dx[:n]
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// Conv3x3BackwardData computes the gradient of a 3x3 convolution (stride 1,
// padding 1) with respect to its input: din ([n][h][w][cin], overwritten)
// from dout ([n][h][w][cout]) and the HWIO kernel. It is itself a 3x3
// convolution of dout with the kernel rotated by 180° and its channel axes
// swapped, W'[ky][kx][co][ci] = W[2-ky][2-kx][ci][co], so it runs on the
// direct convolution (packed implicit GEMM, threaded over output pixels).
// Bias and ReLU do not enter: apply ReLUBackward to dout first.
func Conv3x3BackwardData(n, h, w, cin, cout int, kernel, dout, din []float32) {
	checkLen("Conv3x3BackwardData kernel", kernel, 9*cin*cout)
	checkLen("Conv3x3BackwardData dout", dout, n*h*w*cout)
	checkLen("Conv3x3BackwardData din", din, n*h*w*cin)
	flipped := make([]float32, 9*cin*cout)
	FlipKernel3x3(cin, cout, kernel, flipped)
	NewConv3x3(cout, cin, flipped, nil).Forward(n, h, w, dout, din, false)
}

// FlipKernel3x3 writes into flipped ([3][3][cout][cin]) the kernel of the
// input gradient of the 3x3 convolution with HWIO kernel ([3][3][cin][cout]):
// rotated by 180° with its channel axes swapped,
// flipped[ky][kx][co][ci] = kernel[2-ky][2-kx][ci][co].
func FlipKernel3x3(cin, cout int, kernel, flipped []float32) {
	checkLen("FlipKernel3x3 kernel", kernel, 9*cin*cout)
	checkLen("FlipKernel3x3 flipped", flipped, 9*cin*cout)
	parallelFor(9, nil, func(_, tap int) {
		transposeBlocked(flipped[tap*cout*cin:][:cout*cin], kernel[(8-tap)*cin*cout:][:cin*cout], cin, cout)
	})
}

// transposeBlocked writes the cols×rows transpose of the rows×cols matrix
// src into dst, in 32x32 blocks so both sides stay in cache; whole 16x16
// blocks go through transposeBlock16 when a SIMD build sets it.
func transposeBlocked(dst, src []float32, rows, cols int) {
	const blk = 32
	for r0 := 0; r0 < rows; r0 += blk {
		for c0 := 0; c0 < cols; c0 += blk {
			r1, c1 := min(rows, r0+blk), min(cols, c0+blk)
			if transposeBlock16 != nil && (r1-r0)%16 == 0 && (c1-c0)%16 == 0 {
				for r := r0; r < r1; r += 16 {
					for c := c0; c < c1; c += 16 {
						transposeBlock16(dst[c*rows+r:], rows, src[r*cols+c:], cols)
					}
				}
				continue
			}
			for r := r0; r < r1; r++ {
				row := src[r*cols : (r+1)*cols]
				for c := c0; c < c1; c++ {
					dst[c*rows+r] = row[c]
				}
			}
		}
	}
}

// transposeBlock16, when set, writes the transpose of the 16x16 block at
// src (row stride ls) to dst (row stride ld); SIMD builds set it at init.
var transposeBlock16 func(dst []float32, ld int, src []float32, ls int)

// backwardFilterChunkFloats bounds the im2col buffer of
// Conv3x3BackwardFilter (in floats, 8 MiB), which sets how many pixels one
// GEMM reduces over. It depends only on cin, so the summation order, and
// with it every bit of the result, is the same for any thread count.
const backwardFilterChunkFloats = 2 << 20

// Conv3x3BackwardFilter computes the gradients of a 3x3 convolution with
// respect to its HWIO kernel and its bias: dkernel[ky][kx][ci][co] =
// Σ_pixels in[y+ky-1][x+kx-1][ci]·dout[y][x][co] and dbias[co] = Σ dout[..][co],
// over all n images. With accumulate set the results are added to dkernel
// and dbias (gradient accumulation over micro-batches), otherwise they
// overwrite them. dbias may be nil when the layer has no bias.
//
// The kernel gradient is im2col(in)ᵀ·dout, done as a sequence of GEMMs over
// chunks of pixels (so the im2col buffer stays small); each GEMM is threaded
// over the rows of dkernel, never over pixels. On maps under 8x8, where
// much of every 3x3 window is padding, it is one GEMM per tap over the
// pixels whose tap lies inside the image instead (backwardByTap).
func Conv3x3BackwardFilter(n, h, w, cin, cout int, in, dout, dkernel, dbias []float32, accumulate bool) {
	var ws filterGradScratch
	ws.backward(n, h, w, cin, cout, in, dout, dkernel, dbias, accumulate)
}

// filterGradScratch holds the buffers of Conv3x3BackwardFilter: the im2col
// chunk and the packed copy of the output gradient's chunk. A layer that
// runs every step keeps one, so the buffers are allocated once.
type filterGradScratch struct {
	col, packed []float32
	rows        []float32 // byTap: the output-gradient rows of one tap's pixels
	chunkFloats int       // byTap's budget; 0: backwardFilterChunkFloats (tests make it small)
}

// filterGradByTapBelow is the map side under which the kernel gradient
// goes tap by tap (see backwardByTap) instead of through im2col: on a
// 2x2 map 5 of the 9 taps of every pixel read padding, on 4x4 about a
// third, which im2col multiplies as zeros.
const filterGradByTapBelow = 8

func (ws *filterGradScratch) backward(n, h, w, cin, cout int, in, dout, dkernel, dbias []float32, accumulate bool) {
	pixels := n * h * w
	checkLen("Conv3x3BackwardFilter in", in, pixels*cin)
	checkLen("Conv3x3BackwardFilter dout", dout, pixels*cout)
	checkLen("Conv3x3BackwardFilter dkernel", dkernel, 9*cin*cout)
	if dbias != nil {
		BiasBackward(pixels, cout, dout, dbias, accumulate)
	}
	if pixels == 0 {
		if !accumulate {
			clear(dkernel[:9*cin*cout])
		}
		return
	}
	if min(h, w) < filterGradByTapBelow {
		ws.backwardByTap(n, h, w, cin, cout, in, dout, dkernel, accumulate)
		return
	}
	ws.backwardIm2col(n, h, w, cin, cout, in, dout, dkernel, accumulate)
}

// backwardIm2col computes the kernel gradient as im2col(in)ᵀ·dout.
func (ws *filterGradScratch) backwardIm2col(n, h, w, cin, cout int, in, dout, dkernel []float32, accumulate bool) {
	pixels := n * h * w
	k9 := 9 * cin
	chunk := max(1, min(pixels, backwardFilterChunkFloats/k9))
	if cap(ws.col) < chunk*k9 {
		ws.col = make([]float32, chunk*k9)
	}
	col := ws.col[:chunk*k9]
	for p0 := 0; p0 < pixels; p0 += chunk {
		cnt := min(chunk, pixels-p0)
		im2col3x3(in, h, w, cin, p0, cnt, col)
		// Gemm(true, false, k9, cout, cnt, col, …, dout chunk, …), with
		// the packed copy of the dout chunk in ws instead of Gemm's pool.
		b := packBInto(bestGemm, false, cnt, cout, dout[p0*cout:], cout, ws.packed)
		ws.packed = b.data
		gemmWith(b.kern, true, k9, col, k9, b, dkernel, cout, accumulate || p0 > 0, nil, false)
	}
}

// backwardByTap computes the kernel gradient one tap at a time, over only
// the pixels whose tap lies inside the image: dkernel[ky][kx] =
// Σ in[y+ky-1][x+kx-1]ᵀ · dout[y][x], a cin×cout GEMM whose left matrix
// (the gathered input rows, transposed) packs by contiguous copies. It
// reduces over pixels in chunks whose size depends only on the shape, so
// the result does not depend on the thread count.
func (ws *filterGradScratch) backwardByTap(n, h, w, cin, cout int, in, dout, dkernel []float32, accumulate bool) {
	budget := backwardFilterChunkFloats
	if ws.chunkFloats > 0 {
		budget = ws.chunkFloats
	}
	chunk := max(1, min(n*h*w, budget/(cin+cout)))
	ws.col = grow(ws.col, chunk*cin)
	ws.rows = grow(ws.rows, chunk*cout)
	for tap := 0; tap < 9; tap++ {
		dy, dx := tap/3-1, tap%3-1
		y0, y1 := max(0, -dy), min(h, h-dy) // output rows whose tap row is inside
		x0, x1 := max(0, -dx), min(w, w-dx)
		dk := dkernel[tap*cin*cout : (tap+1)*cin*cout]
		load := accumulate
		cnt := 0
		flush := func() {
			if cnt == 0 {
				return
			}
			b := packBInto(bestGemm, false, cnt, cout, ws.rows, cout, ws.packed)
			ws.packed = b.data
			gemmWith(b.kern, true, cin, ws.col, cin, b, dk, cout, load, nil, false)
			load, cnt = true, 0
		}
		for img := 0; img < n; img++ {
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					p := (img*h+y)*w + x
					q := (img*h+y+dy)*w + x + dx
					copy(ws.col[cnt*cin:(cnt+1)*cin], in[q*cin:])
					copy(ws.rows[cnt*cout:(cnt+1)*cout], dout[p*cout:])
					if cnt++; cnt == chunk {
						flush()
					}
				}
			}
		}
		flush()
		if !load { // no pixel reads this tap (a map of side 1)
			clear(dk)
		}
	}
}

// biasBlock is how many columns BiasBackward sums per pass over the rows:
// its float64 sums live on the stack, and each pass reads whole cache lines.
const biasBlock = 64

// BiasBackward computes the bias gradient of a layer with c outputs per
// row: db[j] = Σ_rows dy[r][j] (dy is [rows][c]), summed in float64 row
// by row. With accumulate set the sum is added to db, otherwise db is
// overwritten.
func BiasBackward(rows, c int, dy, db []float32, accumulate bool) {
	checkLen("BiasBackward dy", dy, rows*c)
	checkLen("BiasBackward db", db, c)
	for j0 := 0; j0 < c; j0 += biasBlock {
		var sum [biasBlock]float64
		cols := min(biasBlock, c-j0)
		for r := 0; r < rows; r++ {
			for j, v := range dy[r*c+j0 : r*c+j0+cols] {
				sum[j] += float64(v)
			}
		}
		for j, s := range sum[:cols] {
			if accumulate {
				s += float64(db[j0+j])
			}
			db[j0+j] = float32(s)
		}
	}
}

// im2col3x3 writes, for the cnt pixels starting at flat pixel index p0 (over
// n images of h×w), the 3x3 neighbourhood of each: col[j][tap*cin+ci] =
// in[y+ky-1][x+kx-1][ci], 0 in the padding.
func im2col3x3(in []float32, h, w, cin, p0, cnt int, col []float32) {
	const rowsPerTask = 64
	parallelFor((cnt+rowsPerTask-1)/rowsPerTask, nil, func(_, task int) {
		for j := task * rowsPerTask; j < min(cnt, (task+1)*rowsPerTask); j++ {
			p := p0 + j
			img, r := p/(h*w), p%(h*w)
			y, x := r/w, r%w
			dst := col[j*9*cin : (j+1)*9*cin]
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					d := dst[(ky*3+kx)*cin : (ky*3+kx+1)*cin]
					yy, xx := y+ky-1, x+kx-1
					if yy < 0 || yy >= h || xx < 0 || xx >= w {
						clear(d)
						continue
					}
					copy(d, in[((img*h+yy)*w+xx)*cin:])
				}
			}
		}
	})
}

// shapePanic reports a programming error in a kernel's arguments.
func shapePanic(fn string, format string, args ...any) {
	panic(fmt.Sprintf("kernels: %s: ", fn) + fmt.Sprintf(format, args...))
}
