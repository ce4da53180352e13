package store

import (
	"context"
	"math"
	"time"
)

// Cache is the backend of the response cache: opaque byte values under
// string keys, each with its own lifetime. Implementations: memory (bounded
// by bytes, one process) and redis (shared by replicas). Keys are built by
// the cache stage; a key prefix is a namespace (a tenant) so whole
// namespaces can be purged.
type Cache interface {
	// Get returns the value stored under key, or ErrNotFound when there is
	// none or it has expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl, replacing any earlier value. The
	// backend may drop it at any time to honour its bounds.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes keys and returns how many existed.
	Delete(ctx context.Context, keys ...string) (int, error)
	// DeletePrefix removes every key that starts with prefix ("" is all of
	// this cache's keys) and returns how many it removed.
	DeletePrefix(ctx context.Context, prefix string) (int, error)
	// Stats returns the cache's current size.
	Stats(ctx context.Context) (CacheStats, error)
}

// CacheStats is a cache's size.
type CacheStats struct {
	// Entries is the number of stored values.
	Entries int64 `json:"entries"`
	// Bytes is what they take: as weighed against the bound in memory,
	// as stored (after compression) in Redis.
	Bytes int64 `json:"bytes"`
	// MaxBytes is the bound, 0 when the backend has none of its own.
	MaxBytes int64 `json:"max_bytes"`
}

// VectorIndex remembers prompt embeddings per scope (a namespace, model and
// parameter set) and finds the most similar one; the semantic cache's
// backend. Vectors are quantized with Quantize.
type VectorIndex interface {
	// Add remembers vec for key in scope for ttl. A scope keeps a bounded
	// number of vectors; the oldest give way.
	Add(ctx context.Context, scope, key string, vec []int8, ttl time.Duration) error
	// Nearest returns the key of the vector in scope most similar to vec
	// (cosine similarity) if its similarity is at least min, else
	// ErrNotFound.
	Nearest(ctx context.Context, scope string, vec []int8, min float64) (key string, score float64, err error)
	// DeletePrefix forgets every scope that starts with prefix and returns
	// how many scopes it removed.
	DeletePrefix(ctx context.Context, prefix string) (int, error)
}

// Quantize scales a vector to int8 by its largest component. Cosine
// similarity is scale-invariant, so it survives this up to rounding, at a
// quarter of float32's size.
func Quantize(v []float32) []int8 {
	var m float64
	for _, x := range v {
		if a := math.Abs(float64(x)); a > m && !math.IsInf(a, 0) {
			m = a
		}
	}
	q := make([]int8, len(v))
	if m == 0 || math.IsNaN(m) {
		return q
	}
	for i, x := range v {
		f := float64(x) / m * 127
		switch {
		case math.IsNaN(f):
			f = 0
		case f > 127:
			f = 127
		case f < -127:
			f = -127
		}
		q[i] = int8(math.Round(f))
	}
	return q
}

// Cosine is the cosine similarity of two quantized vectors; 0 when their
// lengths differ or either is zero.
func Cosine(a, b []int8) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb int64
	for i := range a {
		x, y := int64(a[i]), int64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float64(dot) / math.Sqrt(float64(na)*float64(nb))
}
