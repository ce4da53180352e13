package app

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// benchGateway is a gateway with caching for openai/* in front of the
// fake upstream (over loopback HTTP); requests go straight to its handler.
func benchGateway(b *testing.B) http.Handler {
	b.Helper()
	fake := providertest.NewFake(providertest.Options{APIKey: "sk-fake"})
	up := httptest.NewServer(fake)
	b.Cleanup(up.Close)
	cfg, err := config.Parse([]byte(cacheYAML("")), func(k string) string {
		if k == "FAKE_URL" {
			return up.URL + "/v1"
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	cfg.DataDir = b.TempDir()
	gw, err := New(cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { gw.Close() })
	return gw.Handler()
}

func serveChat(b *testing.B, h http.Handler, body, want string) {
	req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 200 || w.Header().Get("x-aig-cache-status") != want {
		b.Fatalf("status %d, cache %q, want %q: %s", w.Code, w.Header().Get("x-aig-cache-status"), want, w.Body.Bytes())
	}
}

// BenchmarkCache compares a cache hit with a miss that goes to the fake
// provider, through the whole HTTP handler, sequentially and in parallel.
func BenchmarkCache(b *testing.B) {
	hitBody := chatBody("openai/gpt-4o-mini", "what is the capital of France?", `"temperature":0`)
	var seq atomic.Int64
	missBody := func() string {
		return chatBody("openai/gpt-4o-mini", "question "+strconv.FormatInt(seq.Add(1), 10), `"temperature":0`)
	}
	b.Run("hit", func(b *testing.B) {
		h := benchGateway(b)
		serveChat(b, h, hitBody, "MISS")
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			serveChat(b, h, hitBody, "HIT")
		}
	})
	b.Run("miss", func(b *testing.B) {
		h := benchGateway(b)
		b.ReportAllocs()
		for b.Loop() {
			serveChat(b, h, missBody(), "MISS")
		}
	})
	b.Run("hit-parallel", func(b *testing.B) {
		h := benchGateway(b)
		serveChat(b, h, hitBody, "MISS")
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serveChat(b, h, hitBody, "HIT")
			}
		})
	})
	b.Run("miss-parallel", func(b *testing.B) {
		h := benchGateway(b)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				serveChat(b, h, missBody(), "MISS")
			}
		})
	})
}

// BenchmarkCacheHitMissRatio interleaves hits and misses in one loop, so
// both see the same machine load, and reports each one's latency and the
// hit/miss throughput ratio.
func BenchmarkCacheHitMissRatio(b *testing.B) {
	h := benchGateway(b)
	hitBody := chatBody("openai/gpt-4o-mini", "what is the capital of France?", `"temperature":0`)
	serveChat(b, h, hitBody, "MISS")
	var hit, miss time.Duration
	n := 0
	for b.Loop() {
		n++
		t0 := time.Now()
		serveChat(b, h, hitBody, "HIT")
		t1 := time.Now()
		serveChat(b, h, chatBody("openai/gpt-4o-mini", "question "+strconv.Itoa(n), `"temperature":0`), "MISS")
		hit += t1.Sub(t0)
		miss += time.Since(t1)
	}
	b.ReportMetric(float64(hit.Nanoseconds())/float64(n), "hit-ns/op")
	b.ReportMetric(float64(miss.Nanoseconds())/float64(n), "miss-ns/op")
	b.ReportMetric(float64(miss)/float64(hit), "hit/miss-throughput")
}
