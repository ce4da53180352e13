// Package app is the composition root: it builds a Runtime (providers,
// stores, the compiled pipeline) from one config snapshot, and holds the
// current one in a Gateway that reloads by building anew and swapping.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/httpapi"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/routing"
)

// Deps are process-wide resources that outlive config snapshots.
type Deps struct {
	Log *slog.Logger
	// HTTPClient calls providers (default: NewUpstreamClient()).
	HTTPClient *http.Client
}

// Runtime is everything built from one config snapshot. It is immutable
// once built; requests hold on to the one they started with.
type Runtime struct {
	cfg          *config.Config
	log          *slog.Logger
	registry     *provider.Registry
	aliases      map[string]routing.Alias
	staticModels map[string][]string
	router       *routing.Router
	handler      pipeline.Handler
}

// Build constructs a runtime; it fails without side effects, so a bad
// reload leaves the running runtime untouched.
func Build(cfg *config.Config, d Deps) (*Runtime, error) {
	rt := &Runtime{cfg: cfg, log: d.Log}
	factories := providerFactories()
	var specs []provider.Spec
	rt.staticModels = map[string][]string{}
	for _, p := range cfg.Providers {
		if _, ok := factories[p.Type]; !ok {
			rt.log.Warn("provider type not available in this build; provider disabled", "provider", p.ID, "type", p.Type)
			continue
		}
		specs = append(specs, specFor(p, d.HTTPClient))
		rt.staticModels[p.ID] = p.Models
	}
	reg, err := provider.NewRegistry(factories, specs)
	if err != nil {
		return nil, fmt.Errorf("building providers: %w", err)
	}
	rt.registry = reg
	rt.aliases = map[string]routing.Alias{}
	for i, a := range cfg.Models {
		alias := routing.Alias{Name: a.Name}
		for j, t := range a.Targets {
			pid, model, _ := provider.SplitModel(t.Model)
			p, ok := reg.Lookup(pid)
			if !ok {
				return nil, fmt.Errorf("models[%d].targets[%d].model: provider %q is not enabled", i, j, pid)
			}
			alias.Targets = append(alias.Targets, pipeline.Target{Provider: p, ProviderID: pid, Model: model, Params: t.Params})
		}
		rt.aliases[a.Name] = alias
	}
	rt.handler = rt.buildPipeline()
	return rt, nil
}

func specFor(p config.Provider, client *http.Client) provider.Spec {
	return provider.Spec{
		ID: p.ID, Type: p.Type, BaseURL: p.BaseURL, APIPath: p.APIPath, APIKey: p.APIKey,
		Headers: p.Headers, Models: p.Models, APIVersion: p.APIVersion, Deployments: p.Deployments,
		AccountID: p.AccountID, Region: p.Region, AccessKeyID: p.AccessKeyID,
		SecretAccessKey: p.SecretAccessKey, SessionToken: p.SessionToken,
		StreamUsage: p.StreamUsageOn(), Client: client,
	}
}

func (rt *Runtime) retryPolicy() routing.RetryPolicy {
	r := rt.cfg.Retry
	return routing.RetryPolicy{MaxAttempts: r.MaxAttempts, Delay: r.Delay.D(), Backoff: r.Backoff, MaxDelay: r.MaxDelay.D()}
}

// Pipeline implements httpx.Backend.
func (rt *Runtime) Pipeline() pipeline.Handler { return rt.handler }

// Ready implements httpx.Backend: the embedded runtime has no remote stores
// yet, so it is ready once built.
func (rt *Runtime) Ready(ctx context.Context) error { return ctx.Err() }

// Config returns the snapshot's configuration (read-only).
func (rt *Runtime) Config() *config.Config { return rt.cfg }

// Providers returns the enabled provider ids.
func (rt *Runtime) Providers() []string { return rt.registry.IDs() }

// Close releases the runtime's resources after its last request.
func (rt *Runtime) Close() error { return nil }

// Gateway serves requests with the current runtime and swaps runtimes on
// reload.
type Gateway struct {
	deps    Deps
	current atomic.Pointer[Runtime]
	handler http.Handler
}

// New builds the first runtime and the HTTP handler.
func New(cfg *config.Config, d Deps) (*Gateway, error) {
	if d.HTTPClient == nil {
		d.HTTPClient = NewUpstreamClient()
	}
	rt, err := Build(cfg, d)
	if err != nil {
		return nil, err
	}
	g := &Gateway{deps: d}
	g.current.Store(rt)
	g.handler = httpapi.New(httpapi.Options{
		Source: func() httpx.Backend { return g.current.Load() },
		Log:    d.Log,
	})
	return g, nil
}

// Handler is the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Runtime returns the current runtime.
func (g *Gateway) Runtime() *Runtime { return g.current.Load() }

// Reload builds a runtime from cfg and swaps it in. The old runtime is
// closed after grace, when requests that started on it have finished.
func (g *Gateway) Reload(cfg *config.Config, grace time.Duration) error {
	rt, err := Build(cfg, g.deps)
	if err != nil {
		return err
	}
	old := g.current.Swap(rt)
	time.AfterFunc(grace, func() {
		if err := old.Close(); err != nil {
			g.deps.Log.Warn("closing previous runtime", "error", err)
		}
	})
	return nil
}

// Close closes the current runtime.
func (g *Gateway) Close() error { return g.current.Load().Close() }

// NewUpstreamClient returns the HTTP client for provider calls, tuned for a
// proxy: many idle connections per host (Go's default of 2 would open a new
// connection for most concurrent requests), HTTP/2 where providers offer
// it, no overall timeout (streams are long; attempts carry their own).
//
// Connection buffers stay at Go's 4 KiB: an HTTP/1.1 connection keeps both
// for as long as it lives, and 32 KiB ones made 5,000 open streams cost
// 64 KiB each in buffers alone (bench: open-streams), while a 100 KB prompt
// costs only a few more write calls with small ones.
func NewUpstreamClient() *http.Client {
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: t,
		// Never follow redirects: a passthrough response goes back as is,
		// and a provider credential must not follow a redirect elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// IsLoopback reports whether a listen address only accepts local
// connections (127.0.0.0/8, ::1 or localhost).
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// CheckExposure enforces the security default: without gateway keys the
// gateway only listens on loopback, unless the operator opts out.
func CheckExposure(cfg *config.Config, keysConfigured bool) error {
	if keysConfigured || cfg.AllowUnauthenticated || IsLoopback(cfg.Listen) {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without gateway keys: anyone who can reach it could spend your provider credits; "+
		"configure gateway keys, listen on a loopback address (127.0.0.1), or pass --allow-unauthenticated", cfg.Listen)
}
