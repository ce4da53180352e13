// Package storetest gives store tests their backends: a fresh SQLite file,
// an isolated PostgreSQL schema, a Redis key prefix. Contract suites for
// each store interface live here too, so every implementation runs the same
// tests.
//
// PostgreSQL and Redis tests skip with a clear message when the service is
// not reachable, except when CI=true, where they fail instead.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/aigateway/aigateway/internal/store/postgres"
	"github.com/aigateway/aigateway/internal/store/sqlite"
)

// DefaultPostgresDSN is used when AIGATEWAY_TEST_POSTGRES_DSN is unset.
const DefaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DefaultRedisURL is used when AIGATEWAY_TEST_REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// unavailable skips the test, or fails it under CI=true.
func unavailable(t testing.TB, service string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required when CI=true but is not reachable: %v", service, err)
	}
	t.Skipf("skipping: %s not reachable (%v); start it or set CI=true to require it", service, err)
}

// RandomName returns a short random identifier safe for schema names and
// key prefixes.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// SQLite opens a fresh database file in a temporary directory.
func SQLite(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN returns a DSN whose search_path is a schema created for this
// test and dropped after it, so tests never see each other's rows.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("AIGATEWAY_TEST_POSTGRES_DSN")
	if base == "" {
		base = DefaultPostgresDSN
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		unavailable(t, "PostgreSQL", err)
		return ""
	}
	defer conn.Close(context.Background())
	schema := RandomName("aigtest_")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parsing test dsn: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Postgres opens a pool on a fresh schema.
func Postgres(t testing.TB) *postgres.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// Redis returns a client and a key prefix unique to this test; keys under
// the prefix are deleted after it.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	raw := os.Getenv("AIGATEWAY_TEST_REDIS_URL")
	if raw == "" {
		raw = DefaultRedisURL
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("parsing redis url: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		unavailable(t, "Redis", err)
		return nil, ""
	}
	prefix := RandomName("aigtest:") + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}

// RedisURL returns the Redis URL for tests that start gateway processes.
func RedisURL(t testing.TB) string {
	t.Helper()
	c, _ := Redis(t)
	return fmt.Sprintf("redis://%s/%d", c.Options().Addr, c.Options().DB)
}
