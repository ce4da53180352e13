// Package breaker keeps one circuit breaker per upstream deployment, so a
// deployment that keeps failing is taken out of rotation for a cooldown
// and then probed before it gets traffic again.
//
// A breaker opens on N consecutive failures or on an error rate over a
// rolling window (once enough requests were seen to judge). While open,
// requests to the deployment are refused at once; after the cooldown it is
// half-open and lets a few probe requests through: if they all succeed it
// closes, one failure opens it again.
//
// The state machine is sony/gobreaker (two-step form: the router asks
// before an attempt and reports after it), which already has the rolling
// window, the trip predicate, half-open probes and exclusion of outcomes
// that say nothing about the deployment (a client that went away, a bad
// request).
package breaker

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// State is a breaker state.
type State string

// Breaker states.
const (
	Closed   State = "closed"
	Open     State = "open"
	HalfOpen State = "half_open"
)

func stateOf(s gobreaker.State) State {
	switch s {
	case gobreaker.StateOpen:
		return Open
	case gobreaker.StateHalfOpen:
		return HalfOpen
	}
	return Closed
}

// Settings tune breakers. The zero value of each field selects its default.
type Settings struct {
	// Disabled turns breakers off: every request is allowed.
	Disabled bool
	// ConsecutiveFailures opens the breaker (default 5).
	ConsecutiveFailures int
	// ErrorRate opens the breaker when at least this fraction of the
	// requests in Window failed (default 0.5; above 1 disables the rule).
	ErrorRate float64
	// MinRequests is how many requests Window must hold before ErrorRate
	// is judged (default 20).
	MinRequests int
	// Window is the rolling window of the error rate (default 60s).
	Window time.Duration
	// Cooldown is how long an open breaker refuses requests (default 30s).
	Cooldown time.Duration
	// HalfOpenRequests is how many probes must succeed to close (default 1).
	HalfOpenRequests int
}

func (s Settings) withDefaults() Settings {
	if s.ConsecutiveFailures <= 0 {
		s.ConsecutiveFailures = 5
	}
	if s.ErrorRate <= 0 {
		s.ErrorRate = 0.5
	}
	if s.MinRequests <= 0 {
		s.MinRequests = 20
	}
	if s.Window <= 0 {
		s.Window = time.Minute
	}
	if s.Cooldown <= 0 {
		s.Cooldown = 30 * time.Second
	}
	if s.HalfOpenRequests <= 0 {
		s.HalfOpenRequests = 1
	}
	return s
}

// Outcome classifies a finished request for the breaker.
type Outcome uint8

// Outcomes.
const (
	// Success counts as a success.
	Success Outcome = iota
	// Failure counts toward opening the breaker.
	Failure
	// Ignored says nothing about the deployment (the caller's own error, a
	// client that went away) and is not counted.
	Ignored
)

// errFailure and errIgnored carry an Outcome through gobreaker's
// error-based classification.
var (
	errFailure = errors.New("failure")
	errIgnored = errors.New("ignored")
)

// ErrOpen is returned by Allow for a deployment whose breaker is open, or
// half-open with all probe slots taken.
var ErrOpen = errors.New("circuit breaker is open")

// Options configure a Set.
type Options struct {
	// OnChange is called on every state change (for metrics and logs); it
	// runs under the breaker's lock and must not call back into the Set.
	OnChange func(deployment string, from, to State)
	// MaxEntries bounds how many deployments are tracked (default 4096);
	// beyond that new deployments are allowed untracked, so clients naming
	// ever new models cannot grow the set without bound.
	MaxEntries int
}

// Set holds the breakers of all deployments. It outlives config snapshots
// so a reload does not forget which deployments are down; a breaker whose
// settings changed is started afresh.
type Set struct {
	opts Options

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	settings Settings
	cb       *gobreaker.TwoStepCircuitBreaker[struct{}]
	// openedAt is when the breaker last opened, in Unix nanoseconds (0 when
	// never), for the admin view.
	openedAt atomic.Int64
}

// NewSet returns an empty set.
func NewSet(o Options) *Set {
	if o.MaxEntries <= 0 {
		o.MaxEntries = 4096
	}
	return &Set{opts: o, entries: map[string]*entry{}}
}

// get returns the breaker of a deployment, created with s on first use or
// when its settings changed; nil when the set is full.
func (set *Set) get(key string, s Settings) *entry {
	set.mu.Lock()
	defer set.mu.Unlock()
	e := set.entries[key]
	if e != nil && e.settings == s {
		return e
	}
	if e == nil && len(set.entries) >= set.opts.MaxEntries {
		return nil
	}
	e = &entry{settings: s}
	d := s.withDefaults()
	e.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         key,
		MaxRequests:  uint32(d.HalfOpenRequests),
		Interval:     d.Window,
		BucketPeriod: bucketPeriod(d.Window),
		Timeout:      d.Cooldown,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			if c.ConsecutiveFailures >= uint32(d.ConsecutiveFailures) {
				return true
			}
			return d.ErrorRate <= 1 && c.Requests >= uint32(d.MinRequests) &&
				float64(c.TotalFailures) >= d.ErrorRate*float64(c.Requests)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			if to == gobreaker.StateOpen {
				e.openedAt.Store(time.Now().UnixNano())
			}
			if set.opts.OnChange != nil {
				set.opts.OnChange(name, stateOf(from), stateOf(to))
			}
		},
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return err == errIgnored },
	})
	set.entries[key] = e
	return e
}

// bucketPeriod splits the window into ten buckets, so the error rate rolls
// rather than resetting all at once.
func bucketPeriod(w time.Duration) time.Duration {
	if p := w / 10; p >= time.Millisecond {
		return p
	}
	return w
}

// Allow asks whether a request may go to the deployment. When it may, done
// must be called exactly once with the request's outcome.
func (set *Set) Allow(key string, s Settings) (done func(Outcome), err error) {
	if s.Disabled {
		return func(Outcome) {}, nil
	}
	e := set.get(key, s)
	if e == nil {
		return func(Outcome) {}, nil
	}
	report, err := e.cb.Allow()
	if err != nil {
		return nil, ErrOpen
	}
	var once sync.Once
	return func(o Outcome) {
		once.Do(func() {
			switch o {
			case Success:
				report(nil)
			case Failure:
				report(errFailure)
			default:
				report(errIgnored)
			}
		})
	}, nil
}

// Available reports whether the deployment would accept a request now
// (closed, or half-open; an untracked deployment is available). It takes
// no probe slot, so a half-open deployment may still refuse in Allow.
func (set *Set) Available(key string) bool {
	set.mu.Lock()
	e := set.entries[key]
	set.mu.Unlock()
	if e == nil || e.settings.Disabled {
		return true
	}
	return e.cb.State() != gobreaker.StateOpen
}

// Status is one deployment's breaker, for the admin API and metrics.
type Status struct {
	Deployment string `json:"deployment"`
	State      State  `json:"state"`
	// Requests, Failures and ConsecutiveFailures are the counts of the
	// current window (closed) or of the probes (half-open).
	Requests            uint32 `json:"requests"`
	Failures            uint32 `json:"failures"`
	ConsecutiveFailures uint32 `json:"consecutive_failures"`
	// OpenedAt is when the breaker last opened; RetryAt is when an open
	// breaker turns half-open.
	OpenedAt *time.Time `json:"opened_at,omitempty"`
	RetryAt  *time.Time `json:"retry_at,omitempty"`
}

// Snapshot returns every tracked breaker, sorted by deployment.
func (set *Set) Snapshot() []Status {
	set.mu.Lock()
	keys := make([]string, 0, len(set.entries))
	entries := make([]*entry, 0, len(set.entries))
	for k, e := range set.entries {
		keys = append(keys, k)
		entries = append(entries, e)
	}
	set.mu.Unlock()
	out := make([]Status, len(keys))
	for i, e := range entries {
		st := e.cb.State()
		c := e.cb.Counts()
		out[i] = Status{Deployment: keys[i], State: stateOf(st), Requests: c.Requests,
			Failures: c.TotalFailures, ConsecutiveFailures: c.ConsecutiveFailures}
		if st != gobreaker.StateClosed {
			if ns := e.openedAt.Load(); ns != 0 {
				t := time.Unix(0, ns)
				out[i].OpenedAt = &t
				if st == gobreaker.StateOpen {
					r := t.Add(e.settings.withDefaults().Cooldown)
					out[i].RetryAt = &r
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Deployment < out[j].Deployment })
	return out
}

// State returns a deployment's breaker state (closed when untracked).
func (set *Set) State(key string) State {
	set.mu.Lock()
	e := set.entries[key]
	set.mu.Unlock()
	if e == nil {
		return Closed
	}
	return stateOf(e.cb.State())
}
