package kernels

import (
	"fmt"
	"runtime"
)

// The wasm assembly of the transforms (winograd_simd128_wasm.s, and
// winograd_relaxed_wasm.s for the relaxedsimd build) is generated.
//go:generate go run winograd_gen_wasm.go
//go:generate go run winograd_gen_wasm.go -relaxed

// So are the SGEMM microkernels (gemm_kernels_amd64.s, gemm_archsimd_amd64.go,
// gemm_simd128_wasm.s and gemm_relaxed_wasm.s); gen_test.go checks that all
// match their generators.
//go:generate go run gemm_gen_amd64.go
//go:generate go run gemm_gen_archsimd.go
//go:generate go run gemm_gen_wasm.go
//go:generate go run gemm_gen_wasm.go -relaxed

// Winograd3x3 is a 3x3 convolution (stride 1, padding 1) with bias and
// optional ReLU, computed with Winograd's minimal filtering algorithm
// F(4x4, 3x3): each 4x4 output tile is A^T [ (G g G^T) ⊙ (B^T d B) ] A over a
// 6x6 input patch d, so the 36 pointwise products replace 144 multiplies of
// the direct method. Summed over input channels, the 36 pointwise products
// become 36 independent GEMMs (tiles × Cin) · (Cin × Cout), which run on the
// packed SGEMM's microkernel. The kernel transform G g G^T is done once, by
// NewWinograd3x3 (again by SetKernel when the weights change), straight
// into the packed layout of its 36 matrices (winograd_kernel.go);
// they take 4x the memory of the float32 kernel (36 vs 9 values per pair of
// channels: 235 MB for the whole VGG16 conv base).
//
// Two work splits, chosen from the shape alone: the block strategy gives
// each thread whole blocks of tiles (transform, 36 GEMMs, output transform),
// sized so a block's transformed input and output stay in the L2 cache; the
// phased strategy, for wide layers and small images, transforms up to 64
// tiles, spreads the 36 GEMMs over the threads and transforms back, so each
// transformed-kernel matrix is read once per 64 tiles instead of once per
// few. Neither splits a reduction, so results are bit-identical for any
// thread count. Forward may be called concurrently.
//
// Accuracy: F(4x4) loses more precision than the direct method because its
// transforms contain factors up to 8 and 1/24. Measured against a float64
// reference with VGG16-like data (post-ReLU activations, He-initialised
// weights), the error is about 1e-5 of max|reference| for Cin 64 to 512
// (F(2x2): about 6e-7); the tests hold it to 1e-4.
//
// NewWinograd3x3Tile builds the F(2x2,3x3) variant instead (16 GEMMs over
// 4x4 patches), faster on tiny images; WinogradTile picks per layer.
type Winograd3x3 struct {
	cin, cout int
	tile      int // output tile side m: 4 for F(4x4,3x3), 2 for F(2x2,3x3)
	alpha     int // input tile side m+2
	u         []*PackedB
	bias      []float32
}

// winoScratch holds the scratch of every Winograd3x3 (transformed input and
// GEMM output of a block, widened float16 panels): one list for all layers,
// since a network runs its layers one after another, so a forward pass
// keeps about one buffer per thread of the largest layer's size rather than
// one per layer (at 224x224 the per-layer lists held about 35 MB in the
// browser worker).
var winoScratch freeList

// NewWinograd3x3 transforms and packs the HWIO kernel ([3][3][cin][cout])
// once; bias ([cout]) may be nil for no bias.
func NewWinograd3x3(cin, cout int, kernel, bias []float32) *Winograd3x3 {
	return newWinograd3x3(cin, cout, kernel, bias, 4, false)
}

// NewWinograd3x3Tile is NewWinograd3x3 with the output tile chosen: 4 for
// F(4x4,3x3), 2 for F(2x2,3x3), whose 16 GEMMs (instead of 36) and smaller
// transformed weights (4x4 instead of 6x6 per channel pair) win on small
// images, where F(4x4) tiles are mostly padding; see WinogradTile.
// It panics for any other tile.
func NewWinograd3x3Tile(cin, cout int, kernel, bias []float32, tile int) *Winograd3x3 {
	return newWinograd3x3(cin, cout, kernel, bias, tile, false)
}

// NewWinograd3x3Half is NewWinograd3x3Tile keeping the transformed weights
// as float16 (half the memory: 2x the float32 kernel instead of 4x for
// F(4x4)), for inference where memory is tight (the browser worker). Each
// transformed value is the float32 one rounded to the nearest float16
// (saturating at ±65504), so results differ from the float32 layer by
// about 2^-12 relative per weight; Forward widens them panel by panel
// (winoGemm). The float32 transform of one panel at a time is all the
// float32 it allocates.
func NewWinograd3x3Half(cin, cout int, kernel, bias []float32, tile int) *Winograd3x3 {
	return newWinograd3x3(cin, cout, kernel, bias, tile, true)
}

// Half reports whether the layer keeps its transformed weights as float16.
func (wg *Winograd3x3) Half() bool { return wg.u[0].half != nil }

// WeightBytes is the memory the transformed weights take.
func (wg *Winograd3x3) WeightBytes() int64 {
	var n int64
	for _, u := range wg.u {
		n += int64(4*len(u.data) + 2*len(u.half))
	}
	return n
}

// wideLen is the scratch a float16 layer's GEMMs widen one K block of a
// panel into (0 for float32 weights).
func (wg *Winograd3x3) wideLen() int {
	if !wg.Half() {
		return 0
	}
	k := wg.u[0].kern
	return min(k.kc, wg.cin) * k.nr
}

// Tile returns the output tile side: 4 for F(4x4,3x3), 2 for F(2x2,3x3).
func (wg *Winograd3x3) Tile() int { return wg.tile }

// newWinograd3x3 builds the F(tile x tile, 3x3) variant; tile is 4 or 2;
// half keeps the transformed weights as float16.
func newWinograd3x3(cin, cout int, kernel, bias []float32, tile int, half bool) *Winograd3x3 {
	if cin <= 0 || cout <= 0 {
		panic(fmt.Sprintf("kernels: NewWinograd3x3: bad channel counts cin=%d cout=%d", cin, cout))
	}
	checkLen("NewWinograd3x3 kernel", kernel, 9*cin*cout)
	mt := winoMatricesFor(tile)
	a := mt.alpha
	wg := &Winograd3x3{cin: cin, cout: cout, tile: tile, alpha: a}
	wg.bias = make([]float32, cout)
	// u[f] is the packed (cin × cout) matrix of frequency f = i*alpha+j;
	// its padding columns stay zero, SetKernel writes only real ones.
	wg.u = make([]*PackedB, a*a)
	for f := range wg.u {
		wg.u[f] = &PackedB{k: cin, n: cout, kern: bestGemm}
		if half {
			wg.u[f].half = make([]uint16, packedBLen(bestGemm, cin, cout))
		} else {
			wg.u[f].data = make([]float32, packedBLen(bestGemm, cin, cout))
		}
	}
	wg.SetKernel(kernel, bias)
	return wg
}

// SetKernel transforms new weights into the buffers NewWinograd3x3
// allocated, for a layer whose weights change (training): kernel is HWIO
// ([3][3][cin][cout]), bias ([cout]) may be nil for no bias. It must not run
// concurrently with Forward.
func (wg *Winograd3x3) SetKernel(kernel, bias []float32) {
	cin, cout := wg.cin, wg.cout
	checkLen("Winograd3x3.SetKernel kernel", kernel, 9*cin*cout)
	clear(wg.bias)
	if bias != nil {
		checkLen("Winograd3x3.SetKernel bias", bias, cout)
		copy(wg.bias, bias)
	}
	// Output channels are independent; the threads take panels of them.
	transform := winoKernel4
	if wg.tile == 2 {
		transform = winoKernel2
	}
	nr := wg.u[0].kern.nr
	if !wg.Half() {
		parallelFor((cout+nr-1)/nr, nil, func(_, panel int) {
			transform(kernel, cin, cout, panel*nr, min(cout, (panel+1)*nr), wg.u)
		})
		return
	}
	// float16: each task transforms one panel's columns into float32
	// matrices of one panel (cin × nr) and rounds them into its panel of
	// the float16 matrices.
	type panelScratch struct {
		kernel []float32
		u      []*PackedB
	}
	var tmp []panelScratch
	parallelFor((cout+nr-1)/nr, func(workers int) {
		for range workers {
			ps := panelScratch{kernel: make([]float32, 9*cin*nr), u: make([]*PackedB, len(wg.u))}
			for f := range ps.u {
				ps.u[f] = &PackedB{k: cin, n: nr, kern: wg.u[0].kern, data: make([]float32, cin*nr)}
			}
			tmp = append(tmp, ps)
		}
	}, func(worker, panel int) {
		ps := tmp[worker]
		co0, co1 := panel*nr, min(cout, (panel+1)*nr)
		w := co1 - co0
		for r := 0; r < 9*cin; r++ {
			copy(ps.kernel[r*w:(r+1)*w], kernel[r*cout+co0:r*cout+co1])
		}
		for _, u := range ps.u {
			clear(u.data) // columns past w stay zero, as PackB pads
			u.n = w
		}
		transform(ps.kernel[:9*cin*w], cin, w, 0, w, ps.u)
		for f, u := range ps.u {
			dst := wg.u[f].half[panel*cin*nr : (panel+1)*cin*nr]
			for i, v := range u.data {
				dst[i] = toHalf(v)
			}
		}
	})
}

// Cin returns the number of input channels.
func (wg *Winograd3x3) Cin() int { return wg.cin }

// Cout returns the number of output channels.
func (wg *Winograd3x3) Cout() int { return wg.cout }

// Forward computes out = conv3x3(in) + bias, then ReLU when relu is set.
// in is [n][h][w][cin] and out [n][h][w][cout], NHWC, and they must not
// overlap; any h, w ≥ 1 works (edge tiles are partial).
func (wg *Winograd3x3) Forward(n, h, w int, in, out []float32, relu bool) {
	checkLen("Winograd3x3.Forward in", in, n*h*w*wg.cin)
	checkLen("Winograd3x3.Forward out", out, n*h*w*wg.cout)
	if n <= 0 || h <= 0 || w <= 0 {
		return
	}
	g := wg.geometry(n, h, w)
	if wg.usePhased(g.tiles) {
		wg.forwardPhased(g, in, out, relu)
	} else {
		wg.forwardBlocks(g, in, out, relu)
	}
}

// winoGeometry is the tiling of one Forward call.
type winoGeometry struct {
	n, h, w          int
	tilesX, perImage int
	tiles            int
}

func (wg *Winograd3x3) geometry(n, h, w int) winoGeometry {
	m := wg.tile
	tilesX, tilesY := (w+m-1)/m, (h+m-1)/m
	return winoGeometry{n: n, h: h, w: w, tilesX: tilesX, perImage: tilesX * tilesY, tiles: n * tilesX * tilesY}
}

// The transformed input of a group of tiles is stored directly in the
// packed-A layout of the GEMM microkernel (row-major strips of mr rows, one
// row per tile, split into K blocks of kc channels), so the alpha² GEMMs run
// without a packing pass: in frequency f's plane (rows·cin floats, rows a
// multiple of mr), channels [k0, k0+kb) of the tile in row r live at
// plane f + k0·rows + r·kb. This relies on the layout documented at
// gemmKernel; TestWinogradMatchesReference fails if it changes.

// inputTiles transforms tiles [t0, t0+cnt) into rows [r0, r0+cnt) of v.
func (wg *Winograd3x3) inputTiles(g winoGeometry, in []float32, t0, cnt int, v []float32, rows, r0 int) {
	inputTile, _ := winoTileFuncs(wg.tile)
	m, cin, img := wg.tile, wg.cin, g.h*g.w*wg.cin
	kc := wg.u[0].kern.kc
	plane := rows * cin
	for j := 0; j < cnt; j++ {
		t := t0 + j
		b, r := t/g.perImage, t%g.perImage
		y0, x0 := (r/g.tilesX)*m-1, (r%g.tilesX)*m-1
		for k0 := 0; k0 < cin; k0 += kc {
			kb := min(kc, cin-k0)
			inputTile(in[b*img+k0:(b+1)*img], g.h, g.w, cin, kb, y0, x0, v[k0*rows+(r0+j)*kb:], plane)
		}
	}
}

// clearPadRows zeroes rows [cnt, roundup(cnt, mr)) of every plane, the
// padding of the last microkernel strip (its results are discarded, but
// stale values could be slow denormals).
func (wg *Winograd3x3) clearPadRows(v []float32, rows, cnt int) {
	kern := wg.u[0].kern
	padded := (cnt + kern.mr - 1) / kern.mr * kern.mr
	if padded == cnt {
		return
	}
	cin, plane := wg.cin, rows*wg.cin
	for f := 0; f < wg.alpha*wg.alpha; f++ {
		for k0 := 0; k0 < cin; k0 += kern.kc {
			kb := min(kern.kc, cin-k0)
			base := f*plane + k0*rows
			clear(v[base+cnt*kb : base+padded*kb])
		}
	}
}

// winoGemm computes C (cnt×N, row stride ldc) = A·B on the calling
// goroutine, A being one frequency plane of cnt tile rows already in
// packed-A layout (rows capacity) and B the packed transformed kernel.
// It is [gemm]'s driver loop (gemmRun) for a single task without the
// packing: the same microkernel calls and K blocks, hence the same result.
// Winograd runs it inside its own parallel tasks, so GemmPacked's internal
// threading would only oversubscribe.
//
// A float16 B (b.half) is widened one K block of one panel at a time into
// wide (at least kc·nr floats), which every row strip then reads from the
// L1 cache: the microkernel and the sums are those of the float32 matrix
// holding the same (float16-representable) values.
func winoGemm(cnt int, a []float32, rows int, b *PackedB, c []float32, ldc int, wide []float32) {
	kern := b.kern
	n, k := b.n, b.k
	mr, nr, kc := kern.mr, kern.nr, kern.kc
	panels := (n + nr - 1) / nr
	padded := (cnt + mr - 1) / mr * mr
	kLast := (k - 1) / kc * kc // start of the last K block
	if padded > rows || len(a) < kLast*rows+padded*(k-kLast) || len(c) < (cnt-1)*ldc+n || b.half != nil && len(wide) < min(kc, k)*nr {
		panic("kernels: winoGemm: buffers too short")
	}
	for k0 := 0; k0 < k; k0 += kc {
		kb := min(kc, k-k0)
		blk := a[k0*rows:]
		for p := 0; p < panels; p++ {
			var bp []float32
			if b.half != nil {
				bp = wide[:kb*nr]
				widenHalf(bp, b.half[p*k*nr+k0*nr:p*k*nr+(k0+kb)*nr])
			} else {
				bp = b.data[p*k*nr+k0*nr : p*k*nr+(k0+kb)*nr]
			}
			j0 := p * nr
			cols := min(nr, n-j0)
			for s := 0; s*mr < cnt; s++ {
				r := min(mr, cnt-s*mr)
				kern.micro(kb, blk[s*mr*kb:(s+1)*mr*kb], bp, c[s*mr*ldc+j0:], ldc, r, cols, k0 > 0, nil, false)
			}
		}
	}
}

// outputTiles turns the GEMM results of tiles [t0, t0+cnt) into output pixels.
func (wg *Winograd3x3) outputTiles(g winoGeometry, mo []float32, t0, cnt, plane int, out []float32, relu bool) {
	_, outputTile := winoTileFuncs(wg.tile)
	m, cout, img := wg.tile, wg.cout, g.h*g.w*wg.cout
	for j := 0; j < cnt; j++ {
		t := t0 + j
		b, r := t/g.perImage, t%g.perImage
		outputTile(mo[j*cout:], plane, cout, wg.bias, relu, out[b*img:(b+1)*img], g.h, g.w, (r/g.tilesX)*m, (r%g.tilesX)*m)
	}
}

// winoPhasedTiles is the number of tiles the phased strategy transforms
// and multiplies at once (the GEMMs' M). More tiles per GEMM stream each
// transformed-kernel matrix fewer times; 128 measured 4-5 % faster than 64
// for the whole VGG16 forward pass at 224 batch 1 and at 32 batch 32 in
// Chromium (and faster natively at 112x112 and 56x56), 192 slower again.
// The scratch it takes is alpha² (cin+cout) floats a tile: 9.3 MB for 128
// tiles of a 256->256 layer, 18.6 MB of a 512->512 one (VGG16 at 224 from
// batch 3; at batch 1 its 28x28 layers have 49 tiles, 8.0 MB).
const winoPhasedTiles = 128

// winoForceMode overrides the strategy choice in tests and benchmarks:
// 0 automatic, 1 blocks, 2 phased.
var winoForceMode = 0

// usePhased picks the strategy from the shape alone (never from the thread
// count, so results stay bit-identical). The block strategy keeps a whole
// block private to one core, transform to output, which is best while
// blocks hold enough tiles to reuse each GEMM's right-hand matrix; with wide
// layers (a block would hold fewer than 32 tiles to stay in cache) or few
// tiles, each transformed-kernel matrix would be streamed from memory for a
// handful of rows, so the phased strategy multiplies up to 64 tiles per GEMM
// and spreads the alpha² GEMMs over the threads instead.
func (wg *Winograd3x3) usePhased(tiles int) bool {
	switch winoForceMode {
	case 1:
		return false
	case 2:
		return true
	}
	return winoCacheTiles(wg.cin, wg.cout, wg.alpha) < 32 || tiles < 8*32
}

// winoCacheTiles is how many tiles keep one block's transformed input and
// GEMM output (alpha² planes each) within about 1 MiB, half an L2 cache.
func winoCacheTiles(cin, cout, alpha int) int {
	return (1 << 20) / (4 * alpha * alpha * (cin + cout))
}

// forwardBlocks is the block strategy: each parallel task takes a block of
// tiles through input transform, the alpha² GEMMs and output transform.
func (wg *Winograd3x3) forwardBlocks(g winoGeometry, in, out []float32, relu bool) {
	cin, cout, a := wg.cin, wg.cout, wg.alpha
	mr := wg.u[0].kern.mr
	bt := winoBlockTiles(g.tiles, cin, cout, a, mr)
	rows := (bt + mr - 1) / mr * mr
	blocks := (g.tiles + bt - 1) / bt
	freqs := a * a
	inPlane := rows * cin   // floats per frequency plane of the transformed input
	outPlane := rows * cout // floats per frequency plane of the GEMM output
	wideLen := wg.wideLen()
	need := freqs*(inPlane+outPlane) + wideLen

	bufs := make([]*[]float32, 0, 4)
	parallelFor(blocks, func(workers int) {
		for range workers {
			bufs = append(bufs, winoScratch.get(need))
		}
	}, func(worker, block int) {
		buf := *bufs[worker]
		v := buf[:freqs*inPlane]
		mo := buf[freqs*inPlane : freqs*(inPlane+outPlane)]
		wide := buf[freqs*(inPlane+outPlane):]
		t0 := block * bt
		cnt := min(bt, g.tiles-t0)
		wg.inputTiles(g, in, t0, cnt, v, rows, 0)
		wg.clearPadRows(v, rows, cnt)
		for f := 0; f < freqs; f++ {
			winoGemm(cnt, v[f*inPlane:(f+1)*inPlane], rows, wg.u[f], mo[f*outPlane:], cout, wide)
		}
		wg.outputTiles(g, mo, t0, cnt, outPlane, out, relu)
	})
	for _, p := range bufs {
		winoScratch.put(p)
	}
}

// forwardPhased is the phased strategy: for each group of up to
// winoPhasedTiles tiles, transform the inputs (parallel over tiles), run the
// alpha² GEMMs (parallel over frequencies), transform the outputs.
func (wg *Winograd3x3) forwardPhased(g winoGeometry, in, out []float32, relu bool) {
	cin, cout, a := wg.cin, wg.cout, wg.alpha
	freqs := a * a
	mr := wg.u[0].kern.mr
	st := min(max(mr, winoPhasedTiles/mr*mr), g.tiles) // whole microkernel strips
	rows := (st + mr - 1) / mr * mr
	inPlane, outPlane := rows*cin, rows*cout
	shared := winoScratch.get(freqs * (inPlane + outPlane))
	defer winoScratch.put(shared)
	v := (*shared)[:freqs*inPlane]
	mo := (*shared)[freqs*inPlane:]
	wideLen := wg.wideLen()
	var wides []*[]float32 // per worker, for float16 weights
	defer func() {
		for _, p := range wides {
			winoScratch.put(p)
		}
	}()
	const tilesPerTask = 4
	for t0 := 0; t0 < g.tiles; t0 += st {
		cnt := min(st, g.tiles-t0)
		tasks := (cnt + tilesPerTask - 1) / tilesPerTask
		parallelFor(tasks, nil, func(_, task int) {
			j := task * tilesPerTask
			wg.inputTiles(g, in, t0+j, min(tilesPerTask, cnt-j), v, rows, j)
		})
		wg.clearPadRows(v, rows, cnt)
		parallelFor(freqs, func(workers int) {
			for len(wides) < workers && wideLen > 0 {
				wides = append(wides, winoScratch.get(wideLen))
			}
		}, func(worker, f int) {
			var wide []float32
			if wideLen > 0 {
				wide = *wides[worker]
			}
			winoGemm(cnt, v[f*inPlane:(f+1)*inPlane], rows, wg.u[f], mo[f*outPlane:], cout, wide)
		})
		parallelFor(tasks, nil, func(_, task int) {
			j := task * tilesPerTask
			wg.outputTiles(g, mo[j*cout:], t0+j, min(tilesPerTask, cnt-j), outPlane, out, relu)
		})
	}
}

// winoBlockTiles picks how many tiles one block holds: enough that one
// block's transformed input and output (alpha² planes each) take about 1 MiB,
// half an L2 cache, but at least 16 rows for the GEMMs; fewer when the layer
// has so few tiles that blocks would not spread over the threads. It depends
// only on the shape (and the GEMM microkernel's row count mr, a multiple of
// which it prefers), never on the thread count.
func winoBlockTiles(tiles, cin, cout, alpha, mr int) int {
	bt := max(16, min(winoCacheTiles(cin, cout, alpha), 128))
	bt = max(mr, bt/mr*mr) // whole microkernel strips
	if per := (tiles + 7) / 8; per < bt {
		bt = max(per, 4)
	}
	return max(1, min(bt, tiles))
}

// winoMatrices holds the transform matrices of F(m x m, 3x3) in the
// convention Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A.
type winoMatrices struct {
	m, alpha int
	bt       [6][6]float32 // B^T, alpha × alpha
	at       [4][6]float32 // A^T, m × alpha
	g        [6][3]float64 // G, alpha × 3
}

// Interpolation points 0, ±1, ±2 and ∞ for F(4x4); 0, ±1 and ∞ for F(2x2).
var winoF4 = winoMatrices{
	m: 4, alpha: 6,
	bt: [6][6]float32{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	},
	at: [4][6]float32{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	},
	g: [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	},
}

var winoF2 = winoMatrices{
	m: 2, alpha: 4,
	bt: [6][6]float32{
		{1, 0, -1, 0},
		{0, 1, 1, 0},
		{0, -1, 1, 0},
		{0, 1, 0, -1},
	},
	at: [4][6]float32{
		{1, 1, 1, 0},
		{0, 1, -1, -1},
	},
	g: [6][3]float64{
		{1, 0, 0},
		{0.5, 0.5, 0.5},
		{0.5, -0.5, 0.5},
		{0, 0, 1},
	},
}

func winoMatricesFor(tile int) *winoMatrices {
	switch tile {
	case 4:
		return &winoF4
	case 2:
		return &winoF2
	}
	panic(fmt.Sprintf("kernels: Winograd tile %d not supported (4 or 2)", tile))
}

// winoInputFunc transforms channels [0, nch) of the alpha×alpha input patch
// whose top-left pixel is (y0, x0) (it may hang over the image edge: outside
// pixels count as the zero padding) of one image (pixel (y, x) starts at
// in[(y*w+x)*stride]) into v: frequency f of channel c goes to v[f*plane+c].
type winoInputFunc func(in []float32, h, w, stride, nch, y0, x0 int, v []float32, plane int)

// winoOutputFunc transforms one tile's GEMM output (frequency f of channel c
// at mo[f*plane+c]) into the m×m output pixels at (y0, x0) of one image
// ([h][w][cout]), adding bias and applying ReLU; pixels past the edge are
// skipped.
type winoOutputFunc func(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, h, w, y0, x0 int)

// winoTileFuncs returns the fastest transforms available for tile size m.
func winoTileFuncs(m int) (winoInputFunc, winoOutputFunc) {
	if m == 4 {
		return winoInput4, winoOutput4
	}
	return winoInput2, winoOutput2
}

// winoInput4 and winoOutput4 are the F(4x4) transforms, winoInput2 and
// winoOutput2 the F(2x2) ones; SIMD builds replace them at init when the
// CPU allows.
var (
	winoInput4  winoInputFunc  = winoInput4Scalar
	winoOutput4 winoOutputFunc = winoOutput4Scalar
	winoInput2  winoInputFunc  = winoInput2Scalar
	winoOutput2 winoOutputFunc = winoOutput2Scalar
)

// winoInputGeneric is the matrix-driven input transform V = B^T d B for any
// tile size, one channel at a time: the reference the tests hold the
// straight-line and SIMD transforms to.
func winoInputGeneric(mt *winoMatrices, in []float32, h, w, stride, nch, y0, x0 int, v []float32, plane int) {
	a := mt.alpha
	var d, t [36]float32
	for c := 0; c < nch; c++ {
		for i := 0; i < a; i++ {
			for j := 0; j < a; j++ {
				y, x := y0+i, x0+j
				d[i*a+j] = 0
				if y >= 0 && y < h && x >= 0 && x < w {
					d[i*a+j] = in[(y*w+x)*stride+c]
				}
			}
		}
		for i := 0; i < a; i++ {
			for j := 0; j < a; j++ {
				var s float32
				for k := 0; k < a; k++ {
					if b := mt.bt[i][k]; b != 0 {
						s += b * d[k*a+j]
					}
				}
				t[i*a+j] = s
			}
		}
		for i := 0; i < a; i++ {
			for j := 0; j < a; j++ {
				var s float32
				for k := 0; k < a; k++ {
					if b := mt.bt[j][k]; b != 0 {
						s += t[i*a+k] * b
					}
				}
				v[(i*a+j)*plane+c] = s
			}
		}
	}
}

// winoOutputGeneric is the matrix-driven output transform Y = A^T M A.
func winoOutputGeneric(mt *winoMatrices, mo []float32, plane, cout int, bias []float32, relu bool, out []float32, h, w, y0, x0 int) {
	a, m := mt.alpha, mt.m
	var d [36]float32
	var t [24]float32
	for c := 0; c < cout; c++ {
		for f := 0; f < a*a; f++ {
			d[f] = mo[f*plane+c]
		}
		for i := 0; i < m; i++ {
			for j := 0; j < a; j++ {
				var s float32
				for k := 0; k < a; k++ {
					if b := mt.at[i][k]; b != 0 {
						s += b * d[k*a+j]
					}
				}
				t[i*a+j] = s
			}
		}
		for i := 0; i < m && y0+i < h; i++ {
			for j := 0; j < m && x0+j < w; j++ {
				s := bias[c]
				for k := 0; k < a; k++ {
					if b := mt.at[j][k]; b != 0 {
						s += t[i*a+k] * b
					}
				}
				if relu && s < 0 {
					s = 0
				}
				out[((y0+i)*w+x0+j)*cout+c] = s
			}
		}
	}
}

// winoIn6 applies B^T of F(4x4) to one column of six values.
func winoIn6(d0, d1, d2, d3, d4, d5 float32) (r0, r1, r2, r3, r4, r5 float32) {
	r0 = 4*d0 - 5*d2 + d4
	r1 = -4*(d1+d2) + (d3 + d4)
	r2 = 4*(d1-d2) + (d4 - d3)
	r3 = 2*(d3-d1) + (d4 - d2)
	r4 = 2*(d1-d3) + (d4 - d2)
	r5 = 4*d1 - 5*d3 + d5
	return
}

// winoOut6 applies A^T of F(4x4) to one column of six values.
func winoOut6(m0, m1, m2, m3, m4, m5 float32) (o0, o1, o2, o3 float32) {
	s12, d12 := m1+m2, m1-m2
	s34, d34 := m3+m4, m3-m4
	o0 = m0 + s12 + s34
	o1 = d12 + 2*d34
	o2 = s12 + 4*s34
	o3 = d12 + 8*d34 + m5
	return
}

// winoInput4Scalar is the straight-line F(4x4) input transform, one channel
// at a time: the portable version (wasm and builds without SIMD).
func winoInput4Scalar(in []float32, h, w, stride, nch, y0, x0 int, v []float32, plane int) {
	var t [36]float32
	inside := y0 >= 0 && x0 >= 0 && y0+6 <= h && x0+6 <= w
	for c := 0; c < nch; c++ {
		for i := 0; i < 6; i++ {
			var d [6]float32
			y := y0 + i
			if inside {
				row := in[(y*w+x0)*stride+c:]
				d = [6]float32{row[0], row[stride], row[2*stride], row[3*stride], row[4*stride], row[5*stride]}
			} else if y >= 0 && y < h {
				for j := 0; j < 6; j++ {
					if x := x0 + j; x >= 0 && x < w {
						d[j] = in[(y*w+x)*stride+c]
					}
				}
			}
			t[i*6], t[i*6+1], t[i*6+2], t[i*6+3], t[i*6+4], t[i*6+5] = winoIn6(d[0], d[1], d[2], d[3], d[4], d[5])
		}
		for j := 0; j < 6; j++ {
			r0, r1, r2, r3, r4, r5 := winoIn6(t[j], t[6+j], t[12+j], t[18+j], t[24+j], t[30+j])
			v[j*plane+c] = r0
			v[(6+j)*plane+c] = r1
			v[(12+j)*plane+c] = r2
			v[(18+j)*plane+c] = r3
			v[(24+j)*plane+c] = r4
			v[(30+j)*plane+c] = r5
		}
	}
}

// winoOutput4Scalar is the straight-line F(4x4) output transform with bias
// and ReLU, one channel at a time.
func winoOutput4Scalar(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, h, w, y0, x0 int) {
	var t [24]float32 // t[j*4+i']: A^T applied down column j
	rows, cols := min(4, h-y0), min(4, w-x0)
	for c := 0; c < cout; c++ {
		for j := 0; j < 6; j++ {
			t[j*4], t[j*4+1], t[j*4+2], t[j*4+3] = winoOut6(mo[j*plane+c], mo[(6+j)*plane+c], mo[(12+j)*plane+c],
				mo[(18+j)*plane+c], mo[(24+j)*plane+c], mo[(30+j)*plane+c])
		}
		for i := 0; i < rows; i++ {
			o0, o1, o2, o3 := winoOut6(t[i], t[4+i], t[8+i], t[12+i], t[16+i], t[20+i])
			o := [4]float32{o0, o1, o2, o3}
			for j := 0; j < cols; j++ {
				s := o[j] + bias[c]
				if relu && s < 0 {
					s = 0
				}
				out[((y0+i)*w+x0+j)*cout+c] = s
			}
		}
	}
}

// WinogradTile says which convolution is expected to be fastest for a layer
// with cin input channels run on batches of n h×w images, so a model can
// pick once, at load, per layer and input size: 0 for the direct Conv3x3,
// otherwise the tile for NewWinograd3x3Tile. The rule comes from
// BenchmarkVGG16ConvBase, which times all three per layer at 224 batch 1,
// 32 batch 64 and 32 batch 1 (CPU times in its log), natively and in wasm:
//   - Cin < 16 (VGG16's first layer), or 1-pixel images: direct; the
//     transforms cost more than they save.
//   - one 2x2 image (block5 at 32x32, batch 1): direct, 1.2-2.1x faster than
//     F(2x2). With so few pixels every algorithm streams its weights once
//     per call, and the direct ones are the smallest (9 instead of 16 or 36
//     values per channel pair).
//   - images under 4 pixels on a side: F(2x2), about 1.4x faster than
//     direct at 2x2 batch 64, where F(4x4) tiles would be mostly padding.
//   - a single F(4x4) tile (block4 at 32x32, batch 1): F(2x2); in wasm
//     1.8-2.5x faster than F(4x4) and 1.2-1.7x faster than direct.
//   - natively, at most 4 F(4x4) tiles, or at most 32 with 256+ input
//     channels (block5 at 224, batch 1): F(2x2), about 1.35x faster than
//     both others, because so few tiles make the GEMMs stream the
//     transformed weights from memory and F(2x2) has 16 such matrices
//     instead of 36. With fewer channels (block2 at 32x32, batch 1) the
//     weights stay in cache and F(4x4) is 1.35-1.5x faster than F(2x2). In
//     wasm, where arithmetic dominates, F(4x4) (about 2.3x faster than
//     direct at 224's block5).
//   - otherwise F(4x4), 2-3x faster than direct.
func WinogradTile(n, cin, h, w int) int {
	tiles4 := n * ((h + 3) / 4) * ((w + 3) / 4)
	switch {
	case cin < 16 || min(h, w) < 2 || n*h*w <= 4:
		return 0
	case min(h, w) < 4 || tiles4 == 1:
		return 2
	case runtime.GOARCH != "wasm" && (tiles4 <= 4 || tiles4 <= 32 && cin >= 256):
		return 2
	}
	return 4
}

// winoIn4 applies B^T of F(2x2) to one column of four values.
func winoIn4(d0, d1, d2, d3 float32) (r0, r1, r2, r3 float32) {
	return d0 - d2, d1 + d2, d2 - d1, d1 - d3
}

// winoOut4 applies A^T of F(2x2) to one column of four values.
func winoOut4(m0, m1, m2, m3 float32) (o0, o1 float32) {
	return m0 + m1 + m2, m1 - m2 - m3
}

// winoInput2Scalar is the straight-line F(2x2) input transform (4x4 patch),
// one channel at a time.
func winoInput2Scalar(in []float32, h, w, stride, nch, y0, x0 int, v []float32, plane int) {
	var t [16]float32
	for c := 0; c < nch; c++ {
		for i := 0; i < 4; i++ {
			var d [4]float32
			if y := y0 + i; y >= 0 && y < h {
				for j := 0; j < 4; j++ {
					if x := x0 + j; x >= 0 && x < w {
						d[j] = in[(y*w+x)*stride+c]
					}
				}
			}
			t[i*4], t[i*4+1], t[i*4+2], t[i*4+3] = winoIn4(d[0], d[1], d[2], d[3])
		}
		for j := 0; j < 4; j++ {
			r0, r1, r2, r3 := winoIn4(t[j], t[4+j], t[8+j], t[12+j])
			v[j*plane+c] = r0
			v[(4+j)*plane+c] = r1
			v[(8+j)*plane+c] = r2
			v[(12+j)*plane+c] = r3
		}
	}
}

// winoOutput2Scalar is the straight-line F(2x2) output transform with bias
// and ReLU, one channel at a time.
func winoOutput2Scalar(mo []float32, plane, cout int, bias []float32, relu bool, out []float32, h, w, y0, x0 int) {
	var t [8]float32 // t[j*2+i']: A^T applied down column j
	rows, cols := min(2, h-y0), min(2, w-x0)
	for c := 0; c < cout; c++ {
		for j := 0; j < 4; j++ {
			t[j*2], t[j*2+1] = winoOut4(mo[j*plane+c], mo[(4+j)*plane+c], mo[(8+j)*plane+c], mo[(12+j)*plane+c])
		}
		for i := 0; i < rows; i++ {
			o0, o1 := winoOut4(t[i], t[2+i], t[4+i], t[6+i])
			o := [2]float32{o0, o1}
			for j := 0; j < cols; j++ {
				s := o[j] + bias[c]
				if relu && s < 0 {
					s = 0
				}
				out[((y0+i)*w+x0+j)*cout+c] = s
			}
		}
	}
}
