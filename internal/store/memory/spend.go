package memory

import (
	"context"
	"sync"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// Spend is the in-process store.SpendStore.
type Spend struct {
	now func() time.Time

	mu        sync.Mutex
	m         map[string]*spendEntry
	lastSweep time.Time
}

type spendEntry struct {
	nanos   int64
	expires time.Time
}

// NewSpend returns an empty spend store; now is the clock (nil: time.Now).
func NewSpend(now func() time.Time) *Spend {
	if now == nil {
		now = time.Now
	}
	return &Spend{now: now, m: map[string]*spendEntry{}}
}

// Spent implements store.SpendStore.
func (s *Spend) Spent(_ context.Context, keys []string) ([]float64, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]float64, len(keys))
	for i, k := range keys {
		if e := s.m[k]; e != nil && e.expires.After(now) {
			out[i] = float64(e.nanos) / 1e9
		}
	}
	return out, nil
}

// AddSpend implements store.SpendStore.
func (s *Spend) AddSpend(_ context.Context, keys []string, usd float64, ttl time.Duration) error {
	n := store.NanoUSD(usd)
	if n == 0 {
		return nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) > time.Minute {
		s.lastSweep = now
		for k, e := range s.m {
			if !e.expires.After(now) {
				delete(s.m, k)
			}
		}
	}
	for _, k := range keys {
		e := s.m[k]
		if e == nil || !e.expires.After(now) {
			e = &spendEntry{expires: now.Add(ttl)}
			s.m[k] = e
		}
		e.nanos += n
	}
	return nil
}

// InProcess implements store.InProcess.
func (s *Spend) InProcess() bool { return true }

var (
	_ store.SpendStore = (*Spend)(nil)
	_ store.InProcess  = (*Spend)(nil)
)
