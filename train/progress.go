package main

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// imageBar is a progress bar counting images. It shows a rate of its own,
// images worked on per second since the bar was made, instead of the
// progress bar library's: that one starts its clock at the first update
// and counts everything added, so a split read from the cache in a
// millisecond showed "642949 img/s" (issue 19). Images that cost no work
// (cache hits, batches finished before a resume, unreadable files) are
// counted with AddFree and left out of the rate. Below minRateWindow no
// rate is shown at all: a few batches in a few milliseconds say nothing
// about the speed.
type imageBar struct {
	bar          *progressbar.ProgressBar
	label, extra string
	now          func() time.Time
	start        time.Time
	n            int // images in all
	worked, free int
}

// minRateWindow is how long a bar runs before it shows a rate.
const minRateWindow = time.Second

// newBar is an imageBar of n images labelled label on w, on the wall clock.
func newBar(n int, label string, w io.Writer) *imageBar {
	return newBarClock(n, label, w, time.Now, 200*time.Millisecond)
}

// newBarClock is newBar on the given clock, redrawing at most every
// throttle (tests pass a fake clock and 0).
func newBarClock(n int, label string, w io.Writer, now func() time.Time, throttle time.Duration) *imageBar {
	b := &imageBar{label: label, now: now, start: now(), n: n}
	b.bar = progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(throttle),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		progressbar.OptionSetWidth(24),
	)
	return b
}

// Add counts k images that were worked on.
func (b *imageBar) Add(k int) { b.worked += k; b.update(k) }

// AddFree counts k images that cost no work (from the cache, done before a
// resume, skipped).
func (b *imageBar) AddFree(k int) { b.free += k; b.update(k) }

// Describe sets what follows the label, e.g. the running loss.
func (b *imageBar) Describe(extra string) { b.extra = extra; b.bar.Describe(b.text(false)) }

// Finish completes the bar with its final rate.
func (b *imageBar) Finish() {
	b.bar.Describe(b.text(true))
	b.bar.Finish()
}

func (b *imageBar) update(k int) {
	if k == 0 {
		return
	}
	b.bar.Describe(b.text(false))
	b.bar.Add(k)
}

// text is the label, the extra and the rate: "epoch 2/10 loss 0.41, 38
// img/s, 5s left"; at the end "..., 38 img/s" or "..., in 0.4s" when it
// was too quick for a rate; "all from the cache" when nothing was worked on.
func (b *imageBar) text(final bool) string {
	s := b.label
	if b.extra != "" {
		s += " " + b.extra
	}
	elapsed := b.now().Sub(b.start)
	switch {
	case b.worked == 0 && b.free > 0 && final:
		return s + ", all from the cache"
	case b.worked == 0:
		return s
	case elapsed < minRateWindow:
		if final {
			return fmt.Sprintf("%s, in %.1fs", s, elapsed.Seconds())
		}
		return s
	}
	rate := float64(b.worked) / elapsed.Seconds()
	s += ", " + formatRate(rate)
	if left := b.n - b.worked - b.free; !final && left > 0 {
		s += fmt.Sprintf(", %s left", time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second))
	}
	return s
}

// formatRate prints images per second with sensible precision.
func formatRate(r float64) string {
	switch {
	case r >= 10:
		return fmt.Sprintf("%.0f img/s", r)
	case r >= 1:
		return fmt.Sprintf("%.1f img/s", r)
	}
	return fmt.Sprintf("%.1f img/min", 60*r)
}
