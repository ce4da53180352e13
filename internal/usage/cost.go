package usage

import (
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// Cost is what u costs at p, in USD. Usage follows OpenAI's convention:
// prompt tokens include the cached and cache-write ones, which are priced
// at their own rates.
func Cost(p Price, u llm.Usage) float64 {
	cached, written := 0, 0
	if d := u.PromptTokensDetails; d != nil {
		cached, written = d.CachedTokens, d.CacheWriteTokens
	}
	plain := u.PromptTokens - cached - written
	if plain < 0 {
		plain = 0
	}
	return (float64(plain)*p.Input + float64(cached)*p.CachedInput +
		float64(written)*p.CacheWrite + float64(u.CompletionTokens)*p.Output) / 1e6
}

// CustomCost is what u costs at a client's x-aig-custom-cost rates (USD per
// token).
func CustomCost(cc pipeline.CustomCost, u llm.Usage) float64 {
	return float64(u.PromptTokens)*cc.PerTokenIn + float64(u.CompletionTokens)*cc.PerTokenOut
}

// Pricer prices calls. It is the one place cost is computed: the Meter
// stage uses it to set Outcome.CostUSD, and budgets read that.
type Pricer struct {
	Table *Table
	// AllowCustomCost honours x-aig-custom-cost; otherwise the header is
	// ignored and the table applies.
	AllowCustomCost bool
}

// CallCost is the cost of c's usage as served (provider and served model
// from its outcome), and whether a price was known.
func (p *Pricer) CallCost(c *pipeline.Call) (float64, bool) {
	u := c.Outcome.Usage
	if p.AllowCustomCost && c.Options.CustomCost != nil {
		return CustomCost(*c.Options.CustomCost, u), true
	}
	model := c.Outcome.ServedModel
	if model == "" {
		model = c.Model
	}
	price, ok := p.Table.Lookup(c.Outcome.Provider, model)
	if !ok {
		return 0, false
	}
	return Cost(price, u), true
}
