// Package routing turns the model a client asked for into upstream targets
// and tries them: dynamic routes (package rules), aliases with fallback
// chains, load balancing across deployments (package balance), retries
// with backoff, per-attempt and total timeouts, and circuit breakers that
// take failing deployments out of rotation (package breaker).
package routing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/routing/balance"
	"github.com/aigateway/aigateway/internal/routing/breaker"
	"github.com/aigateway/aigateway/internal/routing/rules"
)

// Alias is a model name from the config with its targets.
type Alias struct {
	Name string
	// Strategy orders the targets per request (default balance.Ordered).
	Strategy balance.Strategy
	// FallbackOn are the failures that move on to the next target (0: the
	// router's default).
	FallbackOn Classes
	Targets    []AliasTarget
}

// AliasTarget is one deployment of an alias, or another alias.
type AliasTarget struct {
	// Target is the deployment (Provider resolved); unused when Alias is set.
	pipeline.Target
	// Alias names another alias, tried in its own order at this position.
	Alias string
	// Weight is the share under balance.Weighted.
	Weight float64
	// RPM and TPM are the deployment's capacity per minute (0: unlimited).
	RPM, TPM int64
	// Price is the configured price; unknown prices come from Options.Prices.
	Price balance.Price
}

// RetryPolicy is the default retry schedule; x-aig-* headers override it
// per request.
type RetryPolicy struct {
	// MaxAttempts per target, including the first (default 1).
	MaxAttempts int
	// Delay before the first retry (default 200ms).
	Delay time.Duration
	// Backoff is constant, linear or exponential (default exponential).
	Backoff string
	// MaxDelay caps one wait (default 30s).
	MaxDelay time.Duration
}

// Hooks let metrics and logs observe routing decisions without routing
// knowing them. Every field may be nil. They run on the request path and
// must return quickly.
type Hooks struct {
	// Retry is called before retry n (n ≥ 1) of the same deployment, with
	// the error that caused it.
	Retry func(c *pipeline.Call, deployment string, n int, err error)
	// Fallback is called when a call moves on from one deployment to the
	// next after err.
	Fallback func(c *pipeline.Call, from, to string, err error)
	// Skip is called when a deployment is passed over without an attempt:
	// reason is "breaker_open", "at_capacity" or "not_allowed".
	Skip func(c *pipeline.Call, deployment, reason string)
}

// Options configure a Router. Zero values are documented per field.
type Options struct {
	Registry *provider.Registry
	Aliases  map[string]Alias
	// Routes are the dynamic routes (nil: none).
	Routes *rules.Set
	// StaticModels are configured model names per provider id, listed by
	// GET /v1/models besides what providers list upstream.
	StaticModels map[string][]string
	Retry        RetryPolicy
	// FallbackOn are the failures that move to the next target when an
	// alias does not say (default DefaultFallbackOn).
	FallbackOn Classes
	// AttemptTimeout bounds each attempt until the response starts
	// (default 10 minutes); x-aig-request-timeout overrides it.
	AttemptTimeout time.Duration
	// TotalTimeout bounds the whole call: all attempts, the waits between
	// them and the response, streamed or not (default 0: unbounded).
	TotalTimeout time.Duration
	// Attempter makes one attempt (default pipeline.Invoke()).
	Attempter pipeline.Attempter
	// State is the shared breaker, load and limit state (default: new).
	State *State
	// Prices looks up a deployment's price when the config gives none (for
	// strategy cheapest and route budgets); nil: unknown.
	Prices func(providerID, model string) (balance.Price, bool)
	// Rand returns a number in [0,1) for weighted choices (default
	// math/rand/v2); tests replace it.
	Rand func() float64
	// Sleep waits between attempts (default: a timer honouring ctx); tests
	// replace it with a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Allow, when set, says whether the call may use a target (the
	// caller's key scope); a refused target is skipped without an attempt,
	// and when every target is refused the call fails with Allow's error.
	Allow func(c *pipeline.Call, t *pipeline.Target) error
	Hooks Hooks
}

// Router is the final stage of the pipeline.
type Router struct {
	opts    Options
	catalog modelCatalog
}

// New returns a Router.
func New(o Options) *Router {
	if o.Retry.MaxAttempts <= 0 {
		o.Retry.MaxAttempts = 1
	}
	if o.Retry.Delay <= 0 {
		o.Retry.Delay = 200 * time.Millisecond
	}
	if o.Retry.Backoff == "" {
		o.Retry.Backoff = pipeline.BackoffExponential
	}
	if o.Retry.MaxDelay <= 0 {
		o.Retry.MaxDelay = 30 * time.Second
	}
	if o.FallbackOn == 0 {
		o.FallbackOn = DefaultFallbackOn
	}
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Minute
	}
	if o.Attempter == nil {
		o.Attempter = pipeline.Invoke()
	}
	if o.State == nil {
		o.State = NewState(StateOptions{})
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &Router{opts: o}
}

// targetInfo is what the router keeps about each target of a call besides
// the pipeline.Target itself.
type targetInfo struct {
	rpm, tpm int64
	price    balance.Price
}

// plan resolves a model name (alias or provider/model) to the call's
// targets in the order to try them.
func (r *Router) plan(model string, c *pipeline.Call) ([]pipeline.Target, []targetInfo, Classes, error) {
	if a, ok := r.opts.Aliases[model]; ok {
		req := balance.Request{Stream: c.Chat != nil && c.Chat.Stream, Rand: r.opts.Rand}
		var ts []pipeline.Target
		var infos []targetInfo
		r.expand(&a, req, 0, &ts, &infos)
		on := a.FallbackOn
		if on == 0 {
			on = r.opts.FallbackOn
		}
		return ts, infos, on, nil
	}
	pid, m, ok := provider.SplitModel(model)
	if !ok {
		return nil, nil, 0, gwerr.NotFound("model_not_found",
			"model %q is neither a configured alias or route nor of the form provider/model; GET /v1/models lists the available models", model)
	}
	p, ok := r.opts.Registry.Lookup(pid)
	if !ok {
		return nil, nil, 0, gwerr.NotFound("model_not_found",
			"provider %q of model %q is not enabled; GET /v1/models lists the available models", pid, model)
	}
	t := pipeline.Target{Provider: p, ProviderID: pid, Model: m}
	if p.ID() == pid {
		t.Deployment = model // what DeploymentKey would build, already a string
	}
	return []pipeline.Target{t}, []targetInfo{{price: r.price(pid, m, balance.Price{})}}, r.opts.FallbackOn, nil
}

// maxAliasDepth bounds aliases naming aliases (config rejects cycles).
const maxAliasDepth = 8

// expand appends an alias's deployments in the order its strategy chose,
// expanding aliases it names in place.
func (r *Router) expand(a *Alias, req balance.Request, depth int, ts *[]pipeline.Target, infos *[]targetInfo) {
	cands := make([]balance.Candidate, len(a.Targets))
	for i := range a.Targets {
		t := &a.Targets[i]
		key := "alias:" + t.Alias
		if t.Alias == "" {
			key = t.DeploymentKey()
		}
		cands[i] = balance.Candidate{Key: key, Weight: t.Weight, Price: r.price(t.ProviderID, t.Model, t.Price)}
	}
	for _, i := range r.opts.State.Load.Order(a.Strategy, cands, req) {
		t := &a.Targets[i]
		if t.Alias != "" {
			if sub, ok := r.opts.Aliases[t.Alias]; ok && depth < maxAliasDepth {
				r.expand(&sub, req, depth+1, ts, infos)
			}
			continue
		}
		*ts = append(*ts, t.Target)
		*infos = append(*infos, targetInfo{rpm: t.RPM, tpm: t.TPM, price: cands[i].Price})
	}
}

func (r *Router) price(pid, model string, configured balance.Price) balance.Price {
	if configured.Known || r.opts.Prices == nil {
		return configured
	}
	if p, ok := r.opts.Prices(pid, model); ok {
		p.Known = true
		return p
	}
	return configured
}

// errTotalTimeout is the cancellation cause of a call that ran out of its
// total time.
var errTotalTimeout = errors.New("total timeout")

// Serve resolves the call's model (route, alias or provider/model) and
// tries its targets in order: retrying a target on transient failures,
// moving on to the next on the failures the alias falls back on, and
// skipping deployments whose breaker is open or that are at capacity.
func (r *Router) Serve(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
	if c.Kind == pipeline.KindModels {
		return &pipeline.Result{Models: r.Models(ctx)}, nil
	}
	fallbackOn := r.opts.FallbackOn
	var infos []targetInfo
	var decision *rules.Decision
	if len(c.Targets) == 0 {
		model := c.Model
		if name, ok := r.opts.Routes.Lookup(model); ok {
			d, err := r.opts.Routes.Evaluate(name, c)
			if err != nil {
				return nil, err
			}
			decision, model = d, d.Model
			c.Outcome.Route = d.Path
		}
		ts, in, on, err := r.plan(model, c)
		if err != nil {
			return nil, err
		}
		c.Targets, infos, fallbackOn = ts, in, on
	}
	if infos == nil {
		infos = make([]targetInfo, len(c.Targets))
	}
	for i := range c.Targets {
		t := &c.Targets[i]
		if t.Provider != nil {
			continue
		}
		p, ok := r.opts.Registry.Lookup(t.ProviderID)
		if !ok {
			return nil, gwerr.NotFound("provider_not_found",
				"provider %q is not enabled; enabled providers are listed by GET /v1/models", t.ProviderID)
		}
		t.Provider = p
	}
	cancelTotal := context.CancelFunc(func() {})
	if r.opts.TotalTimeout > 0 {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		timer := time.AfterFunc(r.opts.TotalTimeout, func() { cancel(errTotalTimeout) })
		cancelTotal = func() { timer.Stop(); cancel(nil) }
	}
	res, err := r.try(ctx, c, infos, fallbackOn)
	if err != nil {
		cancelTotal()
		if context.Cause(ctx) == errTotalTimeout {
			closeNative(err)
			return nil, &gwerr.Error{Kind: gwerr.KindProvider, Status: 504, Type: gwerr.TypeTimeout,
				Code: "total_timeout", Cause: err,
				Message: fmt.Sprintf("the request did not complete within the total timeout of %v", r.opts.TotalTimeout)}
		}
		return nil, err
	}
	info := infos[c.Outcome.Step]
	pipeline.OnFinish(res, func(error) {
		if decision != nil && c.Outcome.UsageKnown {
			u := c.Outcome.Usage
			decision.Finish(int64(u.TotalTokens), costOf(c, info.price))
		}
		cancelTotal()
	})
	return res, nil
}

// costOf is the call's cost in USD for route budgets: the request's
// x-aig-custom-cost, the deployment's price, or what a stage before the
// router already computed.
func costOf(c *pipeline.Call, p balance.Price) float64 {
	u := c.Outcome.Usage
	switch {
	case c.Options.CustomCost != nil:
		return c.Options.CustomCost.PerTokenIn*float64(u.PromptTokens) + c.Options.CustomCost.PerTokenOut*float64(u.CompletionTokens)
	case p.Known:
		return (p.Input*float64(u.PromptTokens) + p.Output*float64(u.CompletionTokens)) / 1e6
	}
	return c.Outcome.CostUSD
}

// try makes the attempts.
func (r *Router) try(ctx context.Context, c *pipeline.Call, infos []targetInfo, fallbackOn Classes) (*pipeline.Result, error) {
	st := r.opts.State
	attempts := r.opts.Retry.MaxAttempts
	if c.Options.MaxAttempts > 0 {
		attempts = c.Options.MaxAttempts
	}
	timeout := r.opts.AttemptTimeout
	if c.Options.RequestTimeout > 0 {
		timeout = c.Options.RequestTimeout
	}
	var lastErr, denied error
	var prev string
	open, full := 0, 0
	for step := range c.Targets {
		t := &c.Targets[step]
		key := t.DeploymentKey()
		if r.opts.Allow != nil {
			if err := r.opts.Allow(c, t); err != nil {
				denied = err
				r.skip(c, key, "not_allowed")
				continue
			}
		}
		if !st.Breakers.Available(key) {
			open++
			r.skip(c, key, "breaker_open")
			continue
		}
		if in := infos[step]; st.Load.AtCapacity(key, in.rpm, in.tpm) {
			full++
			r.skip(c, key, "at_capacity")
			continue
		}
		if prev != "" && r.opts.Hooks.Fallback != nil {
			r.opts.Hooks.Fallback(c, prev, key, lastErr)
		}
		prev = key
		for n := 0; n < attempts; n++ {
			if n > 0 {
				wait := r.delay(ctx, c, n, lastErr)
				if wait < 0 {
					break // the provider asked for longer than the request may take
				}
				if r.opts.Hooks.Retry != nil {
					r.opts.Hooks.Retry(c, key, n, lastErr)
				}
				if err := r.opts.Sleep(ctx, wait); err != nil {
					return nil, gwerr.As(err)
				}
			}
			c.Outcome.Attempts++
			c.Outcome.Step = step
			res, err := r.attempt(ctx, c, t, timeout)
			if err == nil {
				if ferr := contentFiltered(res, fallbackOn, step < len(c.Targets)-1); ferr != nil {
					err = ferr // refused by this provider's filter: another may answer
				} else {
					if lastErr != nil {
						closeNative(lastErr)
					}
					return res, nil
				}
			}
			if lastErr != nil {
				closeNative(lastErr)
			}
			lastErr = err
			if ctx.Err() != nil {
				return nil, err
			}
			if isBreakerOpen(err) || !retryable(err) {
				break
			}
		}
		if !r.fallsBack(c, lastErr, fallbackOn) {
			break
		}
	}
	if lastErr == nil {
		if denied != nil && open == 0 && full == 0 {
			return nil, denied
		}
		return nil, unavailable(open, full)
	}
	return nil, lastErr
}

func (r *Router) skip(c *pipeline.Call, key, reason string) {
	if r.opts.Hooks.Skip != nil {
		r.opts.Hooks.Skip(c, key, reason)
	}
}

// contentFiltered turns a complete chat answer that the provider's
// content filter withheld (every choice finished with content_filter) into
// a content-policy failure, when the call falls back on those and has a
// target left.
func contentFiltered(res *pipeline.Result, on Classes, more bool) error {
	if on&ContentPolicy == 0 || !more || res.Chat == nil || len(res.Chat.Choices) == 0 {
		return nil
	}
	for _, ch := range res.Chat.Choices {
		if ch.FinishReason != "content_filter" {
			return nil
		}
	}
	e := gwerr.Upstream(http.StatusBadRequest, gwerr.TypeInvalidRequest, "content_filter",
		"the provider's content filter withheld the answer")
	e.Retryable = false
	return e
}

// unavailable is the error when every target was skipped.
func unavailable(open, full int) error {
	if open == 0 && full > 0 {
		return gwerr.RateLimited("capacity_exceeded", time.Second,
			"every deployment of this model is at its configured capacity; try again shortly")
	}
	e := gwerr.New(gwerr.KindProvider, http.StatusServiceUnavailable,
		"every deployment of this model is unavailable (circuit breaker open after repeated failures); try again shortly")
	e.Code = "no_healthy_deployment"
	e.RetryAfter = time.Second
	return e
}

// errBreakerOpen is the error of an attempt refused by the breaker (a
// half-open deployment whose probe slots are taken).
func errBreakerOpen(key string) error {
	e := gwerr.New(gwerr.KindProvider, http.StatusServiceUnavailable,
		"deployment %s is unavailable (circuit breaker open)", key)
	e.Code = "deployment_unavailable"
	e.Cause = breaker.ErrOpen
	return e
}

func isBreakerOpen(err error) bool { return errors.Is(err, breaker.ErrOpen) }

// fallsBack reports whether a failed target moves on to the next one. The
// universal endpoint falls back on any failure (the client wrote the chain);
// routed calls on the configured failure classes, and always past a
// deployment its breaker refused.
func (r *Router) fallsBack(c *pipeline.Call, err error, on Classes) bool {
	if c.Kind == pipeline.KindUniversal || isBreakerOpen(err) {
		return true
	}
	return classify(err)&on != 0
}

func retryable(err error) bool {
	var ge *gwerr.Error
	if errors.As(err, &ge) {
		return ge.Retryable
	}
	return false
}

func closeNative(err error) {
	var ne *pipeline.NativeError
	if errors.As(err, &ne) && ne.Response.Body != nil {
		ne.Response.Body.Close()
	}
}

// errAttemptTimeout is the cancellation cause of an attempt that ran out
// of time.
var errAttemptTimeout = errors.New("attempt timed out")

// attempt runs one attempt under its timeout. The timeout covers the time
// until the response starts; a stream that has started is not cut off by it
// (its context lives until the stream is closed).
func (r *Router) attempt(ctx context.Context, c *pipeline.Call, t *pipeline.Target, timeout time.Duration) (*pipeline.Result, error) {
	actx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(timeout, func() { cancel(errAttemptTimeout) })
	res, err := r.opts.Attempter.Attempt(actx, c, t)
	if err != nil {
		timer.Stop()
		timedOut := context.Cause(actx) == errAttemptTimeout
		var ne *pipeline.NativeError
		if errors.As(err, &ne) && !timedOut {
			// the client may still get this response: keep its context
			// alive until the body is closed
			ne.Response.Body = releaseOnClose(ne.Response.Body, cancel)
			return nil, err
		}
		cancel(nil)
		if timedOut && ctx.Err() == nil {
			closeNative(err)
			return nil, &gwerr.Error{Kind: gwerr.KindProvider, Status: 504, Type: gwerr.TypeTimeout,
				Code: "upstream_timeout", Retryable: true, Cause: err,
				Message: fmt.Sprintf("provider %s did not answer within %v", t.Provider.ID(), timeout)}
		}
		return nil, err
	}
	switch {
	case res.Stream != nil:
		timer.Stop()
		res.Stream = &cancelStream{Stream: res.Stream, cancel: cancel}
	case res.Native != nil:
		if res.Native.Streaming {
			timer.Stop()
		}
		res.Native.Body = releaseOnClose(res.Native.Body, func(error) { timer.Stop(); cancel(nil) })
	default:
		timer.Stop()
		cancel(nil)
	}
	return res, nil
}

type cancelStream struct {
	llm.Stream
	cancel context.CancelCauseFunc
}

func (s *cancelStream) Close() error {
	err := s.Stream.Close()
	s.cancel(nil)
	return err
}

type closeFunc struct {
	io.ReadCloser
	fn func(error)
}

func (c *closeFunc) Close() error {
	err := c.ReadCloser.Close()
	c.fn(nil)
	return err
}

func releaseOnClose(rc io.ReadCloser, fn func(error)) io.ReadCloser {
	return &closeFunc{ReadCloser: rc, fn: fn}
}

// delay returns the wait before retry n (n ≥ 1), or -1 when the provider's
// Retry-After is longer than the request's timeout allows.
func (r *Router) delay(ctx context.Context, c *pipeline.Call, n int, lastErr error) time.Duration {
	base := r.opts.Retry.Delay
	if c.Options.RetryDelaySet {
		base = c.Options.RetryDelay
	}
	backoff := r.opts.Retry.Backoff
	if c.Options.Backoff != "" {
		backoff = c.Options.Backoff
	}
	d := base
	switch backoff {
	case pipeline.BackoffLinear:
		d = base * time.Duration(n)
	case pipeline.BackoffExponential:
		d = base << (n - 1)
		if d > 0 {
			// full jitter keeps many clients from retrying in lockstep
			d = d/2 + rand.N(d/2+1)
		}
	}
	if d > r.opts.Retry.MaxDelay || d < 0 {
		d = r.opts.Retry.MaxDelay
	}
	var ge *gwerr.Error
	if errors.As(lastErr, &ge) && ge.RetryAfter > 0 {
		limit := r.opts.AttemptTimeout
		if c.Options.RequestTimeout > 0 {
			limit = c.Options.RequestTimeout
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < limit {
			limit = time.Until(dl)
		}
		if r.opts.TotalTimeout > 0 && r.opts.TotalTimeout < limit {
			limit = r.opts.TotalTimeout
		}
		if ge.RetryAfter > limit {
			return -1
		}
		if ge.RetryAfter > d {
			d = ge.RetryAfter
		}
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var _ pipeline.Handler = (*Router)(nil)
