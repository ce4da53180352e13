package guardrails

import (
	"context"
	"io"
	"strings"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// ModerationStage returns the stage that asks the rule sets' moderation
// models about prompts and answers, or nil when no rule set has one. It
// belongs inside rate limits, budgets and the cache, and inside Stage: a
// refused or cached request costs no moderation call, and the moderation
// model sees the prompt and answer as the provider does, masked.
func (g *Guard) ModerationStage() pipeline.Middleware {
	if !g.Enabled() || !g.moderates {
		return nil
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			if c.Kind != pipeline.KindChat || c.Chat == nil {
				return next.Serve(ctx, c)
			}
			pol := g.policyFor(c)
			if pol == nil || len(pol.moderations) == 0 {
				return next.Serve(ctx, c)
			}
			st := &callState{g: g, pol: pol, c: c}
			if err := st.moderate(ctx, false, promptTurns(c.Chat)); err != nil {
				return nil, err
			}
			res, err := next.Serve(ctx, c)
			if err != nil || !pol.moderatesResponse() {
				return res, err
			}
			switch {
			case res.Chat != nil:
				turns := append(promptTurns(c.Chat), Turn{Role: llm.RoleAssistant, Text: answerText(res.Chat)})
				if err := st.moderate(ctx, true, turns); err != nil {
					return nil, err
				}
			case res.Stream != nil:
				res = &pipeline.Result{Stream: &moderatedStream{Stream: res.Stream, st: st, ctx: ctx}}
			}
			return res, nil
		})
	}
}

// answerText is the text of a whole answer's choices.
func answerText(r *llm.ChatResponse) string {
	var b strings.Builder
	for i := range r.Choices {
		b.WriteString(r.Choices[i].Message.Content.Text())
	}
	return b.String()
}

// maxModeratedAnswer bounds how much of a streamed answer is kept for its
// moderation.
const maxModeratedAnswer = 64 << 10

// moderatedStream passes a stream on unchanged, keeping its text (up to
// maxModeratedAnswer), and asks the moderation model about it at its end:
// an unsafe answer ends with an error instead of the end of the stream.
type moderatedStream struct {
	llm.Stream
	st   *callState
	ctx  context.Context
	text strings.Builder
	err  error
}

// Recv implements llm.Stream.
func (s *moderatedStream) Recv() (*llm.ChatChunk, error) {
	if s.err != nil {
		return nil, s.err
	}
	ch, err := s.Stream.Recv()
	if err == io.EOF {
		if s.text.Len() > 0 {
			turns := append(promptTurns(s.st.c.Chat), Turn{Role: llm.RoleAssistant, Text: s.text.String()})
			if merr := s.st.moderate(s.ctx, true, turns); merr != nil {
				s.err = merr
				return nil, merr
			}
		}
		s.err = io.EOF
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	for i := range ch.Choices {
		if c := ch.Choices[i].Delta.Content; c != nil && s.text.Len() < maxModeratedAnswer {
			s.text.WriteString((*c)[:min(len(*c), maxModeratedAnswer-s.text.Len())])
		}
	}
	return ch, nil
}

var _ llm.Stream = (*moderatedStream)(nil)
