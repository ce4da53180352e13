package app

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// handlerTransport serves upstream requests in-process, so a benchmark
// measures the gateway and not the loopback network.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func logBenchGateway(b *testing.B, extra string) http.Handler {
	b.Helper()
	fake := providertest.NewFake(providertest.Options{APIKey: "sk-fake"})
	cfg, err := config.Parse([]byte(`
providers_from_env: false
providers:
  - id: openai
    base_url: http://upstream.invalid/v1
    api_key: sk-fake
`+extra), func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	cfg.DataDir = b.TempDir()
	gw, err := New(cfg, Deps{
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		HTTPClient: &http.Client{Transport: handlerTransport{fake}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { gw.Close() })
	return gw.Handler()
}

// BenchmarkPipelineLogging measures a whole chat request through the
// gateway's handler (no network on either side) without request logs,
// with them, and with them but without bodies: the difference is the
// request-path cost of logging.
func BenchmarkPipelineLogging(b *testing.B) {
	body := chatBody("openai/gpt-4o-mini", "benchmark the request log")
	for _, v := range []struct{ name, cfg string }{
		{"logs=off", "logs: {enabled: false}\n"},
		{"logs=on", "logs: {queue_size: 1000000, batch_size: 1000}\n"},
		{"logs=on,payloads=off", "logs: {queue_size: 1000000, batch_size: 1000, payloads: false}\n"},
	} {
		b.Run(v.name, func(b *testing.B) {
			h := logBenchGateway(b, v.cfg)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
