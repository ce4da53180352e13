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
//	recover  – a panic becomes a 500, never a dropped connection
//	ipfilter – client address (trusted proxies), global allow/deny
//	auth     – gateway key or JWT → Identity; before decode, so no body
//	           is read for a refused caller
//	decode   – x-aig-* headers, bounded body read, ingress decode
//	scope    – the key's models/providers; needs the decoded model
//	ratelimit, budget – outside the cache, so a hit still counts as a
//	           request but charges no spend
//	router   – aliases → targets, retries, fallback (the final handler)
//
// Once per upstream attempt (inside the router, outermost first):
//
//	concurrency – in-flight cap per model or provider
//	invoke   – call the provider; record usage and first byte
//
// Where the stages still to come belong, and why (outermost first):
//
//	requestlog – right after recover: it must see every outcome, also
//	             refusals by auth and limits, and write after the stream ends
//	metrics, trace
//	guardrails – after decode/scope, before ratelimit: mask/check the
//	             prompt before anything keys on it; restore and filter the
//	             answer on the way out (also cache hits)
//	cache      – after budget, outside usage: a hit makes no upstream call
//	             and costs 0
//	usage      – tokens (estimated where missing) and cost of a miss
//	router     – per attempt: breaker, then invoke
func (rt *Runtime) buildPipeline() pipeline.Handler {
	cfg := rt.cfg
	attempt := pipeline.ChainAttempt(
		pipeline.Invoke(),
		rt.concurrencyStage(),
	)
	rt.router = routing.New(routing.Options{
		Registry:       rt.registry,
		Aliases:        rt.aliases,
		StaticModels:   rt.staticModels,
		Retry:          rt.retryPolicy(),
		AttemptTimeout: cfg.Server.RequestTimeout.D(),
		Attempter:      attempt,
	})
	return pipeline.Chain(rt.router,
		pipeline.Recover(rt.log),
		rt.ipFilterStage(),
		rt.authStage(),
		pipeline.Decode(pipeline.DecodeConfig{
			MaxBodyBytes: cfg.Server.MaxBodyBytes,
			Limits:       pipeline.OptionLimits{MaxMetadataEntries: cfg.Server.MaxMetadataEntries},
		}),
		rt.scopeStage(),
		rt.rateLimitStage(),
		rt.budgetStage(),
	)
}
