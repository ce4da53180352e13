package routing

import (
	"context"
	"errors"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/routing/balance"
	"github.com/aigateway/aigateway/internal/routing/breaker"
	"github.com/aigateway/aigateway/internal/routing/rules"
)

// State is what routing learns about upstreams while serving: breakers,
// load and route-limit counts. It belongs to the process, not to a config
// snapshot, so a reload keeps it.
type State struct {
	Breakers *breaker.Set
	Load     *balance.Tracker
	Counters rules.Counters
}

// StateOptions configure a State. The zero value is usable.
type StateOptions struct {
	// OnBreakerChange is called when a deployment's breaker changes state
	// (metrics, logs). It must return quickly and not call into routing.
	OnBreakerChange func(deployment string, from, to breaker.State)
	// Now is the clock of load tracking and limits (default time.Now).
	Now func() time.Time
	// Counters keep route-limit counts (default in memory).
	Counters rules.Counters
}

// NewState returns empty state.
func NewState(o StateOptions) *State {
	if o.Counters == nil {
		o.Counters = rules.NewMemory(rules.MemoryOptions{Now: o.Now})
	}
	return &State{
		Breakers: breaker.NewSet(breaker.Options{OnChange: o.OnBreakerChange}),
		Load:     balance.NewTracker(balance.TrackerOptions{Now: o.Now}),
		Counters: o.Counters,
	}
}

// routed reports whether the gateway chose the upstream and its credential
// (chat and embeddings) rather than relaying a caller's native request.
func routed(c *pipeline.Call) bool {
	return c.Kind == pipeline.KindChat || c.Kind == pipeline.KindEmbed
}

// BreakerStage is the per-attempt circuit breaker: it refuses an attempt
// to a deployment whose breaker is open (the router then moves on) and
// reports each attempt's outcome when its response is over, so a stream
// that breaks midway counts too.
func BreakerStage(st *State, s breaker.Settings) pipeline.AttemptMiddleware {
	return func(next pipeline.Attempter) pipeline.Attempter {
		return pipeline.AttempterFunc(func(ctx context.Context, c *pipeline.Call, t *pipeline.Target) (*pipeline.Result, error) {
			key := t.DeploymentKey()
			done, err := st.Breakers.Allow(key, s)
			if err != nil {
				return nil, errBreakerOpen(key)
			}
			res, err := next.Attempt(ctx, c, t)
			if err != nil {
				done(attemptOutcome(ctx, err, routed(c)))
				return nil, err
			}
			pipeline.OnFinish(res, func(err error) { done(attemptOutcome(ctx, err, routed(c))) })
			return res, nil
		})
	}
}

// attemptOutcome classifies an attempt for the breaker. A response cut
// short by anything but the client (an upstream that broke midway) is a
// failure of the deployment.
func attemptOutcome(ctx context.Context, err error, routed bool) breaker.Outcome {
	switch {
	case err == nil:
		return breaker.Success
	case errors.Is(err, pipeline.ErrClosedEarly), errors.Is(err, context.Canceled), isBreakerOpen(err):
		return breaker.Ignored
	case ctx.Err() != nil && context.Cause(ctx) != errAttemptTimeout:
		return breaker.Ignored // the request was cancelled or ran out of total time
	}
	var ge *gwerr.Error
	if !errors.As(err, &ge) {
		return breaker.Failure // a transport error from a stream read
	}
	return breakerOutcome(err, routed)
}

// LoadStage tracks each attempt's load for balancing: in flight until its
// response is over, its latency until the response started (a timeout
// counts as its full wait and a failure as a penalty, so a hanging or
// failing deployment looks slow), and the tokens it used for tpm capacity.
func LoadStage(st *State) pipeline.AttemptMiddleware {
	return func(next pipeline.Attempter) pipeline.Attempter {
		return pipeline.AttempterFunc(func(ctx context.Context, c *pipeline.Call, t *pipeline.Target) (*pipeline.Result, error) {
			stream := c.Chat != nil && c.Chat.Stream
			start := st.Load.Now()
			finish := st.Load.Start(t.DeploymentKey(), stream)
			res, err := next.Attempt(ctx, c, t)
			if err != nil {
				var lat time.Duration
				switch classify(err) {
				case Timeout:
					lat = st.Load.Since(start)
				case ServerError, Connection, RateLimit:
					lat = st.Load.Penalty(t.DeploymentKey(), stream)
				}
				finish(lat, 0)
				return nil, err
			}
			lat := st.Load.Since(start)
			pipeline.OnFinish(res, func(error) {
				var tokens int64
				if c.Outcome.UsageKnown {
					tokens = int64(c.Outcome.Usage.TotalTokens)
				}
				finish(lat, tokens)
			})
			return res, nil
		})
	}
}
