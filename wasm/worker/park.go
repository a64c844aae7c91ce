package main

// announcedPassRun reports whether a follower whose last pass started at
// lastPassMillis has run the pass a KindPark sent at sentMillis announced
// (protocol.ParkRequest; both on the clock performance.timeOrigin +
// performance.now(), 0 for no pass yet): then the message is stale, and
// parking for it would poll for nothing and hold up the worker's queue.
func announcedPassRun(sentMillis, lastPassMillis float64) bool {
	return lastPassMillis > 0 && sentMillis <= lastPassMillis
}
