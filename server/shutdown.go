package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Shutdown. On SIGINT or SIGTERM the server stops accepting connections
// and lets the transfers in flight finish for up to the drain time
// (-drain); then it cuts those still running and logs each of them.

const (
	// slowLinkBytesPerSecond is the slow link the default drain time is
	// sized for: 100 kB/s, a poor mobile connection.
	slowLinkBytesPerSecond = 100_000
	// minDrain is the shortest default drain time, for small models.
	minDrain = 30 * time.Second
)

// defaultDrain is the drain time for a server whose largest model has
// largest bytes: long enough to send it whole over a slow link, at least
// minDrain, and at most the write timeout, after which a response is cut
// anyway.
func defaultDrain(largest int64) time.Duration {
	d := time.Duration(largest) * time.Second / slowLinkBytesPerSecond
	return min(max(d, minDrain), writeTimeout)
}

// transfer is one request being served.
type transfer struct {
	req   *http.Request
	start time.Time
}

// transfers are the requests being served, so that a shutdown that runs
// out of time can say which it cut.
type transfers struct {
	mu     sync.Mutex
	active map[*responseRecorder]transfer
}

func newTransfers() *transfers {
	return &transfers{active: make(map[*responseRecorder]transfer)}
}

func (t *transfers) add(rec *responseRecorder, r *http.Request, start time.Time) {
	t.mu.Lock()
	t.active[rec] = transfer{req: r, start: start}
	t.mu.Unlock()
}

func (t *transfers) remove(rec *responseRecorder) {
	t.mu.Lock()
	delete(t.active, rec)
	t.mu.Unlock()
}

// logCut logs every transfer still in flight as cut, oldest first, and
// returns how many there were.
func (t *transfers) logCut(log *slog.Logger) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	recs := make([]*responseRecorder, 0, len(t.active))
	for rec := range t.active {
		recs = append(recs, rec)
	}
	sort.Slice(recs, func(i, j int) bool { return t.active[recs[i]].start.Before(t.active[recs[j]].start) })
	for _, rec := range recs {
		tr := t.active[rec]
		log.Warn("transfer cut at shutdown",
			"method", tr.req.Method,
			"path", tr.req.URL.Path,
			"remote", tr.req.RemoteAddr,
			"bytes", rec.bytes.Load(),
			"duration", time.Since(tr.start),
		)
	}
	return len(recs)
}

// drainAndStop shuts srv down: no new connections, in-flight requests get
// up to drain to finish, then those left are logged and cut. The site's
// background work stops too. Cutting transfers at the deadline is the
// shutdown working as configured, not an error.
func drainAndStop(srv *http.Server, site *siteHandler, drain time.Duration, log *slog.Logger) error {
	log.Info("shutting down", "drain", drain.String())
	// Shutdown closes the listeners before it calls these hooks, so this
	// line tells a watcher that new connections are refused from now on;
	// "shutting down" comes before that.
	srv.RegisterOnShutdown(func() { log.Info("listener closed; draining") })
	defer site.close()
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	cut := site.transfers.logCut(log)
	log.Warn("drain time over; cutting the transfers still running", "drain", drain.String(), "cut", cut)
	return srv.Close()
}
