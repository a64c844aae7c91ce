//go:build !js

package lastconv

import (
	"encoding/json"
	"testing"

	"vggo/internal/wasmrun"
)

// TestWasmMatchesNative trains the same conv layers and heads natively and
// in the wasm build (the browser worker's kernels, under node) and wants
// every weight within 1e-5.
func TestWasmMatchesNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package for wasm and runs it under node")
	}
	var browser map[string]trained
	if err := json.Unmarshal(wasmrun.Test(t, "TestWriteFitWeights", "VGGO_LASTCONV_OUT"), &browser); err != nil {
		t.Fatal(err)
	}
	native := runFitCases(t)
	for _, tc := range fitCases {
		n, w := native[tc.name], browser[tc.name]
		if len(n.Head.Dense) == 0 || len(n.Head.Dense) != len(w.Head.Dense) {
			t.Fatalf("%s: %d native dense layers, %d wasm", tc.name, len(n.Head.Dense), len(w.Head.Dense))
		}
		check := func(what string, a, b []float32) {
			d := maxAbsDiff(a, b)
			t.Logf("%s %s: max |native − wasm| %.2g", tc.name, what, d)
			if d > 1e-5 {
				t.Errorf("%s %s: native and wasm differ by %.3g, want ≤ 1e-5", tc.name, what, d)
			}
		}
		check("conv kernel", n.Conv.Kernel, w.Conv.Kernel)
		check("conv bias", n.Conv.Bias, w.Conv.Bias)
		for i := range n.Head.Dense {
			check("dense kernel", n.Head.Dense[i].Kernel, w.Head.Dense[i].Kernel)
			check("dense bias", n.Head.Dense[i].Bias, w.Head.Dense[i].Bias)
		}
	}
}
