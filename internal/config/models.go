package config

import (
	"fmt"
	"strings"
)

// Alias maps a model name to targets: an ordered fallback chain, or
// deployments of one model balanced by a strategy.
type Alias struct {
	Name string `yaml:"name"`
	// Strategy orders the targets per request: fallback (default: in the
	// order written), weighted, least-latency, least-busy or cheapest. The
	// targets not chosen first stay fallbacks, in the strategy's order.
	Strategy string `yaml:"strategy"`
	// FallbackOn lists the failures that move on to the next target
	// (default: retry.fallback_on).
	FallbackOn []string `yaml:"fallback_on"`
	Targets    []Target `yaml:"targets"`
}

// Target is one upstream deployment of an alias, or another alias.
type Target struct {
	// Model is "provider/model", or the name of another alias (which is
	// tried in its own order at this position).
	Model string `yaml:"model"`
	// Params override request parameters (temperature, max_tokens …).
	Params map[string]any `yaml:"params"`
	// Name identifies the deployment in health, balancing and the admin
	// API (default: the model). Two targets with the same name share
	// breaker and load state.
	Name string `yaml:"name"`
	// Weight is the target's share under strategy weighted (default 1;
	// 0 makes it a standby used only when the others fail).
	Weight *float64 `yaml:"weight"`
	// RPM and TPM are the deployment's capacity in requests and tokens
	// per minute (0: unlimited); a deployment at capacity is skipped.
	RPM int64 `yaml:"rpm"`
	TPM int64 `yaml:"tpm"`
	// Price in USD per million tokens, for strategy cheapest.
	Price *Price `yaml:"price"`
}

// Price is a deployment's price in USD per million tokens.
type Price struct {
	Input  float64 `yaml:"input"`
	Output float64 `yaml:"output"`
}

// Retry is the default retry schedule.
type Retry struct {
	// MaxAttempts per target including the first (default 1).
	MaxAttempts int `yaml:"max_attempts"`
	// Delay before the first retry (default 200ms).
	Delay Duration `yaml:"delay"`
	// Backoff is constant, linear or exponential (default exponential).
	Backoff string `yaml:"backoff"`
	// MaxDelay caps one wait (default 30s).
	MaxDelay Duration `yaml:"max_delay"`
	// FallbackOn lists the failures that move an alias or route on to its
	// next target (default: rate_limit, server_error, timeout, connection).
	FallbackOn []string `yaml:"fallback_on"`
}

// Strategies are the valid alias strategies.
var Strategies = []string{"fallback", "weighted", "least-latency", "least-busy", "cheapest"}

// FallbackClasses are the failure classes fallback_on may list.
var FallbackClasses = []string{
	"rate_limit",     // 429 from the provider
	"server_error",   // 5xx from the provider
	"timeout",        // no answer within the attempt timeout
	"connection",     // could not connect, or the answer was unreadable
	"content_policy", // refused by the provider's content filter
	"context_length", // prompt too long for the model's context window
	"auth",           // 401/403 from the provider (a bad key on one deployment)
	"not_found",      // 404 from the provider (model missing on one deployment)
	"bad_request",    // any other 4xx from the provider
	"any",            // every provider failure
}

// DefaultFallbackOn is retry.fallback_on's default.
var DefaultFallbackOn = []string{"rate_limit", "server_error", "timeout", "connection"}

func (c *Config) routingDefaults() {
	if c.Retry.FallbackOn == nil {
		c.Retry.FallbackOn = append([]string(nil), DefaultFallbackOn...)
	}
	c.Health.defaults()
	for i := range c.Routes {
		c.Routes[i].defaults()
	}
}

// validateRouting checks aliases, routes and health; ids are the enabled
// provider ids.
func (c *Config) validateRouting(ids map[string]bool) Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	errs = append(errs, validateClasses("retry.fallback_on", c.Retry.FallbackOn)...)
	aliases := map[string]int{}
	for i, a := range c.Models {
		path := fmt.Sprintf("models[%d]", i)
		if _, dup := aliases[a.Name]; dup && a.Name != "" {
			add(path+".name", "%q is defined twice", a.Name)
		}
		aliases[a.Name] = i
	}
	for i, a := range c.Models {
		path := fmt.Sprintf("models[%d]", i)
		if a.Name == "" {
			add(path+".name", "is required")
		}
		if !oneOf(a.Strategy, Strategies) && a.Strategy != "" {
			add(path+".strategy", "must be one of %s", strings.Join(Strategies, ", "))
		}
		errs = append(errs, validateClasses(path+".fallback_on", a.FallbackOn)...)
		if len(a.Targets) == 0 {
			add(path+".targets", "needs at least one target")
		}
		for j, t := range a.Targets {
			tp := fmt.Sprintf("%s.targets[%d]", path, j)
			errs = append(errs, t.validate(tp, ids, aliases)...)
		}
		if cyc := aliasCycle(c.Models, aliases, a.Name); cyc != "" {
			add(path+".targets", "aliases refer to each other in a cycle: %s", cyc)
		}
	}
	errs = append(errs, c.Health.validate()...)
	errs = append(errs, c.validateRoutes(ids, aliases)...)
	return errs
}

func (t *Target) validate(path string, ids map[string]bool, aliases map[string]int) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Path: path + "." + field, Msg: fmt.Sprintf(format, args...)})
	}
	if _, isAlias := aliases[t.Model]; isAlias && !strings.Contains(t.Model, "/") {
		if t.Params != nil || t.Name != "" || t.RPM != 0 || t.TPM != 0 || t.Price != nil {
			add("model", "refers to alias %q: params, name, rpm, tpm and price belong on that alias's own targets", t.Model)
		}
	} else {
		errs = append(errs, validateModelRef(path+".model", t.Model, ids, aliases)...)
	}
	if t.Weight != nil && *t.Weight < 0 {
		add("weight", "must not be negative")
	}
	if t.RPM < 0 {
		add("rpm", "must not be negative")
	}
	if t.TPM < 0 {
		add("tpm", "must not be negative")
	}
	if t.Price != nil && (t.Price.Input < 0 || t.Price.Output < 0) {
		add("price", "input and output must not be negative")
	}
	return errs
}

// validateModelRef checks a model reference: an alias name or an enabled
// provider's "provider/model".
func validateModelRef(path, model string, ids map[string]bool, aliases map[string]int) Errors {
	if _, ok := aliases[model]; ok {
		return nil
	}
	pid, m, ok := strings.Cut(model, "/")
	switch {
	case model == "":
		return Errors{{Path: path, Msg: "is required"}}
	case !ok || pid == "" || m == "":
		return Errors{{Path: path, Msg: fmt.Sprintf("must be provider/model or the name of a model alias (%q is neither)", model)}}
	case !ids[pid]:
		return Errors{{Path: path, Msg: fmt.Sprintf("provider %q is not configured (neither in providers nor from the environment)", pid)}}
	}
	return nil
}

// aliasCycle returns "a → b → a" when alias start reaches itself.
func aliasCycle(models []Alias, index map[string]int, start string) string {
	var walk func(name string, path []string) string
	walk = func(name string, path []string) string {
		for _, t := range models[index[name]].Targets {
			if t.Model == start {
				return strings.Join(append(path, start), " → ")
			}
			if _, ok := index[t.Model]; ok && !oneOf(t.Model, path) && len(path) < 32 {
				if cyc := walk(t.Model, append(path, t.Model)); cyc != "" {
					return cyc
				}
			}
		}
		return ""
	}
	if _, ok := index[start]; !ok {
		return ""
	}
	return walk(start, []string{start})
}

func validateClasses(path string, cs []string) Errors {
	var errs Errors
	for i, c := range cs {
		if !oneOf(c, FallbackClasses) {
			errs = append(errs, FieldError{Path: fmt.Sprintf("%s[%d]", path, i),
				Msg: fmt.Sprintf("unknown failure class %q (one of %s)", c, strings.Join(FallbackClasses, ", "))})
		}
	}
	return errs
}

func oneOf(s string, list []string) bool {
	for _, v := range list {
		if s == v {
			return true
		}
	}
	return false
}
