// Package routing turns the model a client asked for into upstream targets
// and tries them: aliases, retries with backoff, per-attempt timeouts and
// fallback from one target to the next.
package routing

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
)

// Alias is a model name from the config with its ordered fallback targets.
type Alias struct {
	Name    string
	Targets []pipeline.Target
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

// Options configure a Router. Zero values are documented per field.
type Options struct {
	Registry *provider.Registry
	Aliases  map[string]Alias
	// StaticModels are configured model names per provider id, listed by
	// GET /v1/models besides what providers list upstream.
	StaticModels map[string][]string
	Retry        RetryPolicy
	// AttemptTimeout bounds each attempt until the response starts
	// (default 10 minutes); x-aig-request-timeout overrides it.
	AttemptTimeout time.Duration
	// Attempter makes one attempt (default pipeline.Invoke()).
	Attempter pipeline.Attempter
	// Sleep waits between attempts (default: a timer honouring ctx); tests
	// replace it with a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
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
	if o.AttemptTimeout <= 0 {
		o.AttemptTimeout = 10 * time.Minute
	}
	if o.Attempter == nil {
		o.Attempter = pipeline.Invoke()
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &Router{opts: o}
}

// Resolve returns the targets for a model name: an alias's targets, or the
// single target of "provider/model".
func (r *Router) Resolve(model string) ([]pipeline.Target, error) {
	if a, ok := r.opts.Aliases[model]; ok {
		return a.Targets, nil
	}
	pid, m, ok := provider.SplitModel(model)
	if !ok {
		return nil, gwerr.NotFound("model_not_found",
			"model %q is neither a configured alias nor of the form provider/model; GET /v1/models lists the available models", model)
	}
	p, ok := r.opts.Registry.Lookup(pid)
	if !ok {
		return nil, gwerr.NotFound("model_not_found",
			"provider %q of model %q is not enabled; GET /v1/models lists the available models", pid, model)
	}
	return []pipeline.Target{{Provider: p, Model: m}}, nil
}

// Serve resolves and tries the call's targets in order.
func (r *Router) Serve(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
	if c.Kind == pipeline.KindModels {
		return &pipeline.Result{Models: r.Models(ctx)}, nil
	}
	if len(c.Targets) == 0 {
		ts, err := r.Resolve(c.Model)
		if err != nil {
			return nil, err
		}
		c.Targets = ts
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
	attempts := r.opts.Retry.MaxAttempts
	if c.Options.MaxAttempts > 0 {
		attempts = c.Options.MaxAttempts
	}
	timeout := r.opts.AttemptTimeout
	if c.Options.RequestTimeout > 0 {
		timeout = c.Options.RequestTimeout
	}
	var lastErr error
	for step := range c.Targets {
		t := &c.Targets[step]
		for n := 0; n < attempts; n++ {
			if n > 0 {
				wait := r.delay(c, n, lastErr)
				if wait < 0 {
					break // the provider asked for longer than the request may take
				}
				if err := r.opts.Sleep(ctx, wait); err != nil {
					return nil, gwerr.As(err)
				}
			}
			c.Outcome.Attempts++
			c.Outcome.Step = step
			res, err := r.attempt(ctx, c, t, timeout)
			if err == nil {
				return res, nil
			}
			if lastErr != nil {
				closeNative(lastErr)
			}
			lastErr = err
			if ctx.Err() != nil {
				return nil, err
			}
			if !retryable(err) {
				break
			}
		}
		if !r.fallsBack(c, lastErr) {
			break
		}
	}
	return nil, lastErr
}

// fallsBack reports whether a failed target moves on to the next one. The
// universal endpoint falls back on any failure (the client wrote the chain);
// routed calls fall back on failures another provider might not have.
func (r *Router) fallsBack(c *pipeline.Call, err error) bool {
	if c.Kind == pipeline.KindUniversal {
		return true
	}
	return retryable(err)
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
func (r *Router) delay(c *pipeline.Call, n int, lastErr error) time.Duration {
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
