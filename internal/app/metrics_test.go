package app

import (
	"math"
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/aigateway/aigateway/internal/usage"
)

// scrape fetches /metrics and parses it with Prometheus' own text parser.
func scrape(t *testing.T, g *testGateway, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", g.srv.URL+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	return fams
}

// metricValue sums the samples of a family whose labels include want.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return math.NaN()
	}
	total := 0.0
outer:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue outer
			}
		}
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		}
	}
	return total
}

func TestMetricsMatchTheTrafficSent(t *testing.T) {
	g := newTestGateway(t, logsConfig("retry: {max_attempts: 2, delay: 1ms}\n"))
	for i := 0; i < 5; i++ {
		readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "count me")))
	}
	for i := 0; i < 3; i++ {
		readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "stream me", `"stream":true`)))
	}
	for i := 0; i < 2; i++ {
		readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody("openai/error-500", "fail")))
	}
	readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody("nosuch/model", "x")))
	readBody(t, g.do(t, "GET", "/v1/models", "")) // not a model call: not counted
	g.flushLogs(t)

	fams := scrape(t, g, "")
	check := func(name string, labels map[string]string, want float64) {
		t.Helper()
		if got := metricValue(fams, name, labels); math.Abs(got-want) > 1e-12 {
			t.Errorf("%s%v = %v, want %v", name, labels, got, want)
		}
	}
	ok := map[string]string{"provider": "openai", "model": "gpt-4o-mini"}
	check("aigateway_requests_total", map[string]string{"provider": "openai", "model": "gpt-4o-mini", "status": "200", "cache_status": "BYPASS"}, 8)
	check("aigateway_requests_total", map[string]string{"provider": "openai", "model": "error-500", "status": "500"}, 2)
	check("aigateway_requests_total", map[string]string{"provider": "", "model": "", "status": "404"}, 1)
	check("aigateway_requests_total", nil, 11)
	check("aigateway_requests_in_flight", nil, 0)
	check("aigateway_request_duration_seconds", ok, 8)
	check("aigateway_time_to_first_token_seconds", ok, 3)
	check("aigateway_upstream_attempts_total", map[string]string{"provider": "openai", "status": "200"}, 8)
	check("aigateway_upstream_attempts_total", map[string]string{"provider": "openai", "status": "500"}, 4)
	check("aigateway_upstream_errors_total", map[string]string{"provider": "openai", "status": "500"}, 4)
	check("aigateway_upstream_retries_total", map[string]string{"provider": "openai"}, 2)
	check("aigateway_log_records_written_total", nil, 11)
	check("aigateway_log_records_dropped_total", nil, 0)
	check("aigateway_log_queue_depth", nil, 0)

	// Token and cost counters equal what the log records say.
	var page usage.Page
	g.admin(t, "GET", "/logs?limit=100", "", &page)
	var in, out int64
	var cost float64
	for _, r := range page.Records {
		in += r.InputTokens
		out += r.OutputTokens
		cost += r.CostUSD
	}
	if in == 0 || cost == 0 {
		t.Fatal("no tokens or cost recorded")
	}
	check("aigateway_tokens_total", map[string]string{"type": "input"}, float64(in))
	check("aigateway_tokens_total", map[string]string{"type": "output"}, float64(out))
	if got := metricValue(fams, "aigateway_cost_usd_total", nil); math.Abs(got-cost) > 1e-12 {
		t.Errorf("cost counter %v, records say %v", got, cost)
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Error("runtime collectors missing")
	}
}

func TestMetricsTokenAndDisabling(t *testing.T) {
	g := newTestGateway(t, logsConfig("metrics: {token: scrape-me}\n"))
	resp := g.do(t, "GET", "/metrics", "")
	readBody(t, resp)
	if resp.StatusCode != 401 {
		t.Fatalf("without token: %d", resp.StatusCode)
	}
	if fams := scrape(t, g, "scrape-me"); fams["aigateway_requests_total"] == nil && fams["go_goroutines"] == nil {
		t.Fatal("nothing scraped")
	}
	off := newTestGateway(t, logsConfig("metrics: {enabled: false}\n"))
	resp = off.do(t, "GET", "/metrics", "")
	readBody(t, resp)
	if resp.StatusCode == 200 {
		t.Fatal("metrics: enabled: false still serves /metrics")
	}
}
