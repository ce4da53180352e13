package app

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/benchfix"
	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// The whole request path, in process: Gateway.Handler() serves a chat
// request against the fake upstream over real loopback HTTP (upstream=fake,
// which also counts the fake's own work), and against a canned transport
// that answers without a network (upstream=canned: the gateway's cost
// alone, minus the HTTP transport).
//
// Benchmarks of stages that do not exist yet belong next to their code:
// auth key lookup (internal/policy/auth, issue 5), limiter check
// (internal/policy/ratelimit, issue 5), cache key (internal/policy/cache,
// issue 4), log enqueue (internal/usage, issue 6). bench/README.md lists
// them all.

type pipelineBench struct {
	h    http.Handler
	body []byte
	req  *http.Request
	// hdr is req's header as built: the auth stage strips the gateway key
	// from the request it has read, so it is put back before every call
	hdr http.Header
	rd  *bytes.Reader
	w   *benchfix.DiscardWriter
}

func newPipelineBench(b *testing.B, upstream string, client *http.Client, body []byte, policy bool) *pipelineBench {
	b.Helper()
	yaml := `
providers_from_env: false
providers:
  - id: openai
    base_url: ` + upstream + `
    api_key: sk-fake
`
	auth := "Bearer sk-client"
	if policy {
		yaml += benchfix.PolicyConfig
		auth = "Bearer " + benchfix.GatewayKey
	}
	cfg, err := config.Parse([]byte(yaml), func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	cfg.DataDir = b.TempDir()
	g, err := New(cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), HTTPClient: client})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", io.NopCloser(rd))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", auth)
	return &pipelineBench{h: g.Handler(), body: body, req: req, hdr: req.Header.Clone(), rd: rd, w: benchfix.NewDiscardWriter()}
}

// serve sends the request once; the request object is reused (nothing in
// the gateway keeps it past the response) so only the gateway allocates.
func (g *pipelineBench) serve(b *testing.B) {
	for k, v := range g.hdr {
		g.req.Header[k] = v
	}
	g.rd.Reset(g.body)
	g.req.ContentLength = int64(len(g.body))
	g.w.Reset()
	g.h.ServeHTTP(g.w, g.req)
	if g.w.Status() != http.StatusOK {
		b.Fatalf("status %d", g.w.Status())
	}
}

const benchReply = "word word word word word word word word word word word word word word word word word word word word"

func benchFake(b *testing.B) (*httptest.Server, *providertest.Fake) {
	f := providertest.NewFake(providertest.Options{APIKey: "sk-fake", Reply: benchReply, NoRecord: true})
	srv := httptest.NewServer(f)
	b.Cleanup(srv.Close)
	return srv, f
}

func BenchmarkGatewayChat(b *testing.B) {
	for _, tc := range []struct {
		name   string
		prompt int
		stream bool
		policy bool
	}{{"small", 0, false, false}, {"policy", 0, false, true}, {"stream", 0, true, false}, {"100KB", 100 << 10, false, false}} {
		body := providertest.ChatBody("openai/gpt-4o-mini", tc.prompt, tc.stream)
		b.Run(tc.name+"/upstream=fake", func(b *testing.B) {
			srv, _ := benchFake(b)
			g := newPipelineBench(b, srv.URL+"/v1", nil, body, tc.policy)
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				g.serve(b)
			}
			// the process's CPU time, background work (the request log's
			// writer, GC) included: steadier than ns/op on a shared machine
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
		b.Run(tc.name+"/upstream=canned", func(b *testing.B) {
			_, f := benchFake(b)
			g := newPipelineBench(b, "http://upstream/v1", &http.Client{Transport: cannedTransport(b, f, body)}, body, tc.policy)
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				g.serve(b)
			}
			// the process's CPU time, background work (the request log's
			// writer, GC) included: steadier than ns/op on a shared machine
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cannedTransport answers every request with what the fake answered to
// the first one.
func cannedTransport(b *testing.B, f *providertest.Fake, body []byte) http.RoundTripper {
	rec := httptest.NewRecorder()
	upBody := strings.Replace(string(body), `"openai/gpt-4o-mini"`, `"gpt-4o-mini"`, 1)
	req := httptest.NewRequest(http.MethodPost, "/v1/chat/completions", strings.NewReader(upBody))
	req.Header.Set("Authorization", "Bearer sk-fake")
	f.ServeHTTP(rec, req)
	if rec.Code != 200 {
		b.Fatalf("fake answered %d", rec.Code)
	}
	answer, ct := rec.Body.Bytes(), rec.Header().Get("Content-Type")
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {ct}},
			Body: io.NopCloser(bytes.NewReader(answer)), ContentLength: -1, Request: r}, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
