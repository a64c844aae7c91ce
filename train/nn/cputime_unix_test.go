//go:build unix

package nn

import (
	"syscall"
	"time"
)

// processCPUTime returns the CPU time (user + system) this process has used.
// BenchmarkTrainStep reports it next to wall time because the build
// machines are shared: wall time grows with other people's load, CPU time
// much less.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
