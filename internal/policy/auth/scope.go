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
	// Resolve returns the targets of a model name (alias or
	// provider/model), so an alias is allowed when its targets are. Nil
	// checks the requested name only.
	Resolve func(model string) ([]pipeline.Target, error)
}

// Scope returns the stage that keeps callers to their models and
// providers. For an alias, targets outside the scope are dropped and the
// call is refused only when none is left; a client-written chain
// (universal endpoint) is refused if any step is outside.
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
	s := c.Identity.Scope
	if len(c.Targets) > 0 { // native and universal calls name their targets
		for _, t := range c.Targets {
			pid := targetProvider(t)
			if !Allows(s, pid, t.Model, "") {
				return notAllowed(c, pid+"/"+t.Model)
			}
		}
		return nil
	}
	alias := c.Model
	if o.Resolve == nil {
		pid, m, _ := strings.Cut(c.Model, "/")
		if !Allows(s, pid, m, alias) {
			return notAllowed(c, c.Model)
		}
		return nil
	}
	targets, err := o.Resolve(c.Model)
	if err != nil {
		// outside the scope says so before whether the model exists
		if pid, m, ok := strings.Cut(c.Model, "/"); ok && !Allows(s, pid, m, "") {
			return notAllowed(c, c.Model)
		}
		return err // the router's own 404
	}
	kept := make([]pipeline.Target, 0, len(targets))
	for _, t := range targets {
		if Allows(s, targetProvider(t), t.Model, alias) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		return notAllowed(c, c.Model)
	}
	c.Targets = kept
	return nil
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
