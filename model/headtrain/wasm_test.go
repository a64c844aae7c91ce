//go:build !js

package headtrain

import (
	"encoding/json"
	"testing"

	"vggo/internal/wasmrun"
	"vggo/model"
)

// TestWasmMatchesNative trains the same heads natively and in the wasm
// build (the browser worker's: SIMD128 kernels, run by node through the Go
// toolchain's go_js_wasm_exec) and wants every weight within 1e-5.
func TestWasmMatchesNative(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package for wasm and runs it under node")
	}
	data := wasmrun.Test(t, "TestWriteFitWeights", "VGGO_HEADTRAIN_OUT")
	var browser map[string]model.Head
	if err := json.Unmarshal(data, &browser); err != nil {
		t.Fatal(err)
	}
	native := runFitCases(t)
	for _, tc := range fitCases {
		n, w := native[tc.name], browser[tc.name]
		if len(n.Dense) == 0 || len(n.Dense) != len(w.Dense) {
			t.Fatalf("%s: %d native layers, %d wasm", tc.name, len(n.Dense), len(w.Dense))
		}
		for i := range n.Dense {
			dk, db := maxAbsDiff(n.Dense[i].Kernel, w.Dense[i].Kernel), maxAbsDiff(n.Dense[i].Bias, w.Dense[i].Bias)
			t.Logf("%s dense%d: max |native − wasm| kernel %.2g, bias %.2g", tc.name, i+1, dk, db)
			if dk > 1e-5 || db > 1e-5 {
				t.Errorf("%s dense%d: native and wasm differ by %.3g (kernel), %.3g (bias), want ≤ 1e-5", tc.name, i+1, dk, db)
			}
		}
	}
}
