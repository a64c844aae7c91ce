package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// The rate on an image bar is images worked on per second of the bar's
// own clock: 40 img/s when 300 images take 7.5 s, nothing in the first
// milliseconds (where the library showed "642949 img/s"), and cache hits
// neither inflate it nor pass for work.
func TestImageBarRate(t *testing.T) {
	t.Run("steady work", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{t: time.Unix(1e9, 0)}
		b := newBarClock(300, "epoch 1/3", &out, clk.now, 0)
		clk.advance(time.Millisecond)
		b.Add(16)
		if strings.Contains(out.String(), "img/s") {
			t.Errorf("a rate after 1 ms of work: %q", out.String())
		}
		clk.advance(2*time.Second - time.Millisecond)
		b.Describe("loss 1.2345")
		b.Add(64) // 80 images in 2 s
		if !strings.Contains(out.String(), "epoch 1/3 loss 1.2345, 40 img/s, 6s left") {
			t.Errorf("after 80 images in 2 s: %q, want 40 img/s and 6s left for the other 220", out.String())
		}
		clk.advance(5500 * time.Millisecond)
		b.Add(220)
		b.Finish()
		last := lastLine(out.String())
		if !strings.Contains(last, "epoch 1/3 loss 1.2345, 40 img/s") || strings.Contains(last, "left") {
			t.Errorf("final line %q, want 40 img/s and no time left", last)
		}
	})
	t.Run("all from the cache", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{t: time.Unix(1e9, 0)}
		b := newBarClock(12, "features train", &out, clk.now, 0)
		clk.advance(20 * time.Microsecond)
		b.AddFree(12)
		b.Finish()
		if s := out.String(); strings.Contains(s, "img/s") || !strings.Contains(lastLine(s), "features train, all from the cache") {
			t.Errorf("12 cache hits in 20 µs: %q, want no rate and \"all from the cache\"", s)
		}
	})
	t.Run("quick work", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{t: time.Unix(1e9, 0)}
		b := newBarClock(400, "test", &out, clk.now, 0)
		clk.advance(300 * time.Millisecond)
		b.Add(400)
		b.Finish()
		if s := out.String(); strings.Contains(s, "img/s") || !strings.Contains(lastLine(s), "test, in 0.3s") {
			t.Errorf("400 images in 0.3 s: %q, want the time, not a rate", s)
		}
	})
	t.Run("cache hits are not work", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{t: time.Unix(1e9, 0)}
		b := newBarClock(1000, "features validation", &out, clk.now, 0)
		b.AddFree(900)
		clk.advance(4 * time.Second)
		b.Add(100)
		b.Finish()
		if last := lastLine(out.String()); !strings.Contains(last, "features validation, 25 img/s") {
			t.Errorf("100 computed + 900 cached in 4 s: %q, want 25 img/s", last)
		}
	})
	t.Run("slow work", func(t *testing.T) {
		var out bytes.Buffer
		clk := &fakeClock{t: time.Unix(1e9, 0)}
		b := newBarClock(10, "epoch 1/1", &out, clk.now, 0)
		clk.advance(40 * time.Second)
		b.Add(2)
		b.Finish()
		if last := lastLine(out.String()); !strings.Contains(last, "epoch 1/1, 3.0 img/min") {
			t.Errorf("2 images in 40 s: %q, want 3.0 img/min", last)
		}
	})
}

// lastLine is the last rendering of a bar: the text after the last
// carriage return, trimmed.
func lastLine(s string) string {
	s = strings.TrimRight(s, "\n ")
	if i := strings.LastIndex(s, "\r"); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}
