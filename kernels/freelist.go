package kernels

import "sync"

// freeList keeps scratch buffers for reuse. Unlike sync.Pool, the garbage
// collector never empties it, and a buffer put back by one goroutine is
// found by the next get on any processor (sync.Pool's per-processor slot
// is not), so code that runs every training step gets its scratch back
// every time instead of now and then allocating anew. It holds at most
// as many buffers as were ever in use at once; when none is big enough, get
// drops a free one, so sizes that grow replace buffers rather than add them.
type freeList struct {
	mu   sync.Mutex
	bufs []*[]float32
}

// get returns a buffer of n floats, reused when one big enough is free.
func (f *freeList) get(n int) *[]float32 {
	f.mu.Lock()
	for i := len(f.bufs) - 1; i >= 0; i-- {
		if p := f.bufs[i]; cap(*p) >= n {
			f.bufs = append(f.bufs[:i], f.bufs[i+1:]...)
			f.mu.Unlock()
			*p = (*p)[:n]
			return p
		}
	}
	// None is big enough: drop one of the free ones for the new, bigger
	// buffer, so a list shared by layers of growing sizes keeps one buffer
	// per concurrent user, not one per size it has seen.
	if len(f.bufs) > 0 {
		f.bufs = f.bufs[:len(f.bufs)-1]
	}
	f.mu.Unlock()
	s := make([]float32, n)
	return &s
}

// put returns a buffer from get for reuse.
func (f *freeList) put(p *[]float32) {
	f.mu.Lock()
	f.bufs = append(f.bufs, p)
	f.mu.Unlock()
}
