package kernels

import (
	"fmt"
	"testing"
)

// TestWinogradFilterGradMatchesReference checks the Winograd kernel and
// bias gradients (both tiles) against the float64 chain-rule reference on
// the awkward shapes (partial tiles, 1x1 images, odd channel counts),
// overwriting and then accumulating, with chunks of a few tiles forced so
// the sum over chunks is exercised.
func TestWinogradFilterGradMatchesReference(t *testing.T) {
	for i, s := range awkwardConvShapes {
		for _, tile := range []int{4, 2} {
			t.Run(fmt.Sprintf("F%d/%dx%dx%dx%d->%d", tile, s.n, s.h, s.w, s.cin, s.cout), func(t *testing.T) {
				rng := newRand(uint64(400 + i))
				in := randFloats(rng, s.n*s.h*s.w*s.cin)
				dout := randFloats(rng, s.n*s.h*s.w*s.cout)
				_, wantDk, wantDb := f64ConvGrads(s.n, s.h, s.w, s.cin, s.cout, in, make([]float32, 9*s.cin*s.cout), dout)
				dk, db := newGuarded(9*s.cin*s.cout), newGuarded(s.cout)
				a := tile + 2 // chunks of 3 tiles
				g := &winoFilterGrad{tile: tile, chunkFloats: 3 * a * a * (s.cin + s.cout)}
				g.backward(s.n, s.h, s.w, s.cin, s.cout, in, dout, dk.data, db.data, false)
				dk.check(t)
				db.check(t)
				if e := maxRelErr(dk.data, wantDk); e > 1e-4 {
					t.Fatalf("dkernel error %g", e)
				}
				if e := maxRelErr(db.data, wantDb); e > 1e-5 {
					t.Fatalf("dbias error %g", e)
				}
				g.backward(s.n, s.h, s.w, s.cin, s.cout, in, dout, dk.data, db.data, true)
				for j := range wantDk {
					wantDk[j] *= 2
				}
				if e := maxRelErr(dk.data, wantDk); e > 1e-4 {
					t.Fatalf("accumulated dkernel error %g", e)
				}
			})
		}
	}
}

// TestWinogradFilterGradFiniteDifferences checks the Winograd kernel
// gradient against central differences of the float64 convolution.
func TestWinogradFilterGradFiniteDifferences(t *testing.T) {
	const n, h, w, cin, cout = 2, 5, 7, 4, 3
	rng := newRand(41)
	in, kernel, dout := randFloats(rng, n*h*w*cin), randFloats(rng, 9*cin*cout), randFloats(rng, n*h*w*cout)
	in64 := to64(in)
	fd := numericGrad(func(k []float64) []float64 { return f64Conv3x3Of(n, h, w, cin, cout, in64, k) }, to64(kernel), to64(dout), 1e-4)
	for _, tile := range []int{4, 2} {
		dk := make([]float32, len(kernel))
		(&winoFilterGrad{tile: tile}).backward(n, h, w, cin, cout, in, dout, dk, nil, false)
		if e := maxRelErr(dk, fd); e > 1e-4 {
			t.Fatalf("F(%d): dkernel vs finite differences: %g", tile, e)
		}
	}
}

func TestWinogradFilterGradThreadsBitIdentical(t *testing.T) {
	const n, h, w, cin, cout = 3, 10, 9, 21, 34
	rng := newRand(43)
	in, dout := randFloats(rng, n*h*w*cin), randFloats(rng, n*h*w*cout)
	for _, tile := range []int{4, 2} {
		var ref []float32
		for _, threads := range []int{1, 2, 5} {
			dk := make([]float32, 9*cin*cout)
			withThreads(threads, func() { (&winoFilterGrad{tile: tile}).backward(n, h, w, cin, cout, in, dout, dk, nil, false) })
			if ref == nil {
				ref = dk
			} else if i := bitsEqual(ref, dk); i >= 0 {
				t.Fatalf("F(%d) threads=%d: differs at %d", tile, threads, i)
			}
		}
	}
}

// TestWinogradGradOutputVariants checks the chosen gradient transforms
// (SIMD where the build and CPU allow) bit for bit against the scalar ones,
// on interior and edge tiles and channel counts around the vector width.
func TestWinogradGradOutputVariants(t *testing.T) {
	const h, w = 7, 6
	for _, cout := range []int{1, 5, 16, 17, 40} {
		dout := randFloats(newRand(uint64(cout)), h*w*cout)
		for _, tc := range []struct {
			m              int
			active, scalar winoGradOutputFunc
		}{{4, winoGradOutput4, winoGradOutput4Scalar}, {2, winoGradOutput2, winoGradOutput2Scalar}} {
			a := tc.m + 2
			for _, org := range [][2]int{{0, 0}, {4, 4}, {6, 2}} {
				got, want := make([]float32, a*a*cout), make([]float32, a*a*cout)
				tc.active(dout, h, w, cout, org[0], org[1], got, cout)
				tc.scalar(dout, h, w, cout, org[0], org[1], want, cout)
				if i := bitsEqual(got, want); i >= 0 {
					t.Fatalf("F(%d) cout=%d at %v: differs from scalar at %d", tc.m, cout, org, i)
				}
			}
		}
	}
}
