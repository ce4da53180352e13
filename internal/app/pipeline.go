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
//	decode   – x-aig-* headers, bounded body read, ingress decode
//	guardrails – injection, PII rules, system prompt, size limit and
//	           moderation on the prompt (masked before anything keys on
//	           it); filter and restore the answer (also cache hits)
//	cache    – exact and semantic response cache; coalesces identical misses
//	router   – aliases → targets, retries, fallback (the final handler)
//
// Once per upstream attempt (inside the router, outermost first):
//
//	breaker  – refuse a deployment whose circuit is open; count failures,
//	           also of streams that break midway
//	load     – in-flight, latency and tokens per deployment for balancing
//	invoke   – call the provider; record usage and first byte
//
// Where the stages still to come belong, and why (outermost first):
//
//	requestlog – right after recover: it must see every outcome, also
//	             refusals by auth and limits, and write after the stream ends
//	metrics, trace
//	ipfilter, auth – before decode: no body is read for a refused caller
//	decode
//	guardrails – mask/check the prompt before anything keys on it; restore
//	             and filter the answer on the way out (also cache hits)
//	ratelimit, budget – outside the cache, so a hit still counts as a
//	             request but charges no spend
//	cache      – outside usage: a hit makes no upstream call and costs 0
//	usage      – tokens (estimated where missing) and cost of a miss
//	router     – per attempt: breaker, then invoke
func (rt *Runtime) buildPipeline() pipeline.Handler {
	cfg := rt.cfg
	attempt := pipeline.ChainAttempt(pipeline.Invoke(),
		routing.BreakerStage(rt.routing, rt.breakerSettings()),
		routing.LoadStage(rt.routing),
	)
	rt.router = routing.New(rt.routerOptions(attempt))
	return pipeline.Chain(rt.router,
		pipeline.Recover(rt.log),
		pipeline.Decode(pipeline.DecodeConfig{
			MaxBodyBytes: cfg.Server.MaxBodyBytes,
			Limits:       pipeline.OptionLimits{MaxMetadataEntries: cfg.Server.MaxMetadataEntries},
		}),
		rt.guard.Stage(),
		rt.cacheStage,
	)
}
