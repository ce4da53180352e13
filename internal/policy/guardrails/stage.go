package guardrails

import (
	"context"

	"github.com/aigateway/aigateway/internal/pipeline"
)

// Stage returns the pipeline stage, or nil when no binding applies any
// rule set (the pipeline then skips it entirely).
func (g *Guard) Stage() pipeline.Middleware {
	if !g.Enabled() {
		return nil
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			if c.Kind != pipeline.KindChat || c.Chat == nil {
				return next.Serve(ctx, c)
			}
			pol := g.policyFor(c)
			if pol == nil {
				return next.Serve(ctx, c)
			}
			// a native pass-through (Anthropic to Anthropic) would forward
			// the client's own bytes and answer untranslated, around the
			// rewritten request and the answer filter: translate instead
			c.NativeChat = nil
			st := &callState{g: g, pol: pol, c: c}
			if err := st.request(); err != nil {
				return nil, err
			}
			res, err := next.Serve(ctx, c)
			if err != nil {
				return nil, err
			}
			return st.response(res)
		})
	}
}
