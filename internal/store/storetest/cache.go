package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store"
)

// CacheBackend is an implementation of store.Cache under test.
type CacheBackend struct {
	Cache store.Cache
	// Advance moves the backend's clock forward: a fake clock's, or a real
	// sleep for a backend that keeps time itself (Redis).
	Advance func(d time.Duration)
}

// RunCache is the contract every store.Cache passes. open returns a fresh,
// empty backend for each subtest.
func RunCache(t *testing.T, open func(t *testing.T) CacheBackend) {
	ctx := context.Background()
	t.Run("missing key is ErrNotFound", func(t *testing.T) {
		b := open(t)
		if _, err := b.Cache.Get(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get of a missing key: %v, want ErrNotFound", err)
		}
	})
	t.Run("values round-trip exactly and are replaced", func(t *testing.T) {
		b := open(t)
		random := make([]byte, 100<<10)
		_, _ = rand.Read(random)
		values := map[string][]byte{
			"empty":        {},
			"small":        []byte(`{"id":"x"}`),
			"random":       random,                                          // incompressible
			"compressible": bytes.Repeat([]byte(`{"content":"ab"}`), 20000), // 320 KB of JSON
			"binary":       {0, 1, 2, 0xff, 0},
		}
		for k, v := range values {
			if err := b.Cache.Set(ctx, k, v, time.Hour); err != nil {
				t.Fatalf("Set %s: %v", k, err)
			}
		}
		for k, want := range values {
			got, err := b.Cache.Get(ctx, k)
			if err != nil {
				t.Fatalf("Get %s: %v", k, err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Get %s: %d bytes differ from the %d stored", k, len(got), len(want))
			}
		}
		if err := b.Cache.Set(ctx, "small", []byte("second"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Cache.Get(ctx, "small"); string(got) != "second" {
			t.Fatalf("after replacing: %q", got)
		}
	})
	t.Run("entries expire after their own ttl", func(t *testing.T) {
		b := open(t)
		must(t, b.Cache.Set(ctx, "short", []byte("a"), 300*time.Millisecond))
		must(t, b.Cache.Set(ctx, "long", []byte("b"), time.Hour))
		if _, err := b.Cache.Get(ctx, "short"); err != nil {
			t.Fatalf("fresh entry: %v", err)
		}
		b.Advance(700 * time.Millisecond)
		if _, err := b.Cache.Get(ctx, "short"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired entry: %v, want ErrNotFound", err)
		}
		if _, err := b.Cache.Get(ctx, "long"); err != nil {
			t.Fatalf("entry with a longer ttl: %v", err)
		}
	})
	t.Run("delete and delete by prefix", func(t *testing.T) {
		b := open(t)
		for _, k := range []string{"t:a/1", "t:a/2", "t:ab/1", "t:*/1", "shared/1"} {
			must(t, b.Cache.Set(ctx, k, []byte(k), time.Hour))
		}
		n, err := b.Cache.Delete(ctx, "shared/1", "absent")
		if err != nil || n != 1 {
			t.Fatalf("Delete = %d, %v; want 1", n, err)
		}
		n, err = b.Cache.DeletePrefix(ctx, "t:a/")
		if err != nil || n != 2 {
			t.Fatalf("DeletePrefix(t:a/) = %d, %v; want 2", n, err)
		}
		// glob characters in a prefix are literal
		n, err = b.Cache.DeletePrefix(ctx, "t:*/")
		if err != nil || n != 1 {
			t.Fatalf("DeletePrefix(t:*/) = %d, %v; want 1", n, err)
		}
		for k, want := range map[string]bool{"t:a/1": false, "t:a/2": false, "t:ab/1": true, "t:*/1": false, "shared/1": false} {
			_, err := b.Cache.Get(ctx, k)
			if got := err == nil; got != want {
				t.Errorf("%s present = %v, want %v", k, got, want)
			}
		}
	})
	t.Run("stats count entries and bytes", func(t *testing.T) {
		b := open(t)
		for i := 0; i < 10; i++ {
			must(t, b.Cache.Set(ctx, fmt.Sprintf("k%d", i), bytes.Repeat([]byte("x"), 100), time.Hour))
		}
		st, err := b.Cache.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Entries != 10 || st.Bytes < 100 {
			t.Fatalf("stats = %+v, want 10 entries of at least 100 bytes in all", st)
		}
		if _, err := b.Cache.DeletePrefix(ctx, ""); err != nil {
			t.Fatal(err)
		}
		if st, _ = b.Cache.Stats(ctx); st.Entries != 0 {
			t.Fatalf("after deleting everything: %+v", st)
		}
	})
	t.Run("bounded backends stay within their bound", func(t *testing.T) {
		b := open(t)
		st, err := b.Cache.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.MaxBytes == 0 {
			t.Skip("backend has no bound of its own")
		}
		val := make([]byte, 64<<10)
		n := int(3*st.MaxBytes/int64(len(val))) + 10 // three times the bound
		for i := 0; i < n; i++ {
			must(t, b.Cache.Set(ctx, fmt.Sprintf("flood-%d", i), val, time.Hour))
		}
		st, _ = b.Cache.Stats(ctx)
		if st.Bytes > st.MaxBytes {
			t.Fatalf("after a flood of %d × %d bytes: %d bytes held, bound %d", n, len(val), st.Bytes, st.MaxBytes)
		}
		if st.Entries == 0 {
			t.Fatal("the flood left nothing cached")
		}
		// a value larger than the whole bound is refused quietly
		must(t, b.Cache.Set(ctx, "huge", make([]byte, st.MaxBytes+1), time.Hour))
		if _, err := b.Cache.Get(ctx, "huge"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a value over the bound was kept: %v", err)
		}
	})
	t.Run("concurrent use", func(t *testing.T) {
		b := open(t)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 50; i++ {
					k := fmt.Sprintf("w%d-%d", w, i%5)
					v := []byte(k)
					if err := b.Cache.Set(ctx, k, v, time.Hour); err != nil {
						t.Error(err)
						return
					}
					got, err := b.Cache.Get(ctx, k)
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						t.Error(err)
						return
					}
					if err == nil && !bytes.Equal(got, v) {
						t.Errorf("Get %s = %q", k, got)
						return
					}
				}
			}()
		}
		wg.Wait()
	})
}

// VectorBackend is an implementation of store.VectorIndex under test.
type VectorBackend struct {
	Index store.VectorIndex
	// MaxPerScope is the bound the index was opened with.
	MaxPerScope int
	// Advance moves the backend's clock forward.
	Advance func(d time.Duration)
}

// RunVectorIndex is the contract every store.VectorIndex passes.
func RunVectorIndex(t *testing.T, open func(t *testing.T) VectorBackend) {
	ctx := context.Background()
	vec := func(xs ...float32) []int8 { return store.Quantize(xs) }
	t.Run("nearest above the threshold", func(t *testing.T) {
		b := open(t)
		if _, _, err := b.Index.Nearest(ctx, "s", vec(1, 0, 0), 0.5); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("empty scope: %v, want ErrNotFound", err)
		}
		must(t, b.Index.Add(ctx, "s", "x", vec(1, 0, 0), time.Hour))
		must(t, b.Index.Add(ctx, "s", "y", vec(0, 1, 0), time.Hour))
		must(t, b.Index.Add(ctx, "s", "xy", vec(1, 1, 0), time.Hour))
		key, score, err := b.Index.Nearest(ctx, "s", vec(0.9, 0.1, 0), 0.5)
		if err != nil || key != "x" || score < 0.95 {
			t.Fatalf("Nearest = %q %.3f %v; want x", key, score, err)
		}
		if _, _, err := b.Index.Nearest(ctx, "s", vec(0, 0, 1), 0.5); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("orthogonal query: %v, want ErrNotFound", err)
		}
	})
	t.Run("scopes are separate", func(t *testing.T) {
		b := open(t)
		must(t, b.Index.Add(ctx, "t:a/s", "a", vec(1, 0), time.Hour))
		if _, _, err := b.Index.Nearest(ctx, "t:b/s", vec(1, 0), 0.1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("found another scope's vector: %v", err)
		}
	})
	t.Run("a scope keeps only its newest vectors", func(t *testing.T) {
		b := open(t)
		n := b.MaxPerScope + 3
		for i := 0; i < n; i++ {
			v := make([]float32, n)
			v[i] = 1
			must(t, b.Index.Add(ctx, "s", fmt.Sprintf("k%d", i), store.Quantize(v), time.Hour))
		}
		for i := 0; i < n; i++ {
			v := make([]float32, n)
			v[i] = 1
			_, _, err := b.Index.Nearest(ctx, "s", store.Quantize(v), 0.99)
			if kept := err == nil; kept != (i >= 3) {
				t.Errorf("vector %d kept = %v", i, kept)
			}
		}
	})
	t.Run("vectors expire", func(t *testing.T) {
		b := open(t)
		must(t, b.Index.Add(ctx, "s", "a", vec(1, 0), 300*time.Millisecond))
		b.Advance(700 * time.Millisecond)
		if _, _, err := b.Index.Nearest(ctx, "s", vec(1, 0), 0.1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired vector found: %v", err)
		}
	})
	t.Run("delete by prefix", func(t *testing.T) {
		b := open(t)
		must(t, b.Index.Add(ctx, "t:a/s1", "a", vec(1, 0), time.Hour))
		must(t, b.Index.Add(ctx, "t:ab/s1", "b", vec(1, 0), time.Hour))
		if n, err := b.Index.DeletePrefix(ctx, "t:a/"); err != nil || n != 1 {
			t.Fatalf("DeletePrefix = %d, %v; want 1", n, err)
		}
		if _, _, err := b.Index.Nearest(ctx, "t:a/s1", vec(1, 0), 0.1); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted scope still answers: %v", err)
		}
		if _, _, err := b.Index.Nearest(ctx, "t:ab/s1", vec(1, 0), 0.1); err != nil {
			t.Fatalf("other scope lost: %v", err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FakeClock is a settable clock for tests of expiry.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a clock at a fixed instant.
func NewFakeClock() *FakeClock {
	return &FakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
