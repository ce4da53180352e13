package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// TestClientReadsEveryFraming drives the load generator's HTTP client
// against net/http answering with a length, chunked, and as a stream.
func TestClientReadsEveryFraming(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", "5")
			_, _ = w.Write([]byte("hello"))
		case "/chunked":
			for i := 0; i < 3; i++ {
				_, _ = w.Write([]byte("part "))
				w.(http.Flusher).Flush()
			}
		case "/stream":
			w.Header().Set("Content-Type", "text/event-stream")
			for i := 0; i < 4; i++ {
				fmt.Fprintf(w, "data: {\"n\":%d}\n\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(2 * time.Millisecond)
			}
			fmt.Fprint(w, "data: [DONE]\n\n")
		case "/cut":
			fmt.Fprint(w, "data: {}\n\n")
		case "/missing":
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c, err := dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		path           string
		status, bytes  int
		events         int
		done, keepConn bool
	}{
		{"/length", 200, 5, 0, false, true},
		{"/chunked", 200, 15, 0, false, true},
		{"/stream", 200, 0, 5, true, true},
		{"/cut", 200, 0, 1, false, true},
		{"/missing", 404, 0, 0, false, true},
		{"/length", 200, 5, 0, false, true}, // the connection is still usable
	} {
		resp, keep, err := c.do(buildRequest(addr, tc.path, nil, []byte(`{}`)), make([]time.Time, 0, 8))
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if resp.Status != tc.status || (tc.bytes > 0 && resp.Bytes != tc.bytes) || resp.EventCount != tc.events ||
			resp.Done != tc.done || keep != tc.keepConn {
			t.Errorf("%s: %+v keep=%v", tc.path, resp, keep)
		}
		if tc.events > 1 && (len(resp.Events) != tc.events || resp.Events[len(resp.Events)-1].Before(resp.FirstEvent)) {
			t.Errorf("%s: event times %v", tc.path, resp.Events)
		}
	}
}

// TestLoadAgainstTheFake runs a short closed loop against the fake, streamed
// and not, and checks what the report is computed from.
func TestLoadAgainstTheFake(t *testing.T) {
	fake := providertest.NewFake(providertest.Options{APIKey: fakeAPIKey, Reply: replyText(5), NoRecord: true})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	tg := &target{name: targetDirect, addr: addr}
	for _, stream := range []bool{false, true} {
		sc := scenario{Conns: 2, Stream: stream}
		windows := 0
		res := runLoad(loadSpec{Addr: addr, Req: sc.request(tg), Conns: 2, Stream: stream,
			Warmup: 20 * time.Millisecond, Duration: 150 * time.Millisecond, MaxRequests: 50,
			Window: func(bool) { windows++ }})
		if res.Requests == 0 || res.Requests > 50+2 || res.Errors != 0 || windows != 2 {
			t.Fatalf("stream=%v: %d requests, %d errors (%s), %d window calls", stream, res.Requests, res.Errors, res.FirstErr, windows)
		}
		if stream && (len(res.TTFT) != int(res.Requests) || res.Events != res.Requests*8 || len(res.Gaps) == 0) {
			t.Errorf("stream: %d ttft, %d events for %d replies, %d gaps", len(res.TTFT), res.Events, res.Requests, len(res.Gaps))
		}
	}
}

// TestOpenStreamsAreHeldAndClosed holds a few slow streams open.
func TestOpenStreamsAreHeldAndClosed(t *testing.T) {
	fake := providertest.NewFake(providertest.Options{APIKey: fakeAPIKey, Reply: replyText(50), ChunkDelay: 20 * time.Millisecond, NoRecord: true})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	sc := scenario{Stream: true}
	opened := false
	res := runStreams(streamsSpec{Addr: addr, Req: sc.request(&target{name: targetDirect, addr: addr}), N: 20, Parallel: 5,
		Timeout: 10 * time.Second, Progress: 100 * time.Millisecond, Opened: func() { opened = true }})
	if !opened || res.Opened != 20 || res.Failed != 0 || res.Stalled != 0 || len(res.TTFT) != 20 {
		t.Fatalf("%+v", res)
	}
	waitFor(t, func() bool { return fake.Cancelled.Load() == 20 })
}

// TestScenarioTable: names are unique, every gateway config is valid, and
// a scenario waiting for a feature says which issue it waits for.
func TestScenarioTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenarios() {
		if seen[s.Name] {
			t.Errorf("scenario %q twice", s.Name)
		}
		seen[s.Name] = true
		if s.Needs != "" {
			if !strings.Contains(s.Needs, "issue ") {
				t.Errorf("%s: Needs should name the issue: %q", s.Name, s.Needs)
			}
			continue
		}
		env := map[string]string{"BENCH_FAKE_URL": "http://127.0.0.1:1/v1"}
		if _, err := config.Parse([]byte(s.gatewayConfig()), func(k string) string { return env[k] }); err != nil {
			t.Errorf("%s: gateway config: %v", s.Name, err)
		}
		if !s.OpenStreams && s.LogRate == 0 && s.Conns < 1 {
			t.Errorf("%s: no connections", s.Name)
		}
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 1000; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := percentiles(d)
	if p.P50 != 500 || p.P90 != 900 || p.P99 != 990 || p.P999 != 999 {
		t.Errorf("%+v", p)
	}
	if percentiles(nil) != nil {
		t.Error("no samples must give no percentiles")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
