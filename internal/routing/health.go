package routing

import (
	"sort"
	"time"

	"github.com/aigateway/aigateway/internal/routing/breaker"
)

// DeploymentHealth is one deployment's state: its breaker and its load.
type DeploymentHealth struct {
	Deployment string
	// Provider and Model are set for deployments named in the config.
	Provider, Model string
	breaker.Status
	InFlight int64
	// Latency and StreamLatency are the moving averages of the time to a
	// complete answer and to a stream's first event (zero: no fresh one).
	Latency, StreamLatency time.Duration
	// RequestsPerMinute and TokensPerMinute are the last minute's use;
	// RPM and TPM the configured capacity (0: unlimited).
	RequestsPerMinute, TokensPerMinute float64
	RPM, TPM                           int64
}

// Health returns every deployment the config names or the gateway has
// called, sorted by name.
func (r *Router) Health() []DeploymentHealth {
	st := r.opts.State
	byKey := map[string]*DeploymentHealth{}
	get := func(key string) *DeploymentHealth {
		h := byKey[key]
		if h == nil {
			h = &DeploymentHealth{Deployment: key, Status: breaker.Status{Deployment: key, State: breaker.Closed}}
			byKey[key] = h
		}
		return h
	}
	for _, a := range r.opts.Aliases {
		for _, t := range a.Targets {
			if t.Alias != "" {
				continue
			}
			h := get(t.DeploymentKey())
			h.Provider, h.Model = t.ProviderID, t.Model
			h.RPM, h.TPM = max(h.RPM, t.RPM), max(h.TPM, t.TPM)
		}
	}
	for _, s := range st.Breakers.Snapshot() {
		get(s.Deployment).Status = s
	}
	out := make([]DeploymentHealth, 0, len(byKey))
	for key, h := range byKey {
		l := st.Load.Lookup(key)
		h.InFlight = l.InFlight()
		h.Latency, _ = st.Load.Latency(l, false)
		h.StreamLatency, _ = st.Load.Latency(l, true)
		h.RequestsPerMinute, h.TokensPerMinute = st.Load.Usage(l)
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Deployment < out[j].Deployment })
	return out
}
