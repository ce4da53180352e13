package usage

import (
	"math"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

func TestBuiltinPricingTableIsValid(t *testing.T) {
	entries, err := BuiltinPrices()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	providers := map[string]bool{}
	for _, e := range entries {
		k := e.Provider + "/" + e.Model
		if seen[k] {
			t.Errorf("%s listed twice", k)
		}
		seen[k] = true
		providers[e.Provider] = true
		p := e.Price
		if p.Input < 0 || p.Output < 0 || p.CachedInput < 0 || p.CacheWrite < 0 {
			t.Errorf("%s has a negative price", k)
		}
		if p.CachedInput > p.Input {
			t.Errorf("%s: cached input costs more than input", k)
		}
	}
	for _, want := range []string{"openai", "anthropic", "google-ai-studio", "aws-bedrock", "mistral", "groq", "deepseek", "xai"} {
		if !providers[want] {
			t.Errorf("no prices for %s", want)
		}
	}
}

func TestPriceLookup(t *testing.T) {
	tab := MustBuiltinTable()
	tests := []struct {
		provider, model string
		wantInput       float64
		ok              bool
	}{
		{"openai", "gpt-4o", 2.5, true},
		{"openai", "gpt-4o-2024-08-06", 2.5, true},
		{"openai", "gpt-4o-mini", 0.15, true},
		{"openai", "gpt-4o-mini-2024-07-18", 0.15, true},
		{"openai", "gpt-4.1-mini", 0.4, true},
		{"openai", "gpt-4-0613", 30, true},
		{"openai", "GPT-4O", 2.5, true},
		{"azure-openai", "gpt-4o", 2.5, true},            // another provider's model name
		{"openrouter", "openai/gpt-4o-mini", 0.15, true}, // vendor prefix
		{"anthropic", "claude-sonnet-4-5-20250929", 3, true},
		{"anthropic", "claude-opus-4-5-20251101", 5, true},
		{"anthropic", "claude-opus-4-20250514", 15, true},
		{"aws-bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 3, true},
		{"aws-bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", 0.8, true},
		{"google-ai-studio", "gemini-2.5-flash-preview-09-2025", 0.3, true},
		{"google-ai-studio", "models/gemini-2.5-pro", 1.25, true},
		{"ollama", "llama3.2", 0, true},
		{"openai", "gpt-4.5-preview", 0, false}, // gpt-4 must not price gpt-4.5
		{"openai", "no-such-model", 0, false},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.provider+"/"+tt.model, func(t *testing.T) {
			p, ok := tab.Lookup(tt.provider, tt.model)
			if ok != tt.ok || p.Input != tt.wantInput {
				t.Fatalf("Lookup = %+v, %v; want input %v, %v", p, ok, tt.wantInput, tt.ok)
			}
			// the cached path answers the same
			p2, ok2 := tab.Lookup(tt.provider, tt.model)
			if p2 != p || ok2 != ok {
				t.Fatal("cached lookup differs")
			}
		})
	}
}

func TestPriceOverridesWin(t *testing.T) {
	in := 0.5
	tab, err := NewTable([]PriceEntry{
		{Provider: "openai", Model: "gpt-4o", Price: NewPrice(1, 2, &in, nil)},
		{Provider: "", Model: "my-finetune", Price: NewPrice(7, 8, nil, nil)},
		{Provider: "local", Model: "*", Price: NewPrice(0.01, 0.02, nil, nil)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := tab.Lookup("openai", "gpt-4o-2024-08-06"); p.Input != 1 || p.Output != 2 || p.CachedInput != 0.5 || p.CacheWrite != 1 {
		t.Errorf("override not applied: %+v", p)
	}
	if p, _ := tab.Lookup("openai", "gpt-4o-mini"); p.Input != 0.15 {
		t.Errorf("override of gpt-4o must not touch gpt-4o-mini: %+v", p)
	}
	if p, ok := tab.Lookup("anyone", "my-finetune"); !ok || p.Input != 7 {
		t.Errorf("provider-less override: %+v %v", p, ok)
	}
	if p, ok := tab.Lookup("local", "whatever"); !ok || p.Output != 0.02 {
		t.Errorf("wildcard override: %+v %v", p, ok)
	}
}

func TestCostArithmetic(t *testing.T) {
	cached := 0.25
	write := 2.0
	p := NewPrice(1, 4, &cached, &write)
	u := llm.Usage{PromptTokens: 1_000_000, CompletionTokens: 500_000,
		PromptTokensDetails: &llm.PromptTokensDetails{CachedTokens: 200_000, CacheWriteTokens: 100_000}}
	// 700k plain at $1, 200k cached at $0.25, 100k written at $2, 500k out at $4
	want := 0.7 + 0.05 + 0.2 + 2.0
	if got := Cost(p, u); math.Abs(got-want) > 1e-12 {
		t.Fatalf("Cost = %v, want %v", got, want)
	}
	if got := Cost(p, llm.Usage{PromptTokens: 10, CompletionTokens: 0,
		PromptTokensDetails: &llm.PromptTokensDetails{CachedTokens: 50}}); got != 50*0.25/1e6 {
		t.Fatalf("cached beyond prompt: %v", got)
	}
	cc := pipeline.CustomCost{PerTokenIn: 0.001, PerTokenOut: 0.002}
	if got := CustomCost(cc, llm.Usage{PromptTokens: 100, CompletionTokens: 50}); math.Abs(got-0.2) > 1e-12 {
		t.Fatalf("CustomCost = %v", got)
	}
}

func TestPricerHonoursCustomCostOnlyWhenAllowed(t *testing.T) {
	c := &pipeline.Call{Options: pipeline.Options{CustomCost: &pipeline.CustomCost{PerTokenIn: 1, PerTokenOut: 1}}}
	c.Outcome.Provider, c.Outcome.ServedModel = "openai", "gpt-4o-mini"
	c.Outcome.Usage = llm.Usage{PromptTokens: 1000, CompletionTokens: 1000}
	table := MustBuiltinTable()
	allowed := &Pricer{Table: table, AllowCustomCost: true}
	if got, _ := allowed.CallCost(c); got != 2000 {
		t.Errorf("allowed: %v", got)
	}
	denied := &Pricer{Table: table}
	want := (1000*0.15 + 1000*0.6) / 1e6
	if got, ok := denied.CallCost(c); !ok || math.Abs(got-want) > 1e-15 {
		t.Errorf("denied: %v %v, want table price %v", got, ok, want)
	}
}

func FuzzPriceLookup(f *testing.F) {
	tab := MustBuiltinTable()
	for _, s := range []string{"gpt-4o", "us.anthropic.claude-sonnet-4-5", "models/x", "a/b/c", "", "/", "us."} {
		f.Add("openai", s)
	}
	f.Fuzz(func(t *testing.T, provider, model string) {
		p, ok := tab.Lookup(provider, model)
		if !ok && p != (Price{}) {
			t.Fatal("unknown model with a price")
		}
	})
}
