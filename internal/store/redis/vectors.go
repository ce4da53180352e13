package redis

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aigateway/aigateway/internal/store"
)

// VectorOptions configure a VectorIndex.
type VectorOptions struct {
	Client *goredis.Client
	// Prefix starts every key (e.g. "aig:cache:").
	Prefix string
	// MaxPerScope bounds the vectors of one scope (required); a lookup
	// reads and scans at most this many.
	MaxPerScope int
	// ScopeTTL is how long a scope outlives its last addition (required;
	// the cache's maximum TTL, since entries expire individually too).
	ScopeTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// VectorIndex is a store.VectorIndex in Redis without modules: each scope
// is a list (newest first, trimmed to MaxPerScope) of packed records, and a
// lookup reads the list and compares on the gateway, so Redis does no
// arithmetic and is never blocked by a scan. The bound keeps a lookup to
// one LRANGE of at most MaxPerScope × (key + dimensions) bytes.
type VectorIndex struct {
	rdb    *goredis.Client
	prefix string
	opts   VectorOptions
}

// NewVectorIndex returns an index on the client.
func NewVectorIndex(o VectorOptions) (*VectorIndex, error) {
	if o.Client == nil {
		return nil, errors.New("redis vector index: a client is required")
	}
	if o.MaxPerScope <= 0 || o.ScopeTTL <= 0 {
		return nil, errors.New("redis vector index: bounds must be positive")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &VectorIndex{rdb: o.Client, prefix: o.Prefix + "v:", opts: o}, nil
}

// record layout: expiry (unix ms, 8 bytes), key length (2 bytes), key,
// vector (one byte per dimension).
func packRecord(key string, vec []int8, expires time.Time) []byte {
	b := make([]byte, 10+len(key)+len(vec))
	binary.BigEndian.PutUint64(b, uint64(expires.UnixMilli()))
	binary.BigEndian.PutUint16(b[8:], uint16(len(key)))
	copy(b[10:], key)
	for i, x := range vec {
		b[10+len(key)+i] = byte(x)
	}
	return b
}

func unpackRecord(b []byte, vec []int8) (key string, out []int8, expires time.Time, ok bool) {
	if len(b) < 10 {
		return "", nil, time.Time{}, false
	}
	expires = time.UnixMilli(int64(binary.BigEndian.Uint64(b)))
	kl := int(binary.BigEndian.Uint16(b[8:]))
	if len(b) < 10+kl {
		return "", nil, time.Time{}, false
	}
	key = string(b[10 : 10+kl])
	rest := b[10+kl:]
	out = vec[:0]
	for _, x := range rest {
		out = append(out, int8(x))
	}
	return key, out, expires, true
}

// Add implements store.VectorIndex.
func (x *VectorIndex) Add(ctx context.Context, scope, key string, vec []int8, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("redis vector index: ttl must be positive")
	}
	if len(key) > 0xffff {
		return errors.New("redis vector index: key too long")
	}
	rk := x.prefix + scope
	rec := packRecord(key, vec, x.opts.Now().Add(ttl))
	pipe := x.rdb.TxPipeline()
	pipe.LPush(ctx, rk, rec)
	pipe.LTrim(ctx, rk, 0, int64(x.opts.MaxPerScope-1))
	pipe.PExpire(ctx, rk, x.opts.ScopeTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis vector index add: %w", err)
	}
	return nil
}

// Nearest implements store.VectorIndex.
func (x *VectorIndex) Nearest(ctx context.Context, scope string, vec []int8, min float64) (string, float64, error) {
	recs, err := x.rdb.LRange(ctx, x.prefix+scope, 0, int64(x.opts.MaxPerScope-1)).Result()
	if err != nil {
		return "", 0, fmt.Errorf("redis vector index lookup: %w", err)
	}
	now := x.opts.Now()
	var (
		best      string
		bestScore = -2.0
		buf       = make([]int8, 0, len(vec))
	)
	for _, r := range recs {
		key, v, exp, ok := unpackRecord([]byte(r), buf)
		if !ok || !now.Before(exp) {
			continue
		}
		if sc := store.Cosine(vec, v); sc > bestScore {
			best, bestScore = key, sc
		}
	}
	if best == "" || bestScore < min {
		return "", 0, store.ErrNotFound
	}
	return best, bestScore, nil
}

// DeletePrefix implements store.VectorIndex.
func (x *VectorIndex) DeletePrefix(ctx context.Context, prefix string) (int, error) {
	return deleteMatching(ctx, x.rdb, x.prefix+prefix)
}

var _ store.VectorIndex = (*VectorIndex)(nil)
