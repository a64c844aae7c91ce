package main

import (
	"strings"
	"testing"
	"time"
)

func TestReportMarkdown(t *testing.T) {
	ser := func(ms ...float64) series {
		var s series
		for _, v := range ms {
			s = append(s, sample{MS: v, OtherLoad: 0.1, OwnLoad: 0.9, Attempts: 1})
		}
		return s
	}
	vggo := ser(100, 110, 90)
	peer := ser(250, 260, 240)
	o := &options{runs: 3, warmup: 1, warmupTime: 500 * time.Millisecond, trainRuns: 3, ftRuns: 1, loadLimit: 0.5, retries: 2, repeatShare: 0.25}
	r := &report{started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), elapsed: 90 * time.Second, opts: o,
		env: map[string]string{"CPU": "Test CPU 9000"},
		browser: []row{
			{config: "224x224, batch 1", engine: pageInfo{Version: "vggo", Threads: 1}, runs: vggo, baseline: vggo},
			{config: "224x224, batch 1", engine: pageInfo{Version: "peer 1.0", Threads: 2}, runs: peer, baseline: vggo},
		},
		native: []nativeRow{
			{name: "train step", unit: "img/s", batch: 64, vggo: ser(1000), torch: ser(4000)},
			{name: "fine-tune", unit: "s", vggo: ser(20000), torch: ser(50000)},
		},
		warmups: []string{"vggo 224x224 batch 1: 3"},
	}
	md := r.markdown()
	for _, want := range []string{
		"| CPU | Test CPU 9000 |",
		"| 224x224, batch 1 | vggo | 1 | 100.0 | 1.00 | 0.90 | 0.10 (max 0.10) |",
		"| 224x224, batch 1 | peer 1.0 | 2 | 250.0 | 2.50 | 0.90 | 0.10 (max 0.10) |",
		"| train step | 64.0 img/s | 16.0 img/s | 4.00 |",
		"| fine-tune | 20.0 s | 50.0 s | 2.50 |",
		"2026-01-02 03:04 UTC",
		"after 1 warm-up run(s) and then 500ms more of them per engine and input",
		"Untimed runs each engine made before the timed ones (1, then more for 500ms):\n\n- vggo 224x224 batch 1: 3\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Noisy session") {
		t.Errorf("quiet session (load 0.1 < limit 0.5) flagged as noisy")
	}
	o.loadLimit = 0.05
	if md := r.markdown(); !strings.Contains(md, "Noisy session:** other processes kept a median 0.10 cores busy") {
		t.Errorf("busy session not flagged:\n%s", md)
	}
}

func TestCPUModelAndLoadAverage(t *testing.T) {
	if m := cpuModel(); m == "" {
		t.Error("empty CPU model")
	}
	if l := loadAverage(); len(strings.Fields(l)) != 3 && l != "unknown" {
		t.Errorf("load average %q: want three numbers", l)
	}
}
