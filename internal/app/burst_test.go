package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/store/storetest"
	"github.com/aigateway/aigateway/internal/usage"
)

// burst sends n chat requests from workers concurrent clients and returns
// the log ids of the answered ones.
func burst(t *testing.T, g *testGateway, n, workers int) []string {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	ids := make([]string, n)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				body := chatBody("openai/gpt-4o-mini", "burst")
				if i%4 == 0 {
					body = chatBody("openai/gpt-4o-mini", "burst", `"stream":true`)
				}
				req, _ := http.NewRequest("POST", g.srv.URL+"/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				ids[i] = resp.Header.Get("x-aig-log-id")
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed", f, n)
	}
	return ids
}

// countLogs counts the stored records by paging through the store.
func countLogs(t *testing.T, g *testGateway) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	o := usage.ListOptions{Limit: usage.MaxPageSize}
	for {
		p, err := g.gw.Observability().Logs.ListLogs(context.Background(), usage.Filter{}, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Records {
			if seen[r.ID] {
				t.Fatalf("record %s listed twice", r.ID)
			}
			seen[r.ID] = true
		}
		if p.NextCursor == "" {
			return seen
		}
		o.Cursor = p.NextCursor
	}
}

func TestBurstOf10000RequestsLeaves10000Records(t *testing.T) {
	if testing.Short() {
		t.Skip("burst test skipped in -short mode")
	}
	backends := map[string]func(t *testing.T) string{
		"sqlite": func(*testing.T) string { return "" },
		"postgres": func(t *testing.T) string {
			return "storage: {driver: postgres, dsn: \"" + storetest.PostgresDSN(t) + "\"}\n"
		},
	}
	for name, storage := range backends {
		t.Run(name, func(t *testing.T) {
			// A queue smaller than the burst: overflow spills and must still
			// end up in the store.
			g := newTestGateway(t, logsConfig(storage(t)+"logs: {queue_size: 2000, batch_size: 500, flush_interval: 50ms}\n"))
			const n = 10000
			start := time.Now()
			ids := burst(t, g, n, 32)
			elapsed := time.Since(start)
			// What Gateway.Close does before closing the stores.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := g.gw.Observability().Close(ctx); err != nil {
				t.Fatal(err)
			}
			stats := g.gw.Observability().Writer.Stats()
			seen := countLogs(t, g)
			if len(seen) != n {
				t.Fatalf("%d records for %d requests (writer %v)", len(seen), n, stats)
			}
			for _, id := range ids {
				if !seen[id] {
					t.Fatalf("answered request %s has no record", id)
				}
			}
			if stats.Dropped != 0 {
				t.Fatalf("dropped records: %v", stats)
			}
			t.Logf("%d requests in %v (%.0f req/s); writer %v", n, elapsed.Round(time.Millisecond), n/elapsed.Seconds(), stats)
		})
	}
}
