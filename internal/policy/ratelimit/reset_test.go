package ratelimit

import (
	"testing"
	"time"
)

// appendReset writes small durations itself; the rest of the time it
// must agree with the time.Duration.String rendering it replaces.
func TestFormatResetMatchesDurationString(t *testing.T) {
	want := func(d time.Duration) string {
		if d <= 0 {
			return "0s"
		}
		if d < time.Second {
			return d.Round(time.Millisecond).String()
		}
		return d.Round(time.Second).String()
	}
	for _, d := range []time.Duration{-1, 0, 1, 499 * time.Microsecond, 500 * time.Microsecond, time.Millisecond,
		20 * time.Millisecond, 999*time.Millisecond + 400*time.Microsecond, 999*time.Millisecond + 500*time.Microsecond,
		time.Second, 1499 * time.Millisecond, 1500 * time.Millisecond, 59*time.Second + 600*time.Millisecond,
		time.Minute, 6 * time.Minute, time.Hour + time.Second, 25 * time.Hour} {
		if got := FormatReset(d); got != want(d) {
			t.Errorf("FormatReset(%v) = %q, want %q", d, got, want(d))
		}
	}
}
