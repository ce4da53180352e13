package pipeline

import "context"

// Attempter makes one upstream attempt of a call against one target. The
// router calls it once per attempt; per-attempt stages (timeout, circuit
// breaker, concurrency caps) wrap it.
type Attempter interface {
	Attempt(ctx context.Context, c *Call, t *Target) (*Result, error)
}

// AttempterFunc adapts a function to Attempter.
type AttempterFunc func(ctx context.Context, c *Call, t *Target) (*Result, error)

// Attempt calls f.
func (f AttempterFunc) Attempt(ctx context.Context, c *Call, t *Target) (*Result, error) {
	return f(ctx, c, t)
}

// AttemptMiddleware is a per-attempt stage.
type AttemptMiddleware func(next Attempter) Attempter

// ChainAttempt composes per-attempt stages so the first runs outermost.
func ChainAttempt(final Attempter, stages ...AttemptMiddleware) Attempter {
	a := final
	for i := len(stages) - 1; i >= 0; i-- {
		if stages[i] != nil {
			a = stages[i](a)
		}
	}
	return a
}
