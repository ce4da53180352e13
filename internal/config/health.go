package config

import "fmt"

// Health tunes how the gateway tracks upstream deployments.
type Health struct {
	Breaker Breaker `yaml:"breaker"`
}

// Breaker configures the circuit breaker kept per deployment. It opens on
// consecutive failures or on an error rate, refuses requests for the
// cooldown, then lets probes through: success closes it, failure reopens.
type Breaker struct {
	// Enabled turns breakers on (default true).
	Enabled *bool `yaml:"enabled"`
	// ConsecutiveFailures opens the breaker (default 5).
	ConsecutiveFailures int `yaml:"consecutive_failures"`
	// ErrorRate opens the breaker when this fraction of the requests in
	// window failed (default 0.5; 1 only on all failing).
	ErrorRate float64 `yaml:"error_rate"`
	// MinRequests is how many requests window must hold before the error
	// rate is judged (default 20).
	MinRequests int `yaml:"min_requests"`
	// Window is the rolling window of the error rate (default 60s).
	Window Duration `yaml:"window"`
	// Cooldown is how long an open breaker refuses requests (default 30s).
	Cooldown Duration `yaml:"cooldown"`
	// HalfOpenRequests is the number of probes that must succeed to close
	// (default 1).
	HalfOpenRequests int `yaml:"half_open_requests"`
}

// On reports whether breakers are enabled.
func (b *Breaker) On() bool { return b.Enabled == nil || *b.Enabled }

func (h *Health) defaults() {
	b := &h.Breaker
	if b.ConsecutiveFailures == 0 {
		b.ConsecutiveFailures = 5
	}
	if b.ErrorRate == 0 {
		b.ErrorRate = 0.5
	}
	if b.MinRequests == 0 {
		b.MinRequests = 20
	}
	setDuration(&b.Window, "60s")
	setDuration(&b.Cooldown, "30s")
	if b.HalfOpenRequests == 0 {
		b.HalfOpenRequests = 1
	}
}

func (h *Health) validate() Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Path: "health.breaker." + field, Msg: fmt.Sprintf(format, args...)})
	}
	b := &h.Breaker
	if b.ConsecutiveFailures < 1 {
		add("consecutive_failures", "must be at least 1")
	}
	if b.ErrorRate <= 0 || b.ErrorRate > 1 {
		add("error_rate", "must be a fraction above 0 and at most 1")
	}
	if b.MinRequests < 1 {
		add("min_requests", "must be at least 1")
	}
	if b.Window.D() < 100_000_000 {
		add("window", "must be at least 100ms")
	}
	if b.HalfOpenRequests < 1 || b.HalfOpenRequests > 1000 {
		add("half_open_requests", "must be from 1 to 1000")
	}
	return errs
}
