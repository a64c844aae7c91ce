package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// f64Conv3x3 is the float64 reference 3x3 convolution (stride 1, padding 1,
// NHWC, HWIO kernel) with bias and optional ReLU, written as the plain
// definition: out[y][x][co] = bias[co] + Σ in[y+ky-1][x+kx-1][ci]·k[ky][kx][ci][co].
func f64Conv3x3(n, h, w, cin, cout int, in, kernel, bias []float32, relu bool) []float64 {
	out := make([]float64, n*h*w*cout)
	for img := 0; img < n; img++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				o := out[((img*h+y)*w+x)*cout:][:cout]
				for co := range o {
					if bias != nil {
						o[co] = float64(bias[co])
					}
				}
				for ky := 0; ky < 3; ky++ {
					for kx := 0; kx < 3; kx++ {
						yy, xx := y+ky-1, x+kx-1
						if yy < 0 || yy >= h || xx < 0 || xx >= w {
							continue
						}
						px := in[((img*h+yy)*w+xx)*cin:][:cin]
						for ci, v := range px {
							kr := kernel[((ky*3+kx)*cin+ci)*cout:][:cout]
							for co, k := range kr {
								o[co] += float64(v) * float64(k)
							}
						}
					}
				}
				if relu {
					for co := range o {
						o[co] = max(o[co], 0)
					}
				}
			}
		}
	}
	return out
}

type convShape struct{ n, h, w, cin, cout int }

// awkwardConvShapes covers Cin=3, 1x1 and odd images, partial edge tiles,
// channel counts that are not multiples of any vector width, and batch > 1.
var awkwardConvShapes = []convShape{
	{1, 1, 1, 3, 5},
	{1, 3, 5, 3, 8},
	{2, 7, 7, 5, 17},
	{1, 4, 4, 16, 16},
	{1, 8, 8, 16, 16},
	{3, 9, 6, 19, 33},
	{2, 13, 11, 32, 24},
	{1, 5, 12, 64, 70},
	{1, 2, 1, 1, 1},
	{5, 17, 21, 8, 12},  // more tiles than one phased group (TestAwkwardShapesCoverPhasedGroups)
	{1, 9, 10, 300, 20}, // Cin over one GEMM K block (kc=256 on AVX-512), not a multiple of 16
	{1, 5, 6, 520, 8},   // Cin over one K block of every microkernel (kc ≤ 512)
	{2, 12, 12, 16, 32}, // interior tiles with whole vectors (unrolled fast paths)
}

// TestAwkwardShapesCoverPhasedGroups keeps a shape in awkwardConvShapes
// whose tiles fill more than one phased group with either tile size, so
// the phased strategy's group loop is tested.
func TestAwkwardShapesCoverPhasedGroups(t *testing.T) {
	for _, m := range []int{4, 2} {
		most := 0
		for _, s := range awkwardConvShapes {
			most = max(most, s.n*((s.h+m-1)/m)*((s.w+m-1)/m))
		}
		if most <= winoPhasedTiles {
			t.Errorf("F(%dx%d): the most tiles of any shape is %d, not over one group of %d", m, m, most, winoPhasedTiles)
		}
	}
}

// withWinoMode runs fn with the Winograd strategy forced (1 blocks, 2 phased).
func withWinoMode(mode int, fn func()) {
	winoForceMode = mode
	defer func() { winoForceMode = 0 }()
	fn()
}

var winoModeNames = map[int]string{1: "blocks", 2: "phased"}

// winoTransformVariants lists the F(4x4) transform implementations this
// build has: the portable scalar one and the one chosen at init (SIMD where
// the build and the CPU allow).
func winoTransformVariants() []struct {
	name      string
	in, in2   winoInputFunc
	out, out2 winoOutputFunc
} {
	return []struct {
		name      string
		in, in2   winoInputFunc
		out, out2 winoOutputFunc
	}{
		{"scalar", winoInput4Scalar, winoInput2Scalar, winoOutput4Scalar, winoOutput2Scalar},
		{"active", winoInput4, winoInput2, winoOutput4, winoOutput2},
	}
}

func TestWinogradMatchesReference(t *testing.T) {
	for i, s := range awkwardConvShapes {
		// One float64 reference per shape, shared by every variant.
		rng := newRand(uint64(100 * i))
		in := randFloats(rng, s.n*s.h*s.w*s.cin)
		kernel := randFloats(rng, 9*s.cin*s.cout)
		bias := randFloats(rng, s.cout)
		ref := f64Conv3x3(s.n, s.h, s.w, s.cin, s.cout, in, kernel, bias, false)
		refReLU := make([]float64, len(ref))
		for j, v := range ref {
			refReLU[j] = max(v, 0)
		}
		for _, tile := range []int{4, 2} {
			wg := newWinograd3x3(s.cin, s.cout, kernel, bias, tile, false)
			for _, v := range winoTransformVariants() {
				saveIn, saveOut, saveIn2, saveOut2 := winoInput4, winoOutput4, winoInput2, winoOutput2
				winoInput4, winoOutput4, winoInput2, winoOutput2 = v.in, v.out, v.in2, v.out2
				for _, mode := range []int{1, 2} {
					for _, relu := range []bool{false, true} {
						name := fmt.Sprintf("%dx%dx%dx%d->%d/F%d/%s/%s/relu=%v", s.n, s.h, s.w, s.cin, s.cout, tile, v.name, winoModeNames[mode], relu)
						t.Run(name, func(t *testing.T) {
							out := newGuarded(s.n * s.h * s.w * s.cout)
							withWinoMode(mode, func() { wg.Forward(s.n, s.h, s.w, in, out.data, relu) })
							out.check(t)
							want := ref
							if relu {
								want = refReLU
							}
							if e := maxRelErr(out.data, want); e > 1e-4 {
								t.Fatalf("max error %.3g relative to max|ref|, want ≤ 1e-4", e)
							}
						})
					}
				}
				winoInput4, winoOutput4, winoInput2, winoOutput2 = saveIn, saveOut, saveIn2, saveOut2
			}
		}
	}
}

func TestWinogradNilBias(t *testing.T) {
	rng := newRand(7)
	in := randFloats(rng, 2*6*7*4)
	kernel := randFloats(rng, 9*4*9)
	wg := NewWinograd3x3(4, 9, kernel, nil)
	out := newGuarded(2 * 6 * 7 * 9)
	wg.Forward(2, 6, 7, in, out.data, false)
	out.check(t)
	if e := maxRelErr(out.data, f64Conv3x3(2, 6, 7, 4, 9, in, kernel, nil, false)); e > 1e-4 {
		t.Fatalf("error %.3g", e)
	}
}

// vggLikeData returns post-ReLU-like activations (half zeros, the rest
// |N(0,1)|·scale) and He-initialised weights, the magnitudes a VGG16 layer sees.
func vggLikeData(rng *rand.Rand, npix, cin, cout int, scale float64) (in, kernel, bias []float32) {
	in = make([]float32, npix*cin)
	for i := range in {
		in[i] = float32(max(0, rng.NormFloat64()) * scale)
	}
	kernel = make([]float32, 9*cin*cout)
	std := math.Sqrt(2 / float64(9*cin))
	for i := range kernel {
		kernel[i] = float32(rng.NormFloat64() * std)
	}
	bias = make([]float32, cout)
	for i := range bias {
		bias[i] = float32(rng.NormFloat64() * 0.1)
	}
	return in, kernel, bias
}

// TestWinogradAccuracyVGGMagnitudes measures F(4x4) and F(2x2) against the
// float64 reference with VGG16-like data and Cin up to 512 and holds F(4x4)
// (the one NewWinograd3x3 builds) to 1e-4 of max|ref|.
func TestWinogradAccuracyVGGMagnitudes(t *testing.T) {
	const n, h, w, cout = 1, 12, 12, 32
	for _, cin := range []int{3, 64, 256, 512} {
		scale := 1.0
		if cin == 3 {
			scale = 60 // caffe-preprocessed pixels: BGR minus the ImageNet mean
		}
		rng := newRand(uint64(cin))
		in, kernel, bias := vggLikeData(rng, n*h*w, cin, cout, scale)
		want := f64Conv3x3(n, h, w, cin, cout, in, kernel, bias, false)
		errs := map[int]float64{}
		for _, tile := range []int{4, 2} {
			out := newGuarded(n * h * w * cout)
			newWinograd3x3(cin, cout, kernel, bias, tile, false).Forward(n, h, w, in, out.data, false)
			out.check(t)
			errs[tile] = maxRelErr(out.data, want)
		}
		t.Logf("Cin=%d: F(4x4) error %.2e, F(2x2) error %.2e (relative to max|ref|)", cin, errs[4], errs[2])
		if errs[4] > 1e-4 {
			t.Errorf("Cin=%d: F(4x4) error %.3g > 1e-4", cin, errs[4])
		}
	}
}

func TestWinogradThreadsBitIdentical(t *testing.T) {
	const n, h, w, cin, cout = 2, 19, 23, 24, 40
	rng := newRand(11)
	in := randFloats(rng, n*h*w*cin)
	kernel := randFloats(rng, 9*cin*cout)
	bias := randFloats(rng, cout)
	wg := NewWinograd3x3(cin, cout, kernel, bias)
	for _, mode := range []int{1, 2} {
		var ref []float32
		for _, threads := range []int{1, 2, 3, 8} {
			out := make([]float32, n*h*w*cout)
			withWinoMode(mode, func() {
				withThreads(threads, func() { wg.Forward(n, h, w, in, out, true) })
			})
			if ref == nil {
				ref = out
				continue
			}
			if i := bitsEqual(ref, out); i >= 0 {
				t.Fatalf("%s: threads=%d differs from threads=1 at %d: %v vs %v", winoModeNames[mode], threads, i, out[i], ref[i])
			}
		}
	}
}

func TestWinogradTile(t *testing.T) {
	// Natively F(2x2) for batches of at most 4 F(4x4) tiles, or 32 with 256+
	// input channels; in wasm F(4x4).
	few := 2
	if runtime.GOARCH == "wasm" {
		few = 4
	}
	cases := []struct {
		n, cin, h, w int
		want         int
	}{
		{1, 3, 224, 224, 0}, // VGG16's first layer
		{1, 64, 224, 224, 4},
		{1, 512, 28, 28, 4}, // 49 tiles
		{1, 512, 14, 14, few},
		{8, 512, 14, 14, 4},
		{64, 512, 4, 4, 4},
		{64, 512, 2, 2, 2}, // smaller than one F(4x4) output tile
		{1, 512, 3, 7, 2},
		{1, 512, 1, 1, 0},
		// 32x32 batch 1, the default model in the browser:
		{1, 64, 32, 32, 4},
		{1, 128, 16, 16, 4}, // 16 tiles, weights in cache
		{1, 256, 8, 8, few}, // 4 tiles
		{1, 512, 4, 4, 2},   // one tile
		{1, 512, 2, 2, 0},   // one 2x2 image
		{2, 512, 2, 2, 2},
	}
	for _, c := range cases {
		if got := WinogradTile(c.n, c.cin, c.h, c.w); got != c.want {
			t.Errorf("WinogradTile(%d, %d, %d, %d) = %d, want %d", c.n, c.cin, c.h, c.w, got, c.want)
		}
	}
	if wg := NewWinograd3x3Tile(4, 4, make([]float32, 9*16), nil, 2); wg.Tile() != 2 {
		t.Errorf("NewWinograd3x3Tile(..., 2).Tile() = %d", wg.Tile())
	}
}

// TestWinogradRandomShapes compares Winograd with the float64 reference on
// random small shapes, both strategies, to catch tiling edge cases the
// fixed table misses.
func TestWinogradRandomShapes(t *testing.T) {
	rng := newRand(2024)
	for trial := 0; trial < 40; trial++ {
		n, h, w := 1+rng.IntN(3), 1+rng.IntN(19), 1+rng.IntN(19)
		cin, cout := 1+rng.IntN(40), 1+rng.IntN(40)
		relu := rng.IntN(2) == 0
		in := randFloats(rng, n*h*w*cin)
		kernel := randFloats(rng, 9*cin*cout)
		bias := randFloats(rng, cout)
		want := f64Conv3x3(n, h, w, cin, cout, in, kernel, bias, relu)
		wg := NewWinograd3x3(cin, cout, kernel, bias)
		for _, mode := range []int{1, 2} {
			out := newGuarded(n * h * w * cout)
			withWinoMode(mode, func() { wg.Forward(n, h, w, in, out.data, relu) })
			out.check(t)
			if e := maxRelErr(out.data, want); e > 1e-4 {
				t.Fatalf("%s n=%d h=%d w=%d cin=%d cout=%d relu=%v: error %.3g", winoModeNames[mode], n, h, w, cin, cout, relu, e)
			}
		}
	}
}

// TestWinogradTransformsMatchMatrixForm checks every straight-line
// transform (scalar and SIMD, F(4x4) and F(2x2)) against the transforms
// computed from the matrices B^T and A^T themselves, on interior and edge
// tiles and channel counts around the vector widths.
func TestWinogradTransformsMatchMatrixForm(t *testing.T) {
	const h, w = 9, 10
	for _, nch := range []int{1, 3, 4, 5, 16, 17, 40} {
		rng := newRand(uint64(nch))
		in := randFloats(rng, h*w*nch)
		bias := randFloats(rng, nch)
		for _, v := range winoTransformVariants() {
			for _, tc := range []struct {
				mt  *winoMatrices
				in  winoInputFunc
				out winoOutputFunc
			}{{&winoF4, v.in, v.out}, {&winoF2, v.in2, v.out2}} {
				a, m := tc.mt.alpha, tc.mt.m
				for _, org := range [][2]int{{-1, -1}, {2, 3}, {h - 3, w - 2}} {
					y0, x0 := org[0], org[1]
					got := make([]float32, a*a*nch)
					want := make([]float32, a*a*nch)
					tc.in(in, h, w, nch, nch, y0, x0, got, nch)
					winoInputGeneric(tc.mt, in, h, w, nch, nch, y0, x0, want, nch)
					if e := maxRelErr(got, to64(want)); e > 1e-6 {
						t.Fatalf("%s F(%d) input nch=%d at (%d,%d): error %g", v.name, m, nch, y0, x0, e)
					}
					outGot := make([]float32, h*w*nch)
					outWant := make([]float32, h*w*nch)
					tc.out(got, nch, nch, bias, true, outGot, h, w, y0+1, x0+1)
					winoOutputGeneric(tc.mt, got, nch, nch, bias, true, outWant, h, w, y0+1, x0+1)
					if e := maxRelErr(outGot, to64(outWant)); e > 1e-6 {
						t.Fatalf("%s F(%d) output nch=%d at (%d,%d): error %g", v.name, m, nch, y0+1, x0+1, e)
					}
				}
			}
		}
	}
}

// TestWinogradKernelTransformMatchesMatrixForm checks the kernel transforms
// (scalar and the one chosen at init, F(4x4) and F(2x2)) against
// G g G^T computed in float64 from the matrix G, read back through the
// packed layout, for channel counts around the vector width.
func TestWinogradKernelTransformMatchesMatrixForm(t *testing.T) {
	for _, cout := range []int{1, 5, 16, 33, 70} {
		const cin = 3
		kernel := randFloats(newRand(uint64(cout)), 9*cin*cout)
		for _, v := range []struct {
			name   string
			f4, f2 winoKernelFunc
		}{{"scalar", winoKernel4Scalar, winoKernel2Scalar}, {"active", winoKernel4, winoKernel2}} {
			for _, tc := range []struct {
				mt *winoMatrices
				f  winoKernelFunc
			}{{&winoF4, v.f4}, {&winoF2, v.f2}} {
				a := tc.mt.alpha
				u := make([]*PackedB, a*a)
				for f := range u {
					u[f] = &PackedB{k: cin, n: cout, kern: bestGemm, data: make([]float32, packedBLen(bestGemm, cin, cout))}
				}
				for co0 := 0; co0 < cout; co0 += bestGemm.nr {
					tc.f(kernel, cin, cout, co0, min(cout, co0+bestGemm.nr), u)
				}
				got := make([]float32, a*a*cin*cout)
				want := make([]float64, a*a*cin*cout)
				for ci := 0; ci < cin; ci++ {
					for co := 0; co < cout; co++ {
						for i := 0; i < a; i++ {
							for j := 0; j < a; j++ {
								s := 0.0
								for k := 0; k < 3; k++ {
									for l := 0; l < 3; l++ {
										s += tc.mt.g[i][k] * float64(kernel[((k*3+l)*cin+ci)*cout+co]) * tc.mt.g[j][l]
									}
								}
								at := ((i*a+j)*cin+ci)*cout + co
								want[at] = s
								got[at] = u[i*a+j].data[packedOffset(ci, co, cin, bestGemm.nr)]
							}
						}
					}
				}
				if e := maxRelErr(got, want); e > 1e-6 {
					t.Fatalf("%s F(%d) cout=%d: error %g", v.name, tc.mt.m, cout, e)
				}
			}
		}
	}
}
