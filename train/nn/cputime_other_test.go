//go:build !unix

package nn

import "time"

// processCPUTime is not measured on this system; benchmarks report 0.
func processCPUTime() time.Duration { return 0 }
