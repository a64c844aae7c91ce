package main

import (
	"fmt"
	"os"
	"sort"
	"time"
)

// sample is one timed run: its milliseconds and the other processes' load
// (cores busy) while it ran, with how many attempts it took.
type sample struct {
	MS        float64
	OtherLoad float64
	OwnLoad   float64 // cores this benchmark's processes used meanwhile
	Attempts  int
}

// meter runs measurements and repeats the ones that ran under load.
type meter struct {
	self      int
	loadLimit float64 // cores of other load above which a run is repeated
	retries   int     // extra attempts per run at most
	// repeatShare bounds the time spent on repeats to this fraction of the
	// time since start, so a machine that is busy all along costs at most
	// that much more, and repeats are spread over the whole session.
	repeatShare float64
	start       time.Time
	repeatTime  time.Duration
	log         func(format string, args ...any)
}

// measure runs fn (which returns its own timing in ms) until the other
// processes' load stays at or below loadLimit, at most 1+retries times,
// and keeps the attempt that ran under the least load.
func (m *meter) measure(name string, fn func() (float64, error)) (sample, error) {
	best := sample{OtherLoad: -1}
	for attempt := 1; ; attempt++ {
		began := time.Now()
		a, err := sampleCPU(m.self)
		if err != nil {
			return best, fmt.Errorf("load meter: %w", err)
		}
		ms, err := fn()
		if err != nil {
			return best, fmt.Errorf("%s: %w", name, err)
		}
		b, err := sampleCPU(m.self)
		if err != nil {
			return best, fmt.Errorf("load meter: %w", err)
		}
		load := otherLoad(a, b)
		if best.OtherLoad < 0 || load < best.OtherLoad {
			best = sample{MS: ms, OtherLoad: load, OwnLoad: ownLoad(a, b)}
		}
		best.Attempts = attempt
		if attempt > 1 {
			m.repeatTime += time.Since(began)
		}
		mayRepeat := attempt <= m.retries && m.repeatTime.Seconds() < m.repeatShare*time.Since(m.start).Seconds()
		if load <= m.loadLimit || !mayRepeat {
			if load > m.loadLimit && attempt > 1 && m.log != nil {
				m.log("  %s: %.1f ms under other load %.2f cores (attempt %d, kept the least loaded: %.1f ms at %.2f)",
					name, ms, load, attempt, best.MS, best.OtherLoad)
			}
			return best, nil
		}
	}
}

// series is all timed runs of one engine on one configuration.
type series []sample

// medianMS is the median of the runs' milliseconds.
func (s series) medianMS() float64 { return median(s, func(x sample) float64 { return x.MS }) }

// medianLoad is the median other-process load over the runs.
func (s series) medianLoad() float64 { return median(s, func(x sample) float64 { return x.OtherLoad }) }

// medianOwnLoad is the median load of the benchmark's own processes.
func (s series) medianOwnLoad() float64 {
	return median(s, func(x sample) float64 { return x.OwnLoad })
}

// maxLoad is the highest other-process load of any kept run.
func (s series) maxLoad() float64 {
	m := 0.0
	for _, x := range s {
		m = max(m, x.OtherLoad)
	}
	return m
}

// repeats counts the extra attempts made because of load.
func (s series) repeats() int {
	n := 0
	for _, x := range s {
		n += x.Attempts - 1
	}
	return n
}

func median(s series, f func(sample) float64) float64 {
	if len(s) == 0 {
		return 0
	}
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// rotation returns the order in which n engines run in round r: a cyclic
// shift by r, so each engine takes every slot equally often and drift
// within a round hits all alike.
func rotation(n, r int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = (i + r) % n
	}
	return o
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
