package redis

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aigateway/aigateway/internal/store"
)

// Value formats: the first byte of every stored value.
const (
	formatRaw  byte = 0
	formatGzip byte = 1
)

// CacheOptions configure a Cache.
type CacheOptions struct {
	Client *goredis.Client
	// Prefix starts every key (e.g. "aig:cache:").
	Prefix string
	// CompressMin: values of at least this many bytes are stored gzip
	// compressed (default 1024; negative: never). LLM answers are JSON
	// text, which shrinks several times, so Redis memory and the bytes on
	// the wire shrink with it.
	CompressMin int
	// MaxValueBytes bounds a value after decompression (default 64 MiB),
	// so a corrupted or hostile entry cannot inflate without limit.
	MaxValueBytes int64
}

// Cache is a store.Cache in Redis, shared by every replica. Keys are
// Prefix+"e:"+key and expire by Redis's own TTL. Its size is bounded by
// Redis's maxmemory policy, not by the gateway.
type Cache struct {
	rdb    *goredis.Client
	prefix string
	opts   CacheOptions
}

// NewCache returns a cache on the client.
func NewCache(o CacheOptions) (*Cache, error) {
	if o.Client == nil {
		return nil, errors.New("redis cache: a client is required")
	}
	if o.CompressMin == 0 {
		o.CompressMin = 1024
	}
	if o.MaxValueBytes <= 0 {
		o.MaxValueBytes = 64 << 20
	}
	return &Cache{rdb: o.Client, prefix: o.Prefix + "e:", opts: o}, nil
}

// Get implements store.Cache.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := c.rdb.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis cache get: %w", err)
	}
	return c.decode(b)
}

// Set implements store.Cache.
func (c *Cache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("redis cache: ttl must be positive")
	}
	enc, err := c.encode(val)
	if err != nil {
		return err
	}
	if err := c.rdb.Set(ctx, c.prefix+key, enc, ttl).Err(); err != nil {
		return fmt.Errorf("redis cache set: %w", err)
	}
	return nil
}

// Delete implements store.Cache.
func (c *Cache) Delete(ctx context.Context, keys ...string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	n, err := c.rdb.Unlink(ctx, full...).Result()
	if err != nil {
		return 0, fmt.Errorf("redis cache delete: %w", err)
	}
	return int(n), nil
}

// DeletePrefix implements store.Cache with SCAN and UNLINK in batches, so
// Redis is never blocked by one large command.
func (c *Cache) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	return deleteMatching(ctx, c.rdb, c.prefix+prefix)
}

// Stats implements store.Cache by walking the keys: an admin operation.
func (c *Cache) Stats(ctx context.Context) (store.CacheStats, error) {
	var st store.CacheStats
	err := scanBatches(ctx, c.rdb, c.prefix, func(keys []string) error {
		pipe := c.rdb.Pipeline()
		lens := make([]*goredis.IntCmd, len(keys))
		for i, k := range keys {
			lens[i] = pipe.StrLen(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		for _, l := range lens {
			if n := l.Val(); n > 0 {
				st.Entries++
				st.Bytes += n
			}
		}
		return nil
	})
	if err != nil {
		return store.CacheStats{}, fmt.Errorf("redis cache stats: %w", err)
	}
	return st, nil
}

var gzipWriters = sync.Pool{New: func() any {
	w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return w
}}

// encode prefixes the format byte and compresses large values. Writers are
// pooled because a gzip writer allocates several hundred KiB of tables.
func (c *Cache) encode(val []byte) ([]byte, error) {
	if c.opts.CompressMin < 0 || len(val) < c.opts.CompressMin {
		out := make([]byte, 0, len(val)+1)
		out = append(out, formatRaw)
		return append(out, val...), nil
	}
	var buf bytes.Buffer
	buf.Grow(len(val)/3 + 64)
	buf.WriteByte(formatGzip)
	w := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(val); err != nil {
		return nil, fmt.Errorf("redis cache: compressing: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("redis cache: compressing: %w", err)
	}
	return buf.Bytes(), nil
}

func (c *Cache) decode(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("redis cache: empty value")
	}
	switch b[0] {
	case formatRaw:
		return b[1:], nil
	case formatGzip:
		r, err := gzip.NewReader(bytes.NewReader(b[1:]))
		if err != nil {
			return nil, fmt.Errorf("redis cache: decompressing: %w", err)
		}
		out, err := io.ReadAll(io.LimitReader(r, c.opts.MaxValueBytes+1))
		if err != nil {
			return nil, fmt.Errorf("redis cache: decompressing: %w", err)
		}
		if int64(len(out)) > c.opts.MaxValueBytes {
			return nil, errors.New("redis cache: value larger than the bound after decompression")
		}
		return out, nil
	}
	return nil, fmt.Errorf("redis cache: unknown value format %d", b[0])
}

// scanBatches calls fn with the keys starting with prefix, a batch at a
// time.
func scanBatches(ctx context.Context, rdb *goredis.Client, prefix string, fn func(keys []string) error) error {
	var cursor uint64
	match := escapeGlob(prefix) + "*"
	for {
		keys, next, err := rdb.Scan(ctx, cursor, match, 500).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

func deleteMatching(ctx context.Context, rdb *goredis.Client, prefix string) (int, error) {
	total := 0
	err := scanBatches(ctx, rdb, prefix, func(keys []string) error {
		n, err := rdb.Unlink(ctx, keys...).Result()
		total += int(n)
		return err
	})
	if err != nil {
		return total, fmt.Errorf("redis: deleting %q*: %w", prefix, err)
	}
	return total, nil
}

// escapeGlob quotes the characters SCAN MATCH treats specially, so a
// prefix matches only itself.
func escapeGlob(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^', '-':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

var _ store.Cache = (*Cache)(nil)
