//go:build js

package kernels

import (
	"syscall/js"
	"time"
)

// processCPUTime returns node's process.cpuUsage() (user + system), so the
// wasm benchmarks can report CPU time like the native ones; 0 outside node.
func processCPUTime() time.Duration {
	proc := js.Global().Get("process")
	if proc.IsUndefined() || proc.Get("cpuUsage").IsUndefined() {
		return 0
	}
	u := proc.Call("cpuUsage")
	micros := u.Get("user").Float() + u.Get("system").Float()
	return time.Duration(micros * 1e3)
}
