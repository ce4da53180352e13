// Package balance spreads requests over the deployments of one model: it
// tracks each deployment's load (requests in flight, a moving average of
// latency, requests and tokens in the last minute) and orders candidate
// deployments by a strategy: weighted random, least latency, least busy or
// cheapest. Deployments at their configured rpm/tpm capacity are reported
// so the router can skip them.
package balance

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// TrackerOptions configure a Tracker. Zero values select the defaults.
type TrackerOptions struct {
	// Alpha is the weight of a new latency sample in the moving average
	// (default 0.3: about the last five requests dominate).
	Alpha float64
	// StaleAfter is how long a latency average is trusted without a new
	// sample (default 60s). A stale deployment counts as unmeasured, so
	// least-latency sends it one request to learn whether it recovered.
	StaleAfter time.Duration
	// Now is the clock (default time.Now); tests replace it.
	Now func() time.Time
	// MaxEntries bounds the number of tracked deployments (default 4096).
	MaxEntries int
}

// Tracker records the load of every deployment. It is safe for concurrent
// use and outlives config snapshots.
type Tracker struct {
	opts TrackerOptions

	mu    sync.Mutex
	loads map[string]*Load
}

// NewTracker returns an empty tracker.
func NewTracker(o TrackerOptions) *Tracker {
	if o.Alpha <= 0 || o.Alpha > 1 {
		o.Alpha = 0.3
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 4096
	}
	return &Tracker{opts: o, loads: map[string]*Load{}}
}

// Load is one deployment's recent load.
type Load struct {
	inFlight atomic.Int64

	mu       sync.Mutex
	latency  [2]ewma // [0] non-streamed (whole response), [1] streamed (first event)
	requests window
	tokens   window
}

type ewma struct {
	value float64   // seconds
	at    time.Time // last sample
	probe time.Time // start of a request probing a stale average
	n     int64
}

// fresh reports whether the average may be used: sampled recently, or
// stale but with a probe under way (meanwhile the old value stands, so
// concurrent requests do not all rush to a deployment that was slow).
func (e *ewma) fresh(now time.Time, stale time.Duration) bool {
	return e.n > 0 && (now.Sub(e.at) <= stale || now.Sub(e.probe) <= stale)
}

// Lookup returns the load of key, or nil when it was never started.
func (t *Tracker) Lookup(key string) *Load {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.loads[key]
}

func (t *Tracker) load(key string) *Load {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.loads[key]
	if l == nil {
		if len(t.loads) >= t.opts.MaxEntries {
			return nil
		}
		l = &Load{}
		t.loads[key] = l
	}
	return l
}

// Start records the start of a request to key. The returned finish must be
// called once when the request is over: latency is the time until the
// response started (zero when unknown, e.g. it failed before), tokens the
// tokens it used.
func (t *Tracker) Start(key string, stream bool) (finish func(latency time.Duration, tokens int64)) {
	l := t.load(key)
	if l == nil {
		return func(time.Duration, int64) {}
	}
	now := t.opts.Now()
	l.inFlight.Add(1)
	l.mu.Lock()
	l.requests.add(now, 1)
	if e := &l.latency[idx(stream)]; e.n > 0 && !e.fresh(now, t.opts.StaleAfter) {
		e.probe = now
	}
	l.mu.Unlock()
	var once sync.Once
	return func(latency time.Duration, tokens int64) {
		once.Do(func() {
			l.inFlight.Add(-1)
			now := t.opts.Now()
			l.mu.Lock()
			defer l.mu.Unlock()
			if tokens > 0 {
				l.tokens.add(now, float64(tokens))
			}
			if latency > 0 {
				e := &l.latency[idx(stream)]
				if e.n == 0 || now.Sub(e.at) > t.opts.StaleAfter {
					// the first sample, or the first after the average went
					// stale: old samples say nothing about now
					e.value = latency.Seconds()
				} else {
					e.value += t.opts.Alpha * (latency.Seconds() - e.value)
				}
				e.n++
				e.at = now
			}
		})
	}
}

func idx(stream bool) int {
	if stream {
		return 1
	}
	return 0
}

// Penalty is the latency a failed request counts as: twice the current
// average and at least a second, so least-latency moves off a deployment
// that fails fast rather than mistaking it for a quick one.
func (t *Tracker) Penalty(key string, stream bool) time.Duration {
	d, _ := t.Latency(t.Lookup(key), stream)
	return max(2*d, time.Second)
}

// InFlight is the number of requests to the deployment not yet finished.
func (l *Load) InFlight() int64 {
	if l == nil {
		return 0
	}
	return l.inFlight.Load()
}

// Latency returns the moving average latency for streamed or non-streamed
// requests (falling back to the other kind when one has no samples), and
// false when there is no fresh average.
func (t *Tracker) Latency(l *Load, stream bool) (time.Duration, bool) {
	if l == nil {
		return 0, false
	}
	now := t.opts.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, i := range []int{idx(stream), 1 - idx(stream)} {
		e := l.latency[i]
		if e.fresh(now, t.opts.StaleAfter) {
			return time.Duration(e.value * float64(time.Second)), true
		}
	}
	return 0, false
}

// Usage returns the requests and tokens of the last minute (sliding).
func (t *Tracker) Usage(l *Load) (requests, tokens float64) {
	if l == nil {
		return 0, 0
	}
	now := t.opts.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.requests.value(now), l.tokens.value(now)
}

// AtCapacity reports whether the deployment has used its rpm or tpm
// (0 = unlimited) in the last minute.
func (t *Tracker) AtCapacity(key string, rpm, tpm int64) bool {
	if rpm <= 0 && tpm <= 0 {
		return false
	}
	r, tok := t.Usage(t.Lookup(key))
	return (rpm > 0 && r >= float64(rpm)) || (tpm > 0 && tok >= float64(tpm))
}

// window counts over a sliding minute, approximated by two fixed buckets
// (the previous one weighted by how much of it still overlaps): constant
// memory, within a few percent of an exact log.
type window struct {
	start     time.Time // start of the current bucket
	cur, prev float64
}

const minute = time.Minute

func (w *window) roll(now time.Time) {
	if w.start.IsZero() {
		w.start = now.Truncate(minute)
		return
	}
	switch d := now.Sub(w.start); {
	case d >= 2*minute:
		w.prev, w.cur = 0, 0
		w.start = now.Truncate(minute)
	case d >= minute:
		w.prev, w.cur = w.cur, 0
		w.start = w.start.Add(minute)
	}
}

func (w *window) add(now time.Time, n float64) {
	w.roll(now)
	w.cur += n
}

func (w *window) value(now time.Time) float64 {
	w.roll(now)
	frac := float64(now.Sub(w.start)) / float64(minute)
	return w.cur + w.prev*math.Max(0, 1-frac)
}
