package observability

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
)

func serve(t *testing.T, m *Metrics, c *pipeline.Call, res *pipeline.Result, err error) {
	t.Helper()
	h := pipeline.Chain(pipeline.HandlerFunc(func(context.Context, *pipeline.Call) (*pipeline.Result, error) {
		return res, err
	}), m.Stage())
	_, _ = h.Serve(context.Background(), c)
}

func newCall() *pipeline.Call {
	return &pipeline.Call{Start: time.Now(), Kind: pipeline.KindChat, HTTP: httptest.NewRequest("POST", "/v1/chat/completions", nil)}
}

func TestGatewayRefusalsCountAsRateLimited(t *testing.T) {
	m := NewMetrics()
	serve(t, m, newCall(), nil, gwerr.RateLimited("rpm_exceeded", time.Second, "too many requests"))
	serve(t, m, newCall(), nil, gwerr.RateLimited("budget_exceeded", 0, "budget spent"))
	// a provider's own 429 is an upstream error, not a gateway limit
	serve(t, m, newCall(), nil, gwerr.Upstream(429, "", "", "slow down"))
	m.RateLimited("")
	for code, want := range map[string]float64{"rpm_exceeded": 1, "budget_exceeded": 1, "rate_limited": 1} {
		if got := testutil.ToFloat64(m.rateLimited.WithLabelValues(code)); got != want {
			t.Errorf("rate_limited{code=%q} = %v, want %v", code, got, want)
		}
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("", "", "429", "")); got != 3 {
		t.Errorf("429 requests = %v", got)
	}
	if got := testutil.ToFloat64(m.inFlight); got != 0 {
		t.Errorf("in flight = %v", got)
	}
}

func TestModelLabelsAreBounded(t *testing.T) {
	m := NewMetrics()
	for i := 0; i < maxModelLabels+100; i++ {
		c := newCall()
		c.Outcome.Provider, c.Outcome.ServedModel = "openai", fmt.Sprint("model-", i)
		serve(t, m, c, &pipeline.Result{}, nil)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("openai", "other", "200", "")); got != 100 {
		t.Errorf("other = %v, want 100", got)
	}
	if n := testutil.CollectAndCount(m.requests); n != maxModelLabels+1 {
		t.Errorf("%d series, want %d", n, maxModelLabels+1)
	}
}

func TestGenAIProviderNames(t *testing.T) {
	for id, want := range map[string]string{"openai": "openai", "anthropic": "anthropic", "aws-bedrock": "aws.bedrock",
		"google-ai-studio": "gcp.gemini", "azure-openai": "azure.ai.openai", "mistral": "mistral_ai", "xai": "x_ai", "groq": "groq"} {
		if got := GenAIProvider(id); got != want {
			t.Errorf("%s → %s, want %s", id, got, want)
		}
	}
}
