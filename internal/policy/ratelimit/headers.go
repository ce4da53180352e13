package ratelimit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
)

// Canonical x-ratelimit-* header names, set directly to skip
// canonicalising them on every request.
var headerNames = [2][3]string{
	{"X-Ratelimit-Limit-Requests", "X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests"},
	{"X-Ratelimit-Limit-Tokens", "X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens"},
}

// writeHeaders sets OpenAI's x-ratelimit-* headers in h: for requests and
// for tokens, the state of the tightest window (the least remaining; a
// refusing one first). The values are written into one string and share
// one slice backing, two allocations for all six headers.
func writeHeaders(h http.Header, ws []window, st []store.WindowState) {
	var picked [2]int
	n := 0
	for kind, tokens := range []bool{false, true} {
		best := -1
		for i := range ws {
			if ws[i].tokens != tokens {
				continue
			}
			if best < 0 || tighter(st[i], st[best]) {
				best = i
			}
		}
		picked[kind] = best
		if best >= 0 {
			n++
		}
	}
	if n == 0 {
		return
	}
	var arr [128]byte
	buf := arr[:0]
	var ends [2][3]int
	for kind, best := range picked {
		if best < 0 {
			continue
		}
		s := st[best]
		reset := s.Reset
		if !s.Allowed {
			reset = s.RetryAfter
		}
		buf = strconv.AppendInt(buf, s.Limit, 10)
		ends[kind][0] = len(buf)
		buf = strconv.AppendInt(buf, s.Remaining(), 10)
		ends[kind][1] = len(buf)
		buf = appendReset(buf, reset)
		ends[kind][2] = len(buf)
	}
	all := string(buf)
	vals := make([]string, 3*n)
	start, j := 0, 0
	for kind, best := range picked {
		if best < 0 {
			continue
		}
		for k, end := range ends[kind] {
			vals[j] = all[start:end]
			// a full slice expression: appending to one header's values
			// must not write over the next header's
			h[headerNames[kind][k]] = vals[j : j+1 : j+1]
			start = end
			j++
		}
	}
}

func tighter(a, b store.WindowState) bool {
	if a.Allowed != b.Allowed {
		return !a.Allowed
	}
	return a.Remaining() < b.Remaining()
}

// FormatReset writes a duration the way OpenAI does in
// x-ratelimit-reset-*: "20ms", "1s", "6m0s".
func FormatReset(d time.Duration) string {
	return string(appendReset(nil, d))
}

// appendReset appends FormatReset(d) to b.
func appendReset(b []byte, d time.Duration) []byte {
	if d <= 0 {
		return append(b, "0s"...)
	}
	if d < time.Second {
		d = d.Round(time.Millisecond)
		if d > 0 && d < time.Second { // whole milliseconds: what String writes
			return append(strconv.AppendInt(b, int64(d/time.Millisecond), 10), "ms"...)
		}
		return append(b, d.String()...)
	}
	d = d.Round(time.Second)
	if d < time.Minute {
		return append(strconv.AppendInt(b, int64(d/time.Second), 10), 's')
	}
	return append(b, d.String()...)
}

// rejection is the 429 for a refused Take: Retry-After is when every
// refusing window has room again.
func rejection(ws []window, st []store.WindowState) error {
	var retry time.Duration
	first := -1
	for i := range st {
		if st[i].Allowed {
			continue
		}
		if first < 0 {
			first = i
		}
		retry = max(retry, st[i].RetryAfter)
	}
	if first < 0 { // cannot happen: a refused Take has a refusing window
		first = 0
	}
	w := ws[first]
	unit := "requests"
	if w.tokens {
		unit = "tokens"
	}
	msg := fmt.Sprintf("rate limit exceeded: %s allows %d %s per %s", w.what(), w.Limit, unit, period(w.Period))
	if w.tokens {
		msg += fmt.Sprintf(" (%d used, this request needs about %d)", st[first].Used, w.Cost)
	}
	msg += fmt.Sprintf("; try again in %s", time.Duration(math.Ceil(retry.Seconds()))*time.Second)
	e := gwerr.RateLimited("rate_limit_exceeded", retry, "%s", msg)
	e.Header = make(http.Header, 6)
	writeHeaders(e.Header, ws, st)
	return e
}

func period(d time.Duration) string {
	switch d {
	case time.Second:
		return "second"
	case time.Minute:
		return "minute"
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	}
	return d.String()
}

// reconcile corrects token charges with the usage the call reported, when
// the call (or its stream, or its native body) is complete. A failed call
// gives its estimate back; a cache hit took no provider tokens.
func (s *stage) reconcile(c *pipeline.Call, ws []window, charges []store.Charge, out *pipeline.Result, err error) {
	hasTokens := false
	for _, w := range ws {
		hasTokens = hasTokens || w.tokens
	}
	if !hasTokens || len(charges) != len(ws) {
		return
	}
	settle := func(failed bool) {
		actual, known := actualTokens(c)
		if failed && !known {
			actual, known = 0, true
		}
		if !known {
			return // keep the estimate
		}
		for i, w := range ws {
			if w.tokens && actual != w.Cost {
				s.adjust(charges[i], actual-w.Cost)
			}
		}
	}
	if err != nil || out == nil {
		settle(true)
		return
	}
	pipeline.OnFinish(out, func(error) { settle(false) })
}

func actualTokens(c *pipeline.Call) (int64, bool) {
	switch c.Outcome.CacheStatus {
	case "HIT", "SEMANTIC_HIT":
		return 0, true
	}
	if !c.Outcome.UsageKnown {
		return 0, false
	}
	u := c.Outcome.Usage
	if u.TotalTokens > 0 {
		return int64(u.TotalTokens), true
	}
	return int64(u.PromptTokens + u.CompletionTokens), true
}

// adjust corrects a charge: off the request path for a remote limiter,
// inline (it takes a mutex for a few additions) for an in-process one.
func (s *stage) adjust(ch store.Charge, delta int64) {
	if s.local {
		s.adjusted(s.o.Limiter.Adjust(context.Background(), ch, delta))
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.adjusted(s.o.Limiter.Adjust(ctx, ch, delta))
	}()
}

func (s *stage) adjusted(err error) {
	if err == nil {
		return
	}
	if n := s.o.Faults.Add(1); n%100 == 1 {
		s.o.Log.Warn("reconciling token usage with the rate-limit store", "error", err, "faults", n)
	}
}
