package auth

import (
	"context"
	"strings"

	"github.com/aigateway/aigateway/internal/glob"
	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// ScopeOptions configure the scope stage.
type ScopeOptions struct {
	// Routed reports whether a model name is an alias or a route, whose
	// targets the router picks (and checks with AllowTarget, one by one).
	// Nil: no name is.
	Routed func(model string) bool
}

// Scope returns the stage that keeps callers to their models and
// providers. It refuses at once what it can decide from the request: a
// provider/model name no alias or route intercepts, and the targets a
// native or universal call names (a client-written chain with one step
// outside is refused whole). The targets of aliases and routes are checked
// by the router with AllowTarget as it picks them, so a target outside the
// scope is skipped and the call refused only when none is left.
func Scope(o ScopeOptions) pipeline.Middleware {
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			s := c.Identity.Scope
			if len(s.Models) == 0 && len(s.Providers) == 0 {
				return next.Serve(ctx, c)
			}
			if c.Kind == pipeline.KindModels {
				res, err := next.Serve(ctx, c)
				if err == nil && res != nil {
					res.Models = filterModels(s, res.Models)
				}
				return res, err
			}
			if err := o.check(c); err != nil {
				return nil, err
			}
			return next.Serve(ctx, c)
		})
	}
}

func (o *ScopeOptions) check(c *pipeline.Call) error {
	if len(c.Targets) > 0 { // native and universal calls name their targets
		for i := range c.Targets {
			if err := AllowTarget(c, &c.Targets[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if o.Routed != nil && o.Routed(c.Model) {
		return nil
	}
	if pid, m, ok := strings.Cut(c.Model, "/"); ok && !Allows(c.Identity.Scope, pid, m, "") {
		return notAllowed(c, c.Model)
	}
	return nil
}

// AllowTarget is the router's per-target check: nil when the caller's
// scope admits target t of call c (by its provider/model, or by the alias
// name the client asked for), else a 403 saying which model.
func AllowTarget(c *pipeline.Call, t *pipeline.Target) error {
	s := c.Identity.Scope
	if len(s.Models) == 0 && len(s.Providers) == 0 {
		return nil
	}
	pid := targetProvider(*t)
	if Allows(s, pid, t.Model, aliasName(c)) {
		return nil
	}
	return notAllowed(c, pid+"/"+t.Model)
}

// aliasName is the name a call asked for when it is an alias or route
// name, which a scope may grant as a whole; provider/model names (which a
// route may intercept) and client-written targets grant nothing beyond
// themselves.
func aliasName(c *pipeline.Call) string {
	if c.Kind == pipeline.KindNative || c.Kind == pipeline.KindUniversal || strings.Contains(c.Model, "/") {
		return ""
	}
	return c.Model
}

// Allows reports whether scope s admits model of provider pid, requested
// under alias (the name the client sent; may be empty).
func Allows(s pipeline.Scope, pid, model, alias string) bool {
	if len(s.Providers) > 0 && !glob.Any(s.Providers, pid) {
		return false
	}
	if len(s.Models) == 0 {
		return true
	}
	return glob.Any(s.Models, pid+"/"+model) || (alias != "" && glob.Any(s.Models, alias))
}

func filterModels(s pipeline.Scope, ms []llm.Model) []llm.Model {
	out := ms[:0:0]
	for _, m := range ms {
		pid, name, ok := strings.Cut(m.ID, "/")
		if ok && Allows(s, pid, name, m.ID) || !ok && len(s.Providers) == 0 && glob.Any(s.Models, m.ID) {
			out = append(out, m)
		}
	}
	return out
}

func targetProvider(t pipeline.Target) string {
	if t.Provider != nil {
		return t.Provider.ID()
	}
	return t.ProviderID
}

func notAllowed(c *pipeline.Call, model string) error {
	who := "this caller"
	if c.Identity.KeyName != "" {
		who = "gateway key \"" + c.Identity.KeyName + "\""
	}
	var allowed []string
	allowed = append(allowed, c.Identity.Scope.Models...)
	for _, p := range c.Identity.Scope.Providers {
		allowed = append(allowed, "provider "+p)
	}
	e := gwerr.Forbidden("%s may not use model %s (allowed: %s)", who, model, strings.Join(allowed, ", "))
	e.Code, e.Param = "model_not_allowed", "model"
	return e
}
