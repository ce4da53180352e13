package routing

import (
	"context"
	"testing"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/routing/balance"
	"github.com/aigateway/aigateway/internal/routing/breaker"
	"github.com/aigateway/aigateway/internal/routing/rules"
)

// BenchmarkServe measures the router's own overhead per call (the upstream
// is a stub that answers at once): a direct provider/model without the
// per-attempt stages as the baseline, then with breaker and load stages,
// a balanced alias, and a route with a sticky split in front of it.
func BenchmarkServe(b *testing.B) {
	e := newEnv(&testing.T{}, "a", "b", "c")
	answer := &llm.ChatResponse{Usage: &llm.Usage{PromptTokens: 5, CompletionTokens: 5, TotalTokens: 10}}
	stub := pipeline.AttempterFunc(func(ctx context.Context, c *pipeline.Call, t *pipeline.Target) (*pipeline.Result, error) {
		c.Outcome.Provider, c.Outcome.ServedModel = t.Provider.ID(), t.Model
		return &pipeline.Result{Chat: answer}, nil
	})
	staged := pipeline.ChainAttempt(stub, BreakerStage(e.state, breaker.Settings{}), LoadStage(e.state))
	alias := Alias{Name: "m", Strategy: balance.LeastLatency,
		Targets: []AliasTarget{e.target("a", "gpt"), e.target("b", "gpt"), e.target("c", "gpt")}}
	cfg, err := config.Parse([]byte(`
providers_from_env: false
providers: [{id: a, base_url: "http://127.0.0.1:1/v1"}]
models: [{name: m, targets: [{model: a/gpt}]}]
routes:
  - name: r
    split:
      branches: [{percent: 50, model: m}, {percent: 50, model: m}]
`), func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	routes, _ := rules.Compile(cfg.Routes, rules.Options{})
	for _, bc := range []struct {
		name  string
		model string
		att   pipeline.Attempter
	}{
		{"direct/baseline", "a/gpt", stub},
		{"direct/stages", "a/gpt", staged},
		{"alias-least-latency/stages", "m", staged},
		{"route-split/stages", "r", staged},
	} {
		r := e.router(Options{Attempter: bc.att, Aliases: map[string]Alias{"m": alias}, Routes: routes})
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := chat(bc.model, false)
				c.Chat.User = "user-1"
				if _, err := r.Serve(context.Background(), c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
