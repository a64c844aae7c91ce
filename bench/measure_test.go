package main

import (
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		ms   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{5}, 5},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tc := range tests {
		var s series
		for _, v := range tc.ms {
			s = append(s, sample{MS: v, OtherLoad: v / 10, Attempts: 2})
		}
		if got := s.medianMS(); got != tc.want {
			t.Errorf("medianMS(%v) = %v, want %v", tc.ms, got, tc.want)
		}
		if got := s.medianLoad(); math.Abs(got-tc.want/10) > 1e-12 {
			t.Errorf("medianLoad(%v) = %v, want %v", tc.ms, got, tc.want/10)
		}
		if got := s.repeats(); got != len(tc.ms) {
			t.Errorf("repeats = %d, want %d", got, len(tc.ms))
		}
	}
}

// TestRotation checks that over n rounds every engine runs once in every slot.
func TestRotation(t *testing.T) {
	if got := rotation(3, 1); !reflect.DeepEqual(got, []int{1, 2, 0}) {
		t.Fatalf("rotation(3, 1) = %v", got)
	}
	const n = 5
	slots := make([]map[int]bool, n)
	for r := 0; r < n; r++ {
		for slot, e := range rotation(n, r) {
			if slots[e] == nil {
				slots[e] = map[int]bool{}
			}
			slots[e][slot] = true
		}
	}
	for e, s := range slots {
		if len(s) != n {
			t.Errorf("engine %d ran in slots %v over %d rounds, want all %d", e, s, n, n)
		}
	}
}

func TestMeterRepeats(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc: load metering needs Linux")
	}
	calls := 0
	fn := func() (float64, error) { calls++; return float64(10 * calls), nil }
	tests := []struct {
		name      string
		limit     float64
		retries   int
		share     float64
		wantCalls int
	}{
		{"under the limit: one run", math.Inf(1), 3, 1, 1},
		{"always over the limit: 1+retries runs", -1, 2, 1e9, 3},
		{"over the limit, no repeat time left", -1, 2, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls = 0
			m := &meter{self: os.Getpid(), loadLimit: tc.limit, retries: tc.retries, repeatShare: tc.share,
				start: time.Now().Add(-time.Second)}
			s, err := m.measure("fake", fn)
			if err != nil {
				t.Fatal(err)
			}
			if calls != tc.wantCalls || s.Attempts != tc.wantCalls {
				t.Fatalf("%d calls, %d attempts; want %d", calls, s.Attempts, tc.wantCalls)
			}
			if s.MS != 10 && s.MS != 20 && s.MS != 30 {
				t.Fatalf("kept %v ms, not one of the runs", s.MS)
			}
		})
	}
	m := &meter{self: os.Getpid(), loadLimit: 1, start: time.Now()}
	_, err := m.measure("broken", func() (float64, error) { return 0, errors.New("engine crashed") })
	if err == nil || !strings.Contains(err.Error(), "broken: engine crashed") {
		t.Fatalf("error %v does not name the measurement and the cause", err)
	}
}
