package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// threadCount is the number of goroutines kernels may use; 0 means "not set",
// in which case defaultThreads applies.
var threadCount atomic.Int32

// defaultThreads is GOMAXPROCS natively and 1 in the browser, where goroutines
// share a single OS thread and splitting work only adds overhead.
func defaultThreads() int {
	if runtime.GOOS == "js" {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads sets how many goroutines the kernels use for one call.
// n <= 0 restores the default (GOMAXPROCS natively, 1 under GOOS=js).
// Results do not depend on the thread count: work is split over output
// tiles only.
func SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	threadCount.Store(int32(n))
}

// Threads reports how many goroutines the kernels use for one call.
func Threads() int {
	if n := int(threadCount.Load()); n > 0 {
		return n
	}
	return defaultThreads()
}

// parallelFor runs fn(worker, task) for every task in [0, tasks), using up to
// Threads() goroutines. worker is in [0, workers) and is unique among the
// goroutines running at the same time, so callers can index per-worker scratch
// space with it. If setup is non-nil it is called once, before any task,
// with the number of workers, so that scratch can be sized first.
func parallelFor(tasks int, setup func(workers int), fn func(worker, task int)) {
	workers := min(Threads(), tasks)
	if workers < 1 {
		workers = 1
	}
	if setup != nil {
		setup(workers)
	}
	if workers == 1 {
		for t := 0; t < tasks; t++ {
			fn(0, t)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			defer wg.Done()
			for {
				t := int(next.Add(1) - 1)
				if t >= tasks {
					return
				}
				fn(w, t)
			}
		}(w)
	}
	wg.Wait()
}
