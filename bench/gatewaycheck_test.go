package main

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/app"
	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// benchGateway serves a gateway with the config in-process, in front of
// the bench's fake, with the admin API on.
func benchGateway(t *testing.T, cfgYAML string) *target {
	t.Helper()
	fake := httptest.NewServer(providertest.NewFake(providertest.Options{APIKey: fakeAPIKey, Reply: replyText(20), NoRecord: true}))
	t.Cleanup(fake.Close)
	env := map[string]string{"BENCH_FAKE_URL": fake.URL + "/v1", "AIGATEWAY_ADMIN_TOKEN": adminToken}
	cfg, err := config.Parse([]byte(cfgYAML), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	g, err := app.New(cfg, app.Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() {
		srv.Close()
		g.Close()
	})
	return &target{name: targetGateway, addr: strings.TrimPrefix(srv.URL, "http://")}
}

func fullPolicy(t *testing.T) scenario {
	t.Helper()
	for _, s := range scenarios() {
		if s.Name == "full-policy-c1" {
			return s
		}
	}
	t.Fatal("no full-policy-c1 scenario")
	return scenario{}
}

// TestGuardrailCheck: the full-policy config's guardrail is bound to the
// bench request, the check sees it, and sees it missing when the binding
// matches another model.
func TestGuardrailCheck(t *testing.T) {
	sc := fullPolicy(t)
	gw := benchGateway(t, sc.gatewayConfig())
	gw.req = sc.request(gw)
	if err := probe(gw, false); err != nil {
		t.Fatal(err)
	}
	if err := sc.GatewayCheck(gw); err != nil {
		t.Fatal(err)
	}

	unbound := strings.Replace(sc.gatewayConfig(), `- models: ["openai/*"]
      rule_sets: [pii]`, `- models: ["other/*"]
      rule_sets: [pii]`, 1)
	if unbound == sc.gatewayConfig() {
		t.Fatal("the binding to replace is not in the config")
	}
	gw = benchGateway(t, unbound)
	gw.req = sc.request(gw)
	err := sc.GatewayCheck(gw)
	if err == nil || !strings.Contains(err.Error(), "did not run") {
		t.Fatalf("unbound guardrail: %v", err)
	}
}

// TestScrapeLogCounters reads the request-log counters of a gateway that
// served a few requests.
func TestScrapeLogCounters(t *testing.T) {
	sc := fullPolicy(t)
	gw := benchGateway(t, sc.gatewayConfig())
	gw.req = sc.request(gw)
	for i := 0; i < 3; i++ {
		if err := probe(gw, false); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	c, err := scrapeLogCounters(gw.addr)
	if err != nil {
		t.Fatal(err)
	}
	if c.Requests != 3 || c.Written != 3 || c.Dropped != 0 || c.Spilled != 0 {
		t.Fatalf("%+v after %v", c, time.Since(start))
	}
}

// TestLogPathRecords: the log path stores records shaped like the
// gateway's, bodies included.
func TestLogPathRecords(t *testing.T) {
	ctx := t.Context()
	p, err := openLogPath(ctx, t.TempDir(), defaultGatewayConfig)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		p.offer(ctx)
	}
	if err := p.w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	var req, resp, tenant string
	err = p.db.QueryRowContext(ctx, `SELECT COUNT(*), MAX(request_body), MAX(response_body), MAX(tenant) FROM aig_logs`).Scan(&n, &req, &resp, &tenant)
	p.db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n != 10 || !strings.Contains(req, "Say hello.") || !strings.Contains(resp, "chat.completion") || tenant != "bench" {
		t.Fatalf("%d rows; request %q; response %q; tenant %q", n, req, resp, tenant)
	}
}

func TestLogJudge(t *testing.T) {
	ok := logReport{RateTarget: 100, Seconds: 2, Offered: 200, OfferedRate: 100, Rows: 200}
	ok.judge()
	if !ok.Met {
		t.Errorf("all stored: %s", ok.Verdict)
	}
	for _, r := range []logReport{
		{RateTarget: 100, Seconds: 2, Offered: 200, OfferedRate: 100, Rows: 199},
		{RateTarget: 100, Seconds: 2, Offered: 200, OfferedRate: 100, Rows: 200, Spilled: 1},
		{RateTarget: 100, Seconds: 2, Offered: 200, OfferedRate: 100, Rows: 199, Dropped: 1},
		{RateTarget: 100, Seconds: 2, Offered: 150, OfferedRate: 75, Rows: 150},
	} {
		r.judge()
		if r.Met {
			t.Errorf("%+v judged met", r)
		}
	}
}

// TestJudgeGoals: a target is met or not from its scenario, and not
// measured when its scenario did not run or failed.
func TestJudgeGoals(t *testing.T) {
	r := &report{Scenarios: []scenarioReport{
		{Name: "full-policy-c50", Targets: []targetReport{
			{Target: targetNginx, RPS: 10000},
			{Target: targetGateway, RPS: 6000, CPUUsPerReq: 95, IdleRSSMB: 28, RequestLog: &logCounters{Requests: 10, Written: 10}},
		}},
		{Name: "full-policy-c1", Error: "boom", Targets: []targetReport{{Target: targetGateway, AddedMS: &pct{P50: 0.1}}}},
		{Name: "log-10k", Log: &logReport{Met: true, Verdict: "met: …"}},
	}}
	got := map[string]string{}
	for _, g := range judgeGoals(r) {
		got[g.Scenario+" "+g.Goal[:12]] = g.Verdict
	}
	for k, want := range map[string]string{
		"full-policy-c50 full policy ":     goalMet,
		"full-policy-c50 gateway CPU ":     goalNotMet,
		"full-policy-c1 added latenc":      goalNotMeasured,
		"chat-c1 added latenc":             goalNotMeasured,
		"log-10k logging keep":             goalMet,
		"full-policy-c50 gateway idle":     goalMet,
		"1 gateway scenarios the gateway'": goalMet,
	} {
		if got[k] != want {
			t.Errorf("%q: %q, want %q (all: %v)", k, got[k], want, got)
		}
	}
}
