//go:build !unix

package kernels

import "time"

// processCPUTime is unavailable here (js/wasm, windows); benchmarks then
// report 0 CPU time and only wall time means anything.
func processCPUTime() time.Duration { return 0 }
