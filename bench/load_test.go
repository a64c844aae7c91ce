package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestParseProcStatBusy(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
		bad  bool
	}{
		// user nice system idle iowait irq softirq steal guest guest_nice
		{"full line", "cpu  100 5 50 1000 20 3 2 1 40 0\ncpu0 1 1 1 1 1 1 1 1 1 1\n", 100 + 5 + 50 + 3 + 2 + 1, false},
		{"old kernel, 7 fields", "cpu 10 0 10 500 0 0 0\n", 20, false},
		{"no aggregate line", "cpu0 1 2 3 4 5\n", 0, true},
		{"garbage number", "cpu 1 x 3 4 5 6 7\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStatBusy([]byte(tc.in))
			if tc.bad {
				if err == nil {
					t.Fatalf("no error, got %d", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestParsePidStat(t *testing.T) {
	// A command name with spaces and parentheses: fields are counted from the last ')'.
	line := "4242 (we (ird) name) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 1 0 5 0 0\n"
	p, err := parsePidStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if p.pid != 4242 || p.ppid != 17 || p.busy != 281 {
		t.Fatalf("got %+v, want pid 4242 ppid 17 busy 281", p)
	}
	if _, err := parsePidStat([]byte("12 (x) S 1 2 3")); err == nil {
		t.Fatal("short line: no error")
	}
}

func TestTreeBusy(t *testing.T) {
	procs := map[int]procTimes{
		1:  {1, 0, 1000},
		10: {10, 1, 5}, // root
		11: {11, 10, 7},
		12: {12, 11, 11}, // grandchild
		20: {20, 1, 300}, // unrelated
	}
	if got := treeBusy(procs, 10); got != 5+7+11 {
		t.Fatalf("treeBusy = %d, want 23", got)
	}
}

func TestOtherLoad(t *testing.T) {
	t0 := time.Unix(0, 0)
	a := cpuSample{at: t0, totalBusy: 1000, ownBusy: 100}
	// 2 s later: 400 ticks busy in all, 150 of them ours → 250 ticks of
	// others in 2 s = 1.25 cores.
	b := cpuSample{at: t0.Add(2 * time.Second), totalBusy: 1400, ownBusy: 250}
	if got := otherLoad(a, b); got < 1.2499 || got > 1.2501 {
		t.Fatalf("otherLoad = %v, want 1.25", got)
	}
	if got := ownLoad(a, b); got != 0.75 {
		t.Fatalf("ownLoad = %v, want 0.75", got)
	}
	if got := otherLoad(b, b); got != 0 {
		t.Fatalf("zero interval: %v", got)
	}
}

// TestSampleCPUSeesOwnWork burns CPU in this process and checks that the
// meter attributes it to the benchmark, not to other processes.
func TestSampleCPUSeesOwnWork(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc: load metering needs Linux")
	}
	a, err := sampleCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until this process has used 0.3 s of CPU by its own account
	// (wall time would depend on how busy the machine is).
	x := 0.0
	start := cpuTime(t)
	for cpuTime(t)-start < 300*time.Millisecond {
		for i := 0; i < 100000; i++ {
			x += float64(i)
		}
	}
	b, err := sampleCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	own := float64(b.ownBusy-a.ownBusy) / clockTicks
	if own < 0.25 {
		t.Fatalf("own busy time %.2f s after 0.3 s of CPU spinning (x=%v): the process tree is not counted", own, x)
	}
}

// cpuTime is this process's user+system CPU time from getrusage.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
