package usage

import (
	"context"
	"strings"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// MeterOptions configure the Meter stage.
type MeterOptions struct {
	// Pricer prices calls (required).
	Pricer *Pricer
	// Estimator counts tokens the provider did not report; nil leaves such
	// calls without usage.
	Estimator *Estimator
}

// Meter is the stage that settles a call's tokens and cost when its answer
// is complete: for a plain answer when the rest of the pipeline returns,
// for a stream when it ends (also when it breaks or the client leaves:
// what was generated is charged). Where the provider reported no usage the
// tokens are estimated and the outcome marked so. It sets
// Outcome.Usage/UsageKnown/UsageEstimated and Outcome.CostUSD, which outer
// stages (budgets, logs, metrics) read in their own completion hooks.
//
// It sits just outside the router, inside the cache: a cache hit never
// reaches it and costs nothing.
func Meter(o MeterOptions) pipeline.Middleware {
	m := &meter{MeterOptions: o}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			res, err := next.Serve(ctx, c)
			if err != nil || res == nil {
				return res, err
			}
			switch {
			case res.Stream != nil:
				var text strings.Builder
				return pipeline.Complete(c, res, nil, pipeline.Completion{
					OnChunk: func(ch *llm.ChatChunk) { appendChunkText(&text, ch) },
					OnDone: func(c *pipeline.Call, _ error) {
						m.settle(c, func(model string) int { return m.Estimator.Tokens(model, text.String()) })
					},
				}), nil
			case res.Chat != nil:
				m.settle(c, func(model string) int { return m.Estimator.ChatAnswer(model, res.Chat) })
			case res.Embed != nil:
				m.settle(c, func(string) int { return 0 })
			case res.Native != nil:
				// Native bodies are the provider's own format: usage is what
				// the adapter reads from them, or unknown.
				return pipeline.Complete(c, res, nil, pipeline.Completion{
					OnDone: func(c *pipeline.Call, _ error) { m.settle(c, nil) },
				}), nil
			}
			return res, nil
		})
	}
}

type meter struct {
	MeterOptions
}

// settle estimates missing usage (when answer can count the completion)
// and prices the call.
func (m *meter) settle(c *pipeline.Call, answer func(model string) int) {
	o := &c.Outcome
	if !o.UsageKnown && answer != nil && m.Estimator != nil {
		model := o.ServedModel
		if model == "" {
			model = c.Model
		}
		var prompt int
		switch {
		case c.Chat != nil:
			prompt = m.Estimator.ChatPrompt(model, c.Chat)
		case c.Embed != nil:
			prompt = m.Estimator.Embedding(model, c.Embed)
		}
		out := answer(model)
		o.Usage = llm.Usage{PromptTokens: prompt, CompletionTokens: out, TotalTokens: prompt + out}
		o.UsageKnown, o.UsageEstimated = true, true
	}
	if !o.UsageKnown {
		return
	}
	if cost, ok := m.Pricer.CallCost(c); ok {
		o.CostUSD = cost
	}
}

// appendChunkText collects the generated text of a chunk: what completion
// tokens are counted over when the provider does not report them.
func appendChunkText(b *strings.Builder, ch *llm.ChatChunk) {
	for i := range ch.Choices {
		d := &ch.Choices[i].Delta
		if d.Content != nil {
			b.WriteString(*d.Content)
		}
		if d.ReasoningContent != nil {
			b.WriteString(*d.ReasoningContent)
		}
		if d.Refusal != nil {
			b.WriteString(*d.Refusal)
		}
		for _, tc := range d.ToolCalls {
			b.WriteString(tc.Function.Name)
			b.WriteString(tc.Function.Arguments)
		}
	}
}
