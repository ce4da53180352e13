package config

import (
	"fmt"
	"time"
)

// Fault behaviours when the shared state store (Redis) cannot answer.
const (
	FailOpen   = "open"
	FailClosed = "closed"
)

// Limits configures rate limits. Keys' own rpm/tpm apply besides these
// rules. Counters are in Redis when redis.url is set (shared by every
// replica), in memory otherwise.
type Limits struct {
	// OnStoreError is open (default: allow the request and count the
	// fault) or closed (answer 503) when Redis cannot answer.
	OnStoreError string `yaml:"on_store_error"`
	// StoreTimeout bounds one check against Redis (default 250ms).
	StoreTimeout Duration    `yaml:"store_timeout"`
	Rules        []LimitRule `yaml:"rules"`
	// Concurrency caps requests in flight to matching models.
	Concurrency []ConcurrencyLimit `yaml:"concurrency"`
}

// LimitRule counts requests and/or tokens per window, separately for each
// combination of the values of By.
type LimitRule struct {
	// Name identifies the rule in errors and counters.
	Name string `yaml:"name"`
	// By lists the dimensions counted separately: key, tenant, user, ip,
	// model, provider (none: one counter for all matching requests). A
	// request lacking one of them (no user known) is not counted by it.
	By []string `yaml:"by"`
	// Requests and Tokens per Window; at least one.
	Requests int64 `yaml:"requests"`
	Tokens   int64 `yaml:"tokens"`
	// Window is the period (default 1m).
	Window Duration `yaml:"window"`
	// Algorithm is sliding (default) or fixed.
	Algorithm string `yaml:"algorithm"`
	// Models, Tenants and Tiers restrict the rule to matching requests
	// (globs for models; empty matches all).
	Models  []string `yaml:"models"`
	Tenants []string `yaml:"tenants"`
	Tiers   []string `yaml:"tiers"`
}

// ConcurrencyLimit caps in-flight upstream requests.
type ConcurrencyLimit struct {
	// Models are globs over provider/model that the limit applies to.
	Models []string `yaml:"models"`
	// Per is model (default: each model its own cap) or provider (all
	// matching models of a provider share one).
	Per string `yaml:"per"`
	Max int64  `yaml:"max"`
}

var limitDimensions = map[string]bool{"key": true, "tenant": true, "user": true, "ip": true, "model": true, "provider": true}

func (l *Limits) defaults() {
	if l.OnStoreError == "" {
		l.OnStoreError = FailOpen
	}
	if l.StoreTimeout == 0 {
		l.StoreTimeout = Duration(250 * time.Millisecond)
	}
	for i := range l.Rules {
		r := &l.Rules[i]
		if r.Window == 0 {
			r.Window = Duration(time.Minute)
		}
		if r.Algorithm == "" {
			r.Algorithm = "sliding"
		}
	}
	for i := range l.Concurrency {
		if l.Concurrency[i].Per == "" {
			l.Concurrency[i].Per = "model"
		}
	}
}

func (l *Limits) validate() Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	if l.OnStoreError != FailOpen && l.OnStoreError != FailClosed {
		add("limits.on_store_error", "must be open or closed")
	}
	names := map[string]bool{}
	for i, r := range l.Rules {
		path := fmt.Sprintf("limits.rules[%d]", i)
		switch {
		case r.Name == "":
			add(path+".name", "is required")
		case !validKeyName(r.Name):
			add(path+".name", "must be letters, digits, '.', '_' and '-'")
		case names[r.Name]:
			add(path+".name", "%q is defined twice", r.Name)
		}
		names[r.Name] = true
		seen := map[string]bool{}
		for j, d := range r.By {
			switch {
			case !limitDimensions[d]:
				add(fmt.Sprintf("%s.by[%d]", path, j), "unknown dimension %q (one of key, tenant, user, ip, model, provider)", d)
			case seen[d]:
				add(fmt.Sprintf("%s.by[%d]", path, j), "%q is listed twice", d)
			}
			seen[d] = true
		}
		if r.Requests < 0 {
			add(path+".requests", "must not be negative")
		}
		if r.Tokens < 0 {
			add(path+".tokens", "must not be negative")
		}
		if r.Requests == 0 && r.Tokens == 0 {
			add(path+".requests", "a rule needs requests or tokens (or both)")
		}
		if r.Window.D() < time.Second || r.Window.D() > 31*24*time.Hour {
			add(path+".window", "must be from 1s to 744h")
		}
		if r.Algorithm != "sliding" && r.Algorithm != "fixed" {
			add(path+".algorithm", "must be sliding or fixed")
		}
		for j, m := range r.Models {
			if !validPattern(m) {
				add(fmt.Sprintf("%s.models[%d]", path, j), "must be a non-empty pattern without spaces")
			}
		}
	}
	for i, c := range l.Concurrency {
		path := fmt.Sprintf("limits.concurrency[%d]", i)
		if len(c.Models) == 0 {
			add(path+".models", "needs at least one pattern (e.g. openai/* or */*)")
		}
		for j, m := range c.Models {
			if !validPattern(m) {
				add(fmt.Sprintf("%s.models[%d]", path, j), "must be a non-empty pattern without spaces")
			}
		}
		if c.Per != "model" && c.Per != "provider" {
			add(path+".per", "must be model or provider")
		}
		if c.Max < 1 {
			add(path+".max", "must be at least 1")
		}
	}
	return errs
}
