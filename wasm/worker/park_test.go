package main

import "testing"

func TestAnnouncedPassRun(t *testing.T) {
	for _, c := range []struct {
		sent, lastPass float64
		want           bool
	}{
		{1000.5, 0, false},      // no pass yet: park
		{1000.5, 990.25, false}, // announced after the last pass: park
		{1000.5, 1000.5, true},  // the pass started as it was announced
		{1000.5, 1012.75, true}, // a pass since: stale
	} {
		if got := announcedPassRun(c.sent, c.lastPass); got != c.want {
			t.Errorf("announcedPassRun(sent %v, last pass %v) = %v, want %v", c.sent, c.lastPass, got, c.want)
		}
	}
}
