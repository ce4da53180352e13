package app

import (
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/routing"
)

// The request pipeline, in order. This is the one place the stage order
// lives; a new stage is one line here.
//
// Once per client request (outermost first):
//
//	recover    – a panic becomes a 500, never a dropped connection
//	requestlog – the log record of every outcome (refusals by auth and
//	             limits too), handed to the async writer when the answer
//	             ends (after a stream's last event)
//	metrics    – Prometheus counters and histograms of every outcome
//	trace      – the request span (GenAI conventions), parent of upstream spans
//	ipfilter   – client address (trusted proxies), global allow/deny
//	auth       – gateway key or JWT → Identity; before decode, so no body
//	             is read for a refused caller
//	decode     – x-aig-* headers, bounded body read, ingress decode
//	guardrails – PII rules, injection, system prompt, size limit: mask and
//	             check the prompt before anything keys on it (limits,
//	             cache, logs — also the log of a request refused later);
//	             filter and restore the answer on the way out (also cache hits)
//	scope      – the key's models/providers; needs the decoded model
//	ratelimit, budget – outside the cache, so a hit still counts as a
//	             request but charges no spend
//	cache      – exact and semantic response cache; coalesces identical misses
//	moderation – the guardrails' moderation model on masked prompts and
//	             answers: inside limits (a refused caller costs no call) and
//	             the cache (a hit was moderated when it was stored)
//	usage      – tokens (estimated where the provider gave none) and cost of
//	             a miss, settled when the answer ends; budget and the outer
//	             stages read them
//	router     – aliases → targets, retries, fallback (the final handler)
//
// Once per upstream attempt (inside the router, outermost first):
//
//	concurrency – in-flight cap per model or provider (a refusal lets the
//	           router fall back; outside the breaker, which must not count
//	           the gateway's own refusals as the deployment's failures)
//	breaker  – refuse a deployment whose circuit is open; count failures,
//	           also of streams that break midway
//	load     – in-flight, latency and tokens per deployment for balancing
//	metrics  – upstream attempts and errors by provider
//	invoke   – call the provider; record usage and first byte
func (rt *Runtime) buildPipeline() pipeline.Handler {
	cfg := rt.cfg
	attempt := pipeline.ChainAttempt(pipeline.Invoke(),
		rt.concurrencyStage(),
		routing.BreakerStage(rt.routing, rt.breakerSettings()),
		routing.LoadStage(rt.routing),
		rt.attemptMetricsStage(),
	)
	rt.router = routing.New(rt.routerOptions(attempt))
	return pipeline.Chain(rt.router,
		pipeline.Recover(rt.log),
		rt.requestLogStage(),
		rt.metricsStage(),
		rt.traceStage(),
		rt.ipFilterStage(),
		rt.authStage(),
		pipeline.Decode(pipeline.DecodeConfig{
			MaxBodyBytes: cfg.Server.MaxBodyBytes,
			Limits:       pipeline.OptionLimits{MaxMetadataEntries: cfg.Server.MaxMetadataEntries},
		}),
		rt.guard.Stage(),
		rt.scopeStage(),
		rt.rateLimitStage(),
		rt.budgetStage(),
		rt.cacheStage,
		rt.guard.ModerationStage(),
		rt.meterStage(),
	)
}
