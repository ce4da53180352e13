package ratelimit

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/glob"
	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
)

// ConcurrencyRule caps in-flight upstream requests to matching models.
type ConcurrencyRule struct {
	// Models are globs over "provider/model".
	Models []string
	// PerProvider counts all matching models of a provider together;
	// otherwise each model has its own cap.
	PerProvider bool
	Max         int64
}

// ConcurrencyOptions configure the per-attempt concurrency stage.
type ConcurrencyOptions struct {
	Limiter store.Limiter
	// Rules: the first matching rule applies to an attempt.
	Rules []ConcurrencyRule
	// Lease bounds how long a slot is held if its holder dies (default
	// 15m); a live request releases it when its answer is complete.
	Lease    time.Duration
	FailOpen bool
	Timeout  time.Duration
	Faults   *atomic.Int64
	Log      *slog.Logger
}

// Concurrency returns the per-attempt stage. An attempt that finds every
// slot taken fails with a retryable 429, so the router can fall back to
// the next target.
func Concurrency(o ConcurrencyOptions) pipeline.AttemptMiddleware {
	if len(o.Rules) == 0 {
		return nil
	}
	if o.Lease <= 0 {
		o.Lease = 15 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 250 * time.Millisecond
	}
	if o.Faults == nil {
		o.Faults = new(atomic.Int64)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	local := store.IsInProcess(o.Limiter)
	acquire := func(ctx context.Context, key string, limit int64) (func(), bool, error) {
		if local {
			return o.Limiter.Acquire(ctx, key, limit, o.Lease)
		}
		tctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		return o.Limiter.Acquire(tctx, key, limit, o.Lease)
	}
	return func(next pipeline.Attempter) pipeline.Attempter {
		return pipeline.AttempterFunc(func(ctx context.Context, c *pipeline.Call, t *pipeline.Target) (*pipeline.Result, error) {
			pid := t.ProviderID
			if t.Provider != nil {
				pid = t.Provider.ID()
			}
			name := pid + "/" + t.Model
			var rule *ConcurrencyRule
			for i := range o.Rules {
				if glob.Any(o.Rules[i].Models, name) {
					rule = &o.Rules[i]
					break
				}
			}
			if rule == nil {
				return next.Attempt(ctx, c, t)
			}
			key := name
			if rule.PerProvider {
				key = pid
			}
			release, ok, err := acquire(ctx, key, rule.Max)
			if err != nil {
				if n := o.Faults.Add(1); n%100 == 1 {
					o.Log.Warn("concurrency store unavailable", "error", err, "fail_open", o.FailOpen, "faults", n)
				}
				if o.FailOpen {
					return next.Attempt(ctx, c, t)
				}
				e := gwerr.New(gwerr.KindGateway, http.StatusServiceUnavailable, "concurrency limits cannot be checked right now; try again shortly")
				e.Code, e.Cause, e.RetryAfter = "rate_limit_store_unavailable", err, time.Second
				return nil, e
			}
			if !ok {
				// the deployment is saturated (by the gateway's own cap), as
				// if its provider had said 429: the router may fall back to
				// another deployment that has room
				e := gwerr.RateLimited("concurrency_limit_exceeded", time.Second,
					"too many requests in flight to %s (at most %d at a time); try again shortly", key, rule.Max)
				e.Kind, e.Retryable = gwerr.KindProvider, true
				return nil, e
			}
			res, err := next.Attempt(ctx, c, t)
			if err != nil || res == nil {
				release()
				return res, err
			}
			pipeline.OnFinish(res, func(error) { release() })
			return res, err
		})
	}
}
