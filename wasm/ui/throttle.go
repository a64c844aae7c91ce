package ui

// requestThrottle holds image requests back so that at most limit of them
// wait in the worker at once: the worker's message queue is bounded (64
// messages), and a page that sends a thousand dropped images at once would
// overflow it and end the worker program. Pages queue each send here
// (throttle) and report each reply (answered); waiting sends go out in
// order as replies come back. The teach page (features, "try it"), the
// classify page (dropped, picked and pasted images) and the widget (the
// host's classify() calls and the visitor's files) share it.
type requestThrottle struct {
	limit    int // 0: defaultInFlight
	waiting  []func()
	inFlight int
}

// defaultInFlight is how many image requests a page leaves with the worker
// at once: enough to keep a pool of workers busy while the page decodes
// the next reply, far below the worker's queue of 64.
const defaultInFlight = 8

// throttle sends now, or once fewer than the limit are in flight.
func (q *requestThrottle) throttle(send func()) {
	q.waiting = append(q.waiting, send)
	q.pump()
}

// pump sends waiting requests while there is room.
func (q *requestThrottle) pump() {
	limit := q.limit
	if limit <= 0 {
		limit = defaultInFlight
	}
	for q.inFlight < limit && len(q.waiting) > 0 {
		send := q.waiting[0]
		q.waiting = q.waiting[1:]
		q.inFlight++
		send()
	}
}

// answered notes that a request got its reply (a result or an error).
func (q *requestThrottle) answered() {
	q.inFlight = max(0, q.inFlight-1)
	q.pump()
}
