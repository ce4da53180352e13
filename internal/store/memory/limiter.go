package memory

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// Limiter is the in-process store.Limiter: exact within one process, not
// shared with other replicas.
type Limiter struct {
	now func() time.Time

	mu        sync.Mutex
	sliding   map[string]*slidingCounter
	fixed     map[string]*fixedCounter
	slots     map[string]map[uint64]time.Time
	nextSlot  uint64
	lastSweep time.Time
}

// LimiterOptions configure a Limiter.
type LimiterOptions struct {
	// Now is the clock (default time.Now); tests move it.
	Now func() time.Time
}

// NewLimiter returns an empty limiter.
func NewLimiter(o LimiterOptions) *Limiter {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Limiter{
		now: o.Now, sliding: map[string]*slidingCounter{}, fixed: map[string]*fixedCounter{},
		slots: map[string]map[uint64]time.Time{},
	}
}

// slidingCounter holds the buckets of a sliding window in a ring: slot
// b%n holds bucket b when ids[b%n] == b, anything else is stale.
type slidingCounter struct {
	res, n int64
	ids    []int64
	counts []int64
	newest int64
}

type fixedCounter struct {
	count   int64
	expires int64 // ms
}

// Take implements store.Limiter.
func (l *Limiter) Take(_ context.Context, ws []store.Window) (store.TakeResult, error) {
	nowMs := l.now().UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(nowMs)
	res := store.TakeResult{Allowed: true, States: make([]store.WindowState, len(ws))}
	// the charges hold each window's bucket; returned only when allowed
	charges := make([]store.Charge, len(ws))
	for i, w := range ws {
		st := &res.States[i]
		st.Limit = w.Limit
		if w.Fixed {
			p := max(w.Period.Milliseconds(), 1)
			b := nowMs / p
			charges[i].Bucket = b
			if c := l.fixed[fixedKey(w.Key, b)]; c != nil {
				st.Used = c.count
			}
			st.Reset = ms((b+1)*p - nowMs)
			st.RetryAfter = st.Reset
		} else {
			c := l.slidingFor(w)
			b := nowMs / c.res
			charges[i].Bucket = b
			st.Used = c.used(b)
			st.Reset = c.reset(b, nowMs)
			st.RetryAfter = c.retryAfter(b, nowMs, st.Used+w.Cost-w.Limit, w.Period)
		}
		st.Used = max(st.Used, 0)
		st.Allowed = st.Used+w.Cost <= w.Limit
		if !st.Allowed {
			res.Allowed = false
		}
	}
	if !res.Allowed {
		return res, nil
	}
	res.Charges = charges
	for i, w := range ws {
		st := &res.States[i]
		b := charges[i].Bucket
		charges[i] = store.Charge{Key: w.Key, Period: w.Period, Fixed: w.Fixed, Bucket: b}
		st.RetryAfter = 0
		if w.Fixed {
			p := max(w.Period.Milliseconds(), 1)
			k := fixedKey(w.Key, b)
			c := l.fixed[k]
			if c == nil {
				c = &fixedCounter{expires: (b + 1) * p}
				l.fixed[k] = c
			}
			c.count += w.Cost
			st.Used += w.Cost
			continue
		}
		c := l.sliding[w.Key]
		c.add(b, w.Cost)
		st.Used += w.Cost
		st.Reset = c.reset(b, nowMs)
	}
	return res, nil
}

// Adjust implements store.Limiter.
func (l *Limiter) Adjust(_ context.Context, ch store.Charge, delta int64) error {
	nowMs := l.now().UnixMilli()
	l.mu.Lock()
	defer l.mu.Unlock()
	if ch.Fixed {
		if c := l.fixed[fixedKey(ch.Key, ch.Bucket)]; c != nil && c.expires > nowMs {
			c.count += delta
		}
		return nil
	}
	c := l.sliding[ch.Key]
	if c == nil {
		return nil
	}
	slot := ch.Bucket % c.n
	if ch.Bucket > nowMs/c.res-c.n && c.ids[slot] == ch.Bucket {
		c.counts[slot] += delta
	}
	return nil
}

// Acquire implements store.Limiter.
func (l *Limiter) Acquire(_ context.Context, key string, limit int64, lease time.Duration) (func(), bool, error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	held := l.slots[key]
	for id, exp := range held {
		if !exp.After(now) {
			delete(held, id)
		}
	}
	if int64(len(held)) >= limit {
		return nil, false, nil
	}
	if held == nil {
		held = map[uint64]time.Time{}
		l.slots[key] = held
	}
	l.nextSlot++
	id := l.nextSlot
	held[id] = now.Add(lease)
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.slots[key], id)
			l.mu.Unlock()
		})
	}, true, nil
}

func (l *Limiter) slidingFor(w store.Window) *slidingCounter {
	c := l.sliding[w.Key]
	res, n := store.SlidingResolution(w.Period)
	if c == nil || c.res != res || c.n != n {
		c = &slidingCounter{res: res, n: n, ids: make([]int64, n), counts: make([]int64, n), newest: -1}
		for i := range c.ids {
			c.ids[i] = -1
		}
		l.sliding[w.Key] = c
	}
	return c
}

// used sums the buckets still in the window ending at bucket b.
func (c *slidingCounter) used(b int64) int64 {
	var sum int64
	oldest := b - c.n + 1
	for i, id := range c.ids {
		if id >= oldest && id <= b {
			sum += c.counts[i]
		}
	}
	return sum
}

// reset is how long until the newest counted bucket leaves the window.
func (c *slidingCounter) reset(b, nowMs int64) time.Duration {
	if c.newest < b-c.n+1 {
		return 0
	}
	return ms((c.newest+c.n)*c.res - nowMs)
}

// retryAfter is how long until need units have left the window; a need
// larger than the window can ever free waits a whole period.
func (c *slidingCounter) retryAfter(b, nowMs, need int64, period time.Duration) time.Duration {
	if need <= 0 {
		return 0
	}
	oldest := b - c.n + 1
	var freed int64
	for id := oldest; id <= b; id++ {
		slot := id % c.n
		if c.ids[slot] != id {
			continue
		}
		freed += c.counts[slot]
		if freed >= need {
			return ms((id+c.n)*c.res - nowMs)
		}
	}
	return period
}

func (c *slidingCounter) add(b, cost int64) {
	slot := b % c.n
	if c.ids[slot] != b {
		c.ids[slot], c.counts[slot] = b, 0
	}
	c.counts[slot] += cost
	c.newest = max(c.newest, b)
}

// sweep drops counters and slots nothing refers to any more, at most once
// a minute, so idle keys do not accumulate.
func (l *Limiter) sweep(nowMs int64) {
	now := time.UnixMilli(nowMs)
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for k, c := range l.sliding {
		if c.newest < nowMs/c.res-c.n+1 {
			delete(l.sliding, k)
		}
	}
	for k, c := range l.fixed {
		if c.expires <= nowMs {
			delete(l.fixed, k)
		}
	}
	for k, held := range l.slots {
		for id, exp := range held {
			if !exp.After(now) {
				delete(held, id)
			}
		}
		if len(held) == 0 {
			delete(l.slots, k)
		}
	}
}

func fixedKey(key string, b int64) string { return key + ":" + strconv.FormatInt(b, 10) }

func ms(n int64) time.Duration { return time.Duration(max(n, 0)) * time.Millisecond }

// InProcess implements store.InProcess.
func (l *Limiter) InProcess() bool { return true }

var (
	_ store.Limiter   = (*Limiter)(nil)
	_ store.InProcess = (*Limiter)(nil)
)
