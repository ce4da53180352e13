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
//	router   – aliases → targets, retries, fallback (the final handler)
//
// Once per upstream attempt (inside the router, outermost first):
//
//	invoke   – call the provider; record usage and first byte
func (rt *Runtime) buildPipeline() pipeline.Handler {
	cfg := rt.cfg
	attempt := pipeline.ChainAttempt(
		pipeline.Invoke(),
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
		pipeline.Decode(pipeline.DecodeConfig{
			MaxBodyBytes: cfg.Server.MaxBodyBytes,
			Limits:       pipeline.OptionLimits{MaxMetadataEntries: cfg.Server.MaxMetadataEntries},
		}),
	)
}
