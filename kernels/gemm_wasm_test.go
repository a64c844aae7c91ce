//go:build goexperiment.simd && wasm

package kernels

import (
	"math"
	"testing"
	"time"
)

// TestGemmVariantSelection: the SIMD128 assembly kernel (the relaxed-madd
// one in a relaxedsimd build) must be the one PackB, Gemm and NewConv3x3 use
// in a GOEXPERIMENT=simd wasm build.
func TestGemmVariantSelection(t *testing.T) {
	if bestGemm != simd128AsmGemm || len(gemmVariants) != 2 {
		t.Fatalf("best variant %q of %d, want %s of 2", bestGemm.name, len(gemmVariants), wasmAsmGemmName())
	}
	if pb := PackB(false, 3, 3, make([]float32, 9), 3); pb.kern != simd128AsmGemm {
		t.Fatalf("PackB packs for %q", pb.kern.name)
	}
}

// TestWasmMicrokernelRounding pins what each build's microkernel step
// computes on a case where fusing shows: acc = -1, then acc += x*x with
// x = 1+2^-12, whose exact product 1 + 2^-11 + 2^-24 is not a float32.
// Rounded separately (the plain build) the product ties to 1 + 2^-11 and
// the sum is 2^-11; fused, the sum is 2^-11 + 2^-24. The relaxed build may
// give either (relaxed_madd fuses where the CPU has FMA), but the same in
// every lane. Either way the float64-reference tests (Gemm and the 3x3
// convolutions within 1e-5 of max|ref|, Winograd within 1e-4) use the same
// tolerance for both builds: fusing drops the product's rounding, so its
// error bound is never larger than the unfused one.
func TestWasmMicrokernelRounding(t *testing.T) {
	x := float32(1 + math.Ldexp(1, -12))
	unfused := float32(math.Ldexp(1, -11))
	fused := float32(math.Ldexp(1, -11) + math.Ldexp(1, -24))
	const kc = 2
	a := make([]float32, 6*kc) // row i: a[i*kc+k]
	b := make([]float32, kc*8) // step k: b[k*8+j]
	for i := 0; i < 6; i++ {
		a[i*kc], a[i*kc+1] = -1, x
	}
	for j := 0; j < 8; j++ {
		b[j], b[8+j] = 1, x
	}
	var tile [6 * 8]float32
	gemmSIMD128Asm6x8(kc, &a[0], &b[0], &tile[0])
	got := tile[0]
	switch {
	case !RelaxedSIMD && got != unfused:
		t.Fatalf("plain SIMD128 kernel gave %g, want the unfused %g", got, unfused)
	case RelaxedSIMD && got != unfused && got != fused:
		t.Fatalf("relaxed kernel gave %g, want fused %g or unfused %g", got, fused, unfused)
	}
	for i, v := range tile {
		if v != got {
			t.Fatalf("lane %d gave %g, lane 0 %g", i, v, got)
		}
	}
	t.Logf("RelaxedSIMD=%v, fused=%v", RelaxedSIMD, got == fused)
}

// TestWasmKernelPaths: full tiles stored by the kernel itself
// (directStore) and strips of at most 2 or 4 rows run on the 2- or 4-row
// kernels (shortStrips), alone and together, give the bits the 6-row kernel and the epilogue give, with
// and without accumulating into C, bias and ReLU, across K blocks and with
// a row stride wider than N, and write nothing outside C.
func TestWasmKernelPaths(t *testing.T) {
	defer func(d, s bool) { directStore, shortStrips = d, s }(directStore, shortStrips)
	cases := []gemmCase{
		{m: 60, n: 64, k: 256},
		{m: 60, n: 64, k: 256, accumulate: true, ldExtra: 3},
		{m: 18, n: 24, k: 600, ldExtra: 8},           // two K blocks: the second loads C
		{m: 13, n: 20, k: 27, accumulate: true},      // partial tiles
		{m: 12, n: 16, k: 5, bias: true, relu: true}, // bias and ReLU
	}
	for m := 1; m <= 5; m++ { // strips of 1-2 and 3-4 rows, and one of 5 (6-row kernel)
		cases = append(cases,
			gemmCase{m: m, n: 24, k: 40},
			gemmCase{m: 6 + m, n: 20, k: 600, accumulate: true, ldExtra: 2},
			gemmCase{m: m, n: 16, k: 9, bias: true, relu: true},
		)
	}
	for i, tc := range cases {
		directStore, shortStrips = false, false
		want6, want := runGemmCase(t, simd128AsmGemm, tc, uint64(i), true)
		for _, paths := range [][2]bool{{true, false}, {false, true}, {true, true}} {
			directStore, shortStrips = paths[0], paths[1]
			got, _ := runGemmCase(t, simd128AsmGemm, tc, uint64(i), false)
			for j := range got {
				if math.Float32bits(got[j]) != math.Float32bits(want6[j]) {
					t.Fatalf("%+v, directStore=%t shortStrips=%t: element %d: %g, 6-row kernel and epilogue %g", tc, paths[0], paths[1], j, got[j], want6[j])
				}
			}
		}
		if e := maxRelErr(want6, want); e > 1e-5 {
			t.Fatalf("%+v: max relative error %.3g > 1e-5", tc, e)
		}
	}
}

// BenchmarkWasmKernelPaths times VGG16's 13 conv layers (each as the
// model runs it: the convolution WinogradTile picks) with one of the
// kernel paths on and off, alternating pass by pass in one process, and
// reports both times and their ratio:
//   - directStore at 224x224 batch 1 (full tiles stored by the kernel);
//   - shortStrips at 32x32 batch 1 and 2 (strips of 4 and 2 rows on the 4-
//     and 2-row kernels; 2 is a flip-averaged picture).
//
// In Chromium, the engine users have: make bench-browser.
func BenchmarkWasmKernelPaths(b *testing.B) {
	defer func(d, s bool) { directStore, shortStrips = d, s }(directStore, shortStrips)
	for _, c := range []struct {
		name  string
		size  int
		knob  *bool
		batch int
	}{{"directStore/224", 224, &directStore, 1}, {"shortStrips/32", 32, &shortStrips, 1}, {"shortStrips/32-batch2", 32, &shortStrips, 2}} {
		b.Run(c.name, func(b *testing.B) {
			pass := vgg16ConvPass(c.size, c.batch)
			timed := func(on bool) time.Duration {
				*c.knob = on
				t0 := time.Now()
				pass()
				return time.Since(t0)
			}
			for range 3 { // Chromium compiles hot functions with its optimizing tier
				timed(true)
				timed(false)
			}
			var on, off time.Duration
			for b.Loop() {
				on += timed(true)
				off += timed(false)
			}
			*c.knob = true
			b.ReportMetric(ms(on)/float64(b.N), "on-ms/pass")
			b.ReportMetric(ms(off)/float64(b.N), "off-ms/pass")
			b.ReportMetric(float64(on)/float64(off), "on/off")
		})
	}
}

// vgg16ConvPass returns a function that runs VGG16's 13 conv layers once
// on batch size×size images (random weights and inputs, each layer on the
// convolution WinogradTile picks, as the model packs it).
func vgg16ConvPass(size, batch int) func() {
	type layer struct {
		hw      int
		in, out []float32
		conv    interface {
			Forward(n, h, w int, in, out []float32, relu bool)
		}
	}
	var layers []layer
	hw := size
	rng := newRand(3)
	for l, ch := range vgg16ConvChannels {
		cin, cout := ch[0], ch[1]
		kernel, bias := randFloats(rng, 9*cin*cout), randFloats(rng, cout)
		ly := layer{hw: hw, in: randFloats(rng, batch*hw*hw*cin), out: make([]float32, batch*hw*hw*cout)}
		if tile := WinogradTile(1, cin, hw, hw); tile == 0 { // the model's rule: per image
			ly.conv = NewConv3x3(cin, cout, kernel, bias)
		} else {
			ly.conv = NewWinograd3x3Tile(cin, cout, kernel, bias, tile)
		}
		layers = append(layers, ly)
		if vgg16PoolAfter[l] {
			hw /= 2
		}
	}
	return func() {
		for _, ly := range layers {
			ly.conv.Forward(batch, ly.hw, ly.hw, ly.in, ly.out, true)
		}
	}
}
