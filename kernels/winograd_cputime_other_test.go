//go:build !unix && !js

package kernels

import "time"

// processCPUTime is unavailable here (windows, plan9); benchmarks then
// report 0 CPU time and only wall time means anything.
func processCPUTime() time.Duration { return 0 }
