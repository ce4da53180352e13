package store

import (
	"context"
	"time"
)

// Window is one rate-limit counter to check and charge: at most Limit
// units per Period.
type Window struct {
	// Key names the counter (rule and dimension values); backends add
	// their own namespace.
	Key    string
	Limit  int64
	Period time.Duration
	// Fixed selects a fixed window (reset at multiples of Period) instead
	// of the default sliding window.
	Fixed bool
	// Cost is what this request takes from the window.
	Cost int64
}

// SlidingBuckets is how many sub-windows a sliding window is counted in:
// units leave the window at most Period/SlidingBuckets early, in exchange
// for constant memory per counter.
const SlidingBuckets = 60

// SlidingResolution returns the bucket width (in milliseconds) and the
// bucket count of a sliding window of period; every backend uses it so
// they agree exactly.
func SlidingResolution(period time.Duration) (resMillis, buckets int64) {
	p := max(period.Milliseconds(), 1)
	resMillis = max(p/SlidingBuckets, 1)
	buckets = (p + resMillis - 1) / resMillis
	return resMillis, buckets
}

// WindowState is a counter's state after a Take.
type WindowState struct {
	Limit int64
	// Used is the units counted in the window, including this request's
	// cost when the Take was allowed.
	Used int64
	// Reset is how long until everything counted has left the window.
	Reset time.Duration
	// RetryAfter, when this window refused, is how long until the cost
	// would fit.
	RetryAfter time.Duration
	// Allowed reports whether this window alone had room.
	Allowed bool
}

// Remaining is what is left of the limit.
func (s WindowState) Remaining() int64 { return max(s.Limit-s.Used, 0) }

// Charge says where a Take counted a window's cost, so it can be adjusted
// later (token limits reconcile an estimate with real usage).
type Charge struct {
	Key    string
	Period time.Duration
	Fixed  bool
	Bucket int64
}

// TakeResult is the outcome of a Take.
type TakeResult struct {
	// Allowed is true when every window had room; only then was anything
	// charged.
	Allowed bool
	// States has one entry per window, in order.
	States []WindowState
	// Charges has one entry per window when Allowed.
	Charges []Charge
}

// Limiter counts requests and tokens against windows and holds
// concurrency slots. Implementations are exact under concurrency: Take is
// atomic across all its windows, also across processes sharing a backend.
type Limiter interface {
	// Take checks every window and, only when all have room for their
	// cost, charges each of them.
	Take(ctx context.Context, ws []Window) (TakeResult, error)
	// Adjust adds delta (negative refunds) to what a Take charged, if that
	// part of the window is still counted. It never refuses.
	Adjust(ctx context.Context, c Charge, delta int64) error
	// Acquire takes one of limit concurrent slots under key. The slot is
	// held until release is called or lease passes (so a crashed process
	// cannot hold slots forever). ok is false when all slots are taken.
	Acquire(ctx context.Context, key string, limit int64, lease time.Duration) (release func(), ok bool, err error)
}

// SpendStore accumulates spend in USD under keys that name a budget and
// its period.
type SpendStore interface {
	// Spent returns what was recorded under each key (0 when nothing).
	Spent(ctx context.Context, keys []string) ([]float64, error)
	// AddSpend adds usd to every key; a key is forgotten ttl after it was
	// first written.
	AddSpend(ctx context.Context, keys []string, usd float64, ttl time.Duration) error
}

// InProcess is implemented by stores that answer from this process's
// memory, without I/O, in well under a microsecond. Callers skip what
// guards a remote store for them (a context with a deadline, its timer, a
// goroutine to keep a write off the request path).
type InProcess interface {
	InProcess() bool
}

// IsInProcess reports whether s is an InProcess store.
func IsInProcess(s any) bool {
	l, ok := s.(InProcess)
	return ok && l.InProcess()
}

// NanoUSD converts dollars to the integer nano-dollars spend is counted
// in, so sums are exact and identical in every backend.
func NanoUSD(usd float64) int64 {
	if usd <= 0 {
		return 0
	}
	return int64(usd*1e9 + 0.5)
}
