package keys

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// RingOptions configure a Ring. Zero values are the documented defaults.
type RingOptions struct {
	Store store.KeyStore
	// Poll is how often the store's change version is read (default
	// 250ms). A key created, changed or revoked by another process is seen
	// within one poll.
	Poll time.Duration
	// Flush is how often last-used times are written, batched (default 10s).
	Flush time.Duration
	// MaxMisses bounds the cache of unknown secrets (default 10000), so a
	// flood of made-up keys costs memory only up to here.
	MaxMisses int
	Log       *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Ring is a process's cache of stored keys, looked up by secret on every
// request without touching the store once warm. It drops everything when
// the store's change version moves, which it polls; last-used times are
// collected in memory and written in batches, never on the request path.
type Ring struct {
	o RingOptions

	mu     sync.RWMutex
	hits   map[string]*store.Key // by secret hash
	misses map[string]struct{}
	gen    uint64 // bumped on every drop; a lookup only caches into its own generation

	version atomic.Int64
	total   atomic.Int64
	faults  atomic.Int64

	usedMu sync.Mutex
	used   map[string]time.Time

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// NewRing reads the store's change summary (so HasKeys is right from the
// start) and starts polling.
func NewRing(ctx context.Context, o RingOptions) (*Ring, error) {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Flush <= 0 {
		o.Flush = 10 * time.Second
	}
	if o.MaxMisses <= 0 {
		o.MaxMisses = 10000
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Ring{
		o: o, hits: map[string]*store.Key{}, misses: map[string]struct{}{}, used: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	c, err := o.Store.KeyChanges(ctx)
	if err != nil {
		return nil, err
	}
	r.version.Store(c.Version)
	r.total.Store(c.Total)
	go r.run()
	return r, nil
}

// Lookup returns the stored key for secret (revoked, expired and disabled
// keys included: the caller says why they are refused), nil when there is
// none, or an error when the store cannot answer.
func (r *Ring) Lookup(ctx context.Context, secret string) (*store.Key, error) {
	h := Hash(secret)
	r.mu.RLock()
	k, hit := r.hits[h]
	_, miss := r.misses[h]
	gen := r.gen
	r.mu.RUnlock()
	if hit {
		return k, nil
	}
	if miss {
		return nil, nil
	}
	k, err := r.o.Store.KeyByHash(ctx, h)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if k != nil && subtle.ConstantTimeCompare([]byte(k.SecretHash), []byte(h)) != 1 {
		k = nil // defence in depth: never trust the index alone
	}
	r.mu.Lock()
	if r.gen == gen { // a drop in between means the answer may be stale
		if k != nil {
			r.hits[h] = k
		} else {
			if len(r.misses) >= r.o.MaxMisses {
				clear(r.misses)
			}
			r.misses[h] = struct{}{}
		}
	}
	r.mu.Unlock()
	return k, nil
}

// Touch records that key id was used now; the time reaches the store with
// the next flush.
func (r *Ring) Touch(id string) {
	now := r.o.Now()
	r.usedMu.Lock()
	r.used[id] = now
	r.usedMu.Unlock()
}

// HasKeys reports whether the store holds any key, revoked ones included:
// once keys exist the gateway requires them, and revoking the last one
// must not open it up again.
func (r *Ring) HasKeys() bool { return r.total.Load() > 0 }

// Faults counts failed polls and flushes.
func (r *Ring) Faults() int64 { return r.faults.Load() }

// Invalidate drops the cache and re-reads the change summary; the Manager
// calls it after writing, so this process sees its own writes at once.
func (r *Ring) Invalidate(ctx context.Context) {
	r.drop()
	if c, err := r.o.Store.KeyChanges(ctx); err == nil {
		r.version.Store(c.Version)
		r.total.Store(c.Total)
	}
}

func (r *Ring) drop() {
	r.mu.Lock()
	r.gen++
	clear(r.hits)
	clear(r.misses)
	r.mu.Unlock()
}

func (r *Ring) run() {
	defer close(r.done)
	poll := time.NewTicker(r.o.Poll)
	defer poll.Stop()
	flush := time.NewTicker(r.o.Flush)
	defer flush.Stop()
	for {
		select {
		case <-r.stop:
			r.flush()
			return
		case <-poll.C:
			r.poll()
		case <-flush.C:
			r.flush()
		}
	}
}

func (r *Ring) poll() {
	ctx, cancel := context.WithTimeout(context.Background(), max(r.o.Poll, time.Second))
	defer cancel()
	c, err := r.o.Store.KeyChanges(ctx)
	if err != nil {
		if r.faults.Add(1)%100 == 1 {
			r.o.Log.Warn("key store unreachable; serving cached keys", "error", err)
		}
		return
	}
	r.total.Store(c.Total)
	if r.version.Swap(c.Version) != c.Version {
		r.drop()
	}
}

func (r *Ring) flush() {
	r.usedMu.Lock()
	if len(r.used) == 0 {
		r.usedMu.Unlock()
		return
	}
	batch := r.used
	r.used = map[string]time.Time{}
	r.usedMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.o.Store.TouchKeys(ctx, batch); err != nil {
		r.faults.Add(1)
		r.o.Log.Warn("recording key last-used times", "error", err, "keys", len(batch))
	}
}

// Close stops polling and writes the last-used times still pending.
func (r *Ring) Close() {
	r.closeOnce.Do(func() {
		close(r.stop)
		<-r.done
	})
}
