package rules

import (
	"sync"
	"time"
)

// Usage is what a limit counts.
type Usage struct {
	Requests float64
	Tokens   float64
	CostUSD  float64
}

func (u *Usage) add(o Usage) {
	u.Requests += o.Requests
	u.Tokens += o.Tokens
	u.CostUSD += o.CostUSD
}

// Counters keep the usage counted against route limits over sliding
// windows. Memory is the per-process implementation; a shared one (Redis,
// with the rate limiter of the keys and limits feature) makes limits hold
// across replicas.
type Counters interface {
	// Usage returns the usage of key over the last window, and how long
	// until the oldest part of it starts to expire.
	Usage(key string, window time.Duration) (u Usage, retryAfter time.Duration)
	// Add counts u against key now.
	Add(key string, window time.Duration, u Usage)
}

// MemoryOptions configure Memory. Zero values select the defaults.
type MemoryOptions struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxKeys bounds the number of counted keys (default 100000); when
	// full even after dropping expired ones, new keys are not counted
	// (limits fail open rather than grow without bound).
	MaxKeys int
}

// Memory is an in-memory Counters. Each key's window is approximated by
// two fixed buckets, the previous weighted by its remaining overlap.
type Memory struct {
	opts MemoryOptions

	mu    sync.Mutex
	slots map[string]*slot
	adds  int
}

type slot struct {
	start     time.Time
	window    time.Duration
	cur, prev Usage
}

// NewMemory returns empty counters.
func NewMemory(o MemoryOptions) *Memory {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100_000
	}
	return &Memory{opts: o, slots: map[string]*slot{}}
}

func (s *slot) roll(now time.Time) {
	switch d := now.Sub(s.start); {
	case d >= 2*s.window:
		s.prev, s.cur = Usage{}, Usage{}
		s.start = now
	case d >= s.window:
		s.prev, s.cur = s.cur, Usage{}
		s.start = s.start.Add(s.window)
	}
}

// Usage implements Counters.
func (m *Memory) Usage(key string, window time.Duration) (Usage, time.Duration) {
	now := m.opts.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.slots[key]
	if s == nil {
		return Usage{}, 0
	}
	s.roll(now)
	elapsed := now.Sub(s.start)
	w := 1 - float64(elapsed)/float64(s.window)
	u := s.cur
	u.add(Usage{Requests: s.prev.Requests * w, Tokens: s.prev.Tokens * w, CostUSD: s.prev.CostUSD * w})
	retry := s.window - elapsed
	if retry < time.Second {
		retry = time.Second
	}
	return u, retry
}

// Add implements Counters.
func (m *Memory) Add(key string, window time.Duration, u Usage) {
	now := m.opts.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.slots[key]
	if s == nil {
		if len(m.slots) >= m.opts.MaxKeys {
			m.sweep(now)
			if len(m.slots) >= m.opts.MaxKeys {
				return
			}
		}
		s = &slot{start: now, window: window}
		m.slots[key] = s
	}
	s.roll(now)
	s.cur.add(u)
	if m.adds++; m.adds%4096 == 0 {
		m.sweep(now)
	}
}

// sweep drops keys with nothing left in their window.
func (m *Memory) sweep(now time.Time) {
	for k, s := range m.slots {
		if now.Sub(s.start) >= 2*s.window {
			delete(m.slots, k)
		}
	}
}

var _ Counters = (*Memory)(nil)
