package app

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aigateway/aigateway/internal/keys"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// BenchmarkAccessStages measures what authentication, scope, rate limits
// and budgets add per request (memory backends, warm key cache), against
// a baseline that builds the same request and calls the same no-op
// handler without them.
func BenchmarkAccessStages(b *testing.B) {
	e := newAccessEnv(b)
	g := e.start(b, "", "")
	k := g.createKey(b, keys.Params{Name: "bench", Models: []string{"openai/*"}, RPM: 1 << 40, TPM: 1 << 50, BudgetUSD: 1e9})
	rt := g.gw.Runtime()
	noop := pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
		return &pipeline.Result{Chat: &llm.ChatResponse{}}, nil
	})
	body := []byte(chatBody("openai/gpt-4o", "hello"))
	newCall := func() *pipeline.Call {
		r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
		r.Header.Set("Authorization", "Bearer "+k.Secret)
		return &pipeline.Call{HTTP: r, Kind: pipeline.KindChat, Model: "openai/gpt-4o", Body: body,
			Chat: &llm.ChatRequest{Model: "openai/gpt-4o"}, ClientIP: "127.0.0.1"}
	}
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := noop.Serve(ctx, newCall()); err != nil {
				b.Fatal(err)
			}
		}
	})
	chain := pipeline.Chain(noop, rt.authStage(), rt.scopeStage(), rt.rateLimitStage(), rt.budgetStage())
	b.Run("auth+scope+ratelimit+budget", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := chain.Serve(ctx, newCall()); err != nil {
				b.Fatal(err)
			}
		}
	})
}
