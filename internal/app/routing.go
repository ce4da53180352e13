package app

import (
	"fmt"

	"github.com/aigateway/aigateway/internal/httpapi/admin"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/policy/auth"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/routing"
	"github.com/aigateway/aigateway/internal/routing/balance"
	"github.com/aigateway/aigateway/internal/routing/breaker"
	"github.com/aigateway/aigateway/internal/routing/rules"
)

// buildRouting builds the snapshot's aliases and routes on the shared
// routing state (a fresh one when st is nil).
func (rt *Runtime) buildRouting(st *routing.State) error {
	cfg := rt.cfg
	if st == nil {
		st = routing.NewState(routing.StateOptions{})
	}
	rt.routing = st
	rt.aliases = map[string]routing.Alias{}
	names := map[string]bool{}
	for _, a := range cfg.Models {
		names[a.Name] = true
	}
	for i, a := range cfg.Models {
		on, err := routing.ParseClasses(a.FallbackOn)
		if err != nil {
			return fmt.Errorf("models[%d].fallback_on: %w", i, err)
		}
		alias := routing.Alias{Name: a.Name, Strategy: balance.Strategy(a.Strategy), FallbackOn: on}
		for j, t := range a.Targets {
			at := routing.AliasTarget{Weight: 1, RPM: t.RPM, TPM: t.TPM}
			if t.Weight != nil {
				at.Weight = *t.Weight
			}
			if t.Price != nil {
				at.Price = balance.Price{Input: t.Price.Input, Output: t.Price.Output, Known: true}
			}
			if names[t.Model] {
				at.Alias = t.Model
				alias.Targets = append(alias.Targets, at)
				continue
			}
			pid, model, _ := provider.SplitModel(t.Model)
			p, ok := rt.registry.Lookup(pid)
			if !ok {
				return fmt.Errorf("models[%d].targets[%d].model: provider %q is not enabled", i, j, pid)
			}
			at.Target = pipeline.Target{Provider: p, ProviderID: pid, Model: model, Params: t.Params, Deployment: t.Name}
			if at.Target.Deployment == "" {
				// built once here, not by DeploymentKey on every request
				at.Target.Deployment = at.Target.DeploymentKey()
			}
			alias.Targets = append(alias.Targets, at)
		}
		rt.aliases[a.Name] = alias
	}
	routes, err := rules.Compile(cfg.Routes, rules.Options{Counters: st.Counters})
	if err != nil {
		return fmt.Errorf("compiling routes: %w", err)
	}
	rt.routes = routes
	return nil
}

func (rt *Runtime) breakerSettings() breaker.Settings {
	b := rt.cfg.Health.Breaker
	return breaker.Settings{
		Disabled:            !b.On(),
		ConsecutiveFailures: b.ConsecutiveFailures,
		ErrorRate:           b.ErrorRate,
		MinRequests:         b.MinRequests,
		Window:              b.Window.D(),
		Cooldown:            b.Cooldown.D(),
		HalfOpenRequests:    b.HalfOpenRequests,
	}
}

func (rt *Runtime) routerOptions(attempt pipeline.Attempter) routing.Options {
	cfg := rt.cfg
	on, _ := routing.ParseClasses(cfg.Retry.FallbackOn) // validated by config
	return routing.Options{
		Registry:       rt.registry,
		Aliases:        rt.aliases,
		Routes:         rt.routes,
		StaticModels:   rt.staticModels,
		Retry:          rt.retryPolicy(),
		FallbackOn:     on,
		AttemptTimeout: cfg.Server.RequestTimeout.D(),
		TotalTimeout:   cfg.Server.TotalTimeout.D(),
		Attempter:      attempt,
		State:          rt.routing,
		Allow:          auth.AllowTarget,
	}
}

// DeploymentHealth implements admin.HealthService.
func (rt *Runtime) DeploymentHealth() []admin.DeploymentHealth {
	hs := rt.router.Health()
	out := make([]admin.DeploymentHealth, len(hs))
	for i, h := range hs {
		d := admin.DeploymentHealth{
			Deployment: h.Deployment, Provider: h.Provider, Model: h.Model, State: string(h.State),
			Requests: h.Requests, Failures: h.Failures, ConsecutiveFailures: h.ConsecutiveFailures,
			OpenedAt: h.OpenedAt, RetryAt: h.RetryAt, InFlight: h.InFlight,
			RequestsPerMinute: h.RequestsPerMinute, TokensPerMinute: h.TokensPerMinute, RPM: h.RPM, TPM: h.TPM,
		}
		if h.Latency > 0 {
			ms := float64(h.Latency.Microseconds()) / 1000
			d.LatencyMS = &ms
		}
		if h.StreamLatency > 0 {
			ms := float64(h.StreamLatency.Microseconds()) / 1000
			d.FirstEventMS = &ms
		}
		out[i] = d
	}
	return out
}

var _ admin.HealthService = (*Runtime)(nil)
