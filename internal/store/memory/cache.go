package memory

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/aigateway/aigateway/internal/store"
)

// entryOverhead is what one entry costs beyond its key and value: the
// cache's node, the map slot and the slice header, rounded up. Counting it
// keeps a flood of tiny entries within the bound too.
const entryOverhead = 128

// CacheOptions configure a Cache.
type CacheOptions struct {
	// MaxBytes bounds keys, values and per-entry overhead together
	// (required).
	MaxBytes int64
	// Now is the clock entries expire by (default time.Now); tests pass a
	// fake one.
	Now func() time.Time
}

// Cache is a byte-bounded in-memory store.Cache. Eviction is W-TinyLFU
// (otter): under pressure it keeps the entries that are asked for most,
// not merely the newest, which suits a response cache with hot prompts.
type Cache struct {
	c   *otter.Cache[string, value]
	max atomic.Int64
}

type value struct {
	data []byte
	ttl  time.Duration
}

// NewCache returns an empty cache.
func NewCache(o CacheOptions) (*Cache, error) {
	if o.MaxBytes <= 0 {
		return nil, fmt.Errorf("memory cache: max bytes must be positive")
	}
	opts := &otter.Options[string, value]{
		MaximumWeight: uint64(o.MaxBytes),
		Weigher: func(k string, v value) uint32 {
			return weight(k, v.data)
		},
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, value]) time.Duration {
			return e.Value.ttl
		}),
	}
	if o.Now != nil {
		opts.Clock = clock{now: o.Now}
	}
	c, err := otter.New(opts)
	if err != nil {
		return nil, fmt.Errorf("memory cache: %w", err)
	}
	mc := &Cache{c: c}
	mc.max.Store(o.MaxBytes)
	return mc, nil
}

func weight(k string, v []byte) uint32 {
	w := uint64(len(k)) + uint64(len(v)) + entryOverhead
	if w > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(w)
}

// Get implements store.Cache. The returned slice is shared: callers must
// not modify it.
func (c *Cache) Get(_ context.Context, key string) ([]byte, error) {
	v, ok := c.c.GetIfPresent(key)
	if !ok {
		return nil, store.ErrNotFound
	}
	return v.data, nil
}

// Set implements store.Cache. The cache keeps value itself: callers must
// not modify it afterwards. A value larger than the whole bound is not
// stored.
func (c *Cache) Set(_ context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("memory cache: ttl must be positive")
	}
	if int64(weight(key, val)) > c.max.Load() {
		c.c.Invalidate(key)
		return nil
	}
	c.c.Set(key, value{data: val, ttl: ttl})
	return nil
}

// Delete implements store.Cache.
func (c *Cache) Delete(_ context.Context, keys ...string) (int, error) {
	n := 0
	for _, k := range keys {
		if _, ok := c.c.Invalidate(k); ok {
			n++
		}
	}
	return n, nil
}

// DeletePrefix implements store.Cache. It walks every key: an admin
// operation, not one for the request path.
func (c *Cache) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	var doomed []string
	for k := range c.c.Keys() {
		if strings.HasPrefix(k, prefix) {
			doomed = append(doomed, k)
		}
	}
	return c.Delete(ctx, doomed...)
}

// Stats implements store.Cache.
func (c *Cache) Stats(context.Context) (store.CacheStats, error) {
	c.c.CleanUp()
	return store.CacheStats{
		Entries:  int64(c.c.EstimatedSize()),
		Bytes:    int64(c.c.WeightedSize()),
		MaxBytes: c.max.Load(),
	}, nil
}

// SetMaxBytes changes the bound (on a config reload); entries over it are
// evicted.
func (c *Cache) SetMaxBytes(n int64) {
	if n > 0 {
		c.max.Store(n)
		c.c.SetMaximum(uint64(n))
	}
}

// Close stops the cache's background clean-up.
func (c *Cache) Close() error {
	c.c.StopAllGoroutines()
	return nil
}

// clock adapts a time function to otter's clock. It never ticks: with a
// fake clock, expiry is checked on access only.
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64                      { return c.now().UnixNano() }
func (c clock) Tick(time.Duration) <-chan time.Time { return nil }

var _ store.Cache = (*Cache)(nil)
