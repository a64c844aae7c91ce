package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/stat and /proc/PID/stat times;
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// cpuSample is one reading of the machine's busy CPU time and of the busy
// time of this benchmark's own processes (this program and every
// descendant: Chromium and its renderers, the PyTorch child).
type cpuSample struct {
	at        time.Time
	totalBusy int64 // ticks, all CPUs, from /proc/stat
	ownBusy   int64 // ticks, this process tree, from /proc/PID/stat
}

// otherLoad is the average number of cores that processes outside this
// benchmark kept busy between a and b. Time of processes that started and
// ended in between counts as other load, which errs on the side of
// repeating a measurement.
func otherLoad(a, b cpuSample) float64 {
	dt := b.at.Sub(a.at).Seconds()
	if dt <= 0 {
		return 0
	}
	other := float64((b.totalBusy-a.totalBusy)-(b.ownBusy-a.ownBusy)) / clockTicks / dt
	return max(other, 0)
}

// ownLoad is the average number of cores this benchmark's process tree
// kept busy between a and b: about the thread count of the engine that ran,
// when idle cores were there for it.
func ownLoad(a, b cpuSample) float64 {
	dt := b.at.Sub(a.at).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(b.ownBusy-a.ownBusy) / clockTicks / dt
}

// sampleCPU reads /proc/stat and the stat file of every process, attributing
// each process to this benchmark when it descends from pid self.
func sampleCPU(self int) (cpuSample, error) {
	s := cpuSample{at: time.Now()}
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s, err
	}
	if s.totalBusy, err = parseProcStatBusy(stat); err != nil {
		return s, err
	}
	procs := map[int]procTimes{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue // exited meanwhile
		}
		if p, err := parsePidStat(b); err == nil {
			procs[p.pid] = p
		}
	}
	s.ownBusy = treeBusy(procs, self)
	return s, nil
}

// parseProcStatBusy returns the busy ticks of the aggregate "cpu" line of
// /proc/stat: everything but idle and iowait (guest time is already
// included in user and nice).
func parseProcStatBusy(stat []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[0] != "cpu" {
			continue
		}
		var busy int64
		for i, v := range f[1:] {
			if i >= 8 { // guest, guest_nice: counted in user, nice
				break
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/stat: cpu field %d %q: %v", i+1, v, err)
			}
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		return busy, nil
	}
	return 0, fmt.Errorf("/proc/stat: no aggregate cpu line")
}

// procTimes is what the load meter needs from /proc/PID/stat.
type procTimes struct {
	pid, ppid int
	busy      int64 // utime + stime, ticks
}

// parsePidStat parses /proc/PID/stat. The command name is in parentheses
// and may itself contain spaces and parentheses, so fields are counted
// from the last ')'.
func parsePidStat(b []byte) (procTimes, error) {
	var p procTimes
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 1 || closing < open {
		return p, fmt.Errorf("stat: no (comm) field")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:open])))
	if err != nil {
		return p, fmt.Errorf("stat: pid: %v", err)
	}
	f := strings.Fields(string(b[closing+1:]))
	// f[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return p, fmt.Errorf("stat: %d fields after comm, want at least 13", len(f))
	}
	p.pid = pid
	if p.ppid, err = strconv.Atoi(f[1]); err != nil {
		return p, fmt.Errorf("stat: ppid: %v", err)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return p, fmt.Errorf("stat: utime/stime %q %q", f[11], f[12])
	}
	p.busy = ut + st
	return p, nil
}

// treeBusy sums the busy ticks of root and all its descendants.
func treeBusy(procs map[int]procTimes, root int) int64 {
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	var sum int64
	stack := []int{root}
	seen := map[int]bool{}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		sum += procs[pid].busy
		stack = append(stack, children[pid]...)
	}
	return sum
}
