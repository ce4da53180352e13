// Package app is the composition root: it builds a Runtime (providers,
// stores, the compiled pipeline) from one config snapshot, and holds the
// current one in a Gateway that reloads by building anew and swapping.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/dashboard"
	"github.com/aigateway/aigateway/internal/httpapi"
	"github.com/aigateway/aigateway/internal/httpapi/admin"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/policy/cache"
	"github.com/aigateway/aigateway/internal/policy/guardrails"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/routing"
	"github.com/aigateway/aigateway/internal/routing/rules"
	"github.com/aigateway/aigateway/internal/usage"
)

// Deps are process-wide resources that outlive config snapshots.
type Deps struct {
	Log *slog.Logger
	// HTTPClient calls providers (default: NewUpstreamClient()).
	HTTPClient *http.Client
	// Routing is what routing learns about upstreams (breakers, load,
	// route-limit counts); shared by every runtime so reloads keep it
	// (default: new per runtime).
	Routing *routing.State
	// Obs is the process-wide request accounting (logs, metrics, traces);
	// New builds it.
	Obs *Observability
	// Version is reported in traces (service.version).
	Version string
}

// Runtime is everything built from one config snapshot. It is immutable
// once built; requests hold on to the one they started with.
type Runtime struct {
	cfg          *config.Config
	stores       *Stores
	log          *slog.Logger
	registry     *provider.Registry
	aliases      map[string]routing.Alias
	routes       *rules.Set
	routing      *routing.State
	staticModels map[string][]string
	router       *routing.Router
	guard        *guardrails.Guard
	prompts      *promptService
	handler      pipeline.Handler
	// cache is the response cache (process-wide, see cache.go) and
	// cacheStage its stage for this snapshot.
	cache      *cache.Engine
	cacheStage pipeline.Middleware
	acc        *runtimeAccess // keys, issuers, limits, budgets (access.go)
	// obs is the process-wide accounting; pricer this snapshot's prices.
	obs    *Observability
	pricer *usage.Pricer
}

// Build constructs a runtime; it fails without side effects, so a bad
// reload leaves the running runtime untouched.
func Build(cfg *config.Config, d Deps, stores *Stores) (*Runtime, error) {
	rt := &Runtime{cfg: cfg, log: d.Log, stores: stores, obs: d.Obs}
	if rt.obs == nil {
		rt.obs = noObservability(cfg)
	}
	pricer, err := newPricer(cfg)
	if err != nil {
		return nil, fmt.Errorf("building pricing table: %w", err)
	}
	rt.pricer = pricer
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
	if err := rt.buildRouting(d.Routing); err != nil {
		return nil, err
	}
	if rt.guard, err = rt.buildGuardrails(); err != nil {
		return nil, err
	}
	if err := rt.buildPrompts(); err != nil {
		return nil, err
	}
	if err := rt.buildCache(); err != nil {
		return nil, err
	}
	if err := rt.buildAccess(); err != nil {
		return nil, err
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

// Ready implements httpx.Backend: every store must answer.
func (rt *Runtime) Ready(ctx context.Context) error { return rt.stores.Ping(ctx) }

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
	stores  *Stores
	current atomic.Pointer[Runtime]
	handler http.Handler

	closeOnce sync.Once
	closeErr  error
}

// New builds the first runtime and the HTTP handler.
func New(cfg *config.Config, d Deps) (*Gateway, error) {
	if d.HTTPClient == nil {
		d.HTTPClient = newUpstreamClient(cfg.Server.ConnectTimeout.D())
	}
	if d.Routing == nil {
		d.Routing = routing.NewState(routing.StateOptions{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stores, err := OpenStores(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if d.Obs == nil {
		if d.Obs, err = NewObservability(ctx, cfg, stores, d.Log, d.Version); err != nil {
			stores.Close()
			return nil, err
		}
	}
	d.HTTPClient = d.Obs.instrumentClient(d.HTTPClient)
	rt, err := Build(cfg, d, stores)
	if err != nil {
		d.Obs.Close(ctx)
		stores.Close()
		return nil, err
	}
	g := &Gateway{deps: d, stores: stores}
	g.current.Store(rt)
	g.handler = httpapi.New(httpapi.Options{
		Source: func() httpx.Backend { return g.current.Load() },
		Log:    d.Log,
		Extra: func(mux *http.ServeMux) {
			admin.Register(mux, admin.Options{Source: func() admin.Backend { return g.current.Load() }, Log: d.Log})
			d.Obs.registerRoutes(mux)
			dashboard.Register(mux)
		},
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
	rt, err := Build(cfg, g.deps, g.stores)
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

// Close flushes the request logs, closes the current runtime and the
// stores. Call it after the HTTP server has shut down, so every answered
// request is in the log queue; it is idempotent.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		g.closeErr = errors.Join(g.deps.Obs.Close(ctx), g.current.Load().Close(), g.stores.Close())
	})
	return g.closeErr
}

// Observability returns the process-wide accounting.
func (g *Gateway) Observability() *Observability { return g.deps.Obs }

// NewUpstreamClient returns the HTTP client for provider calls, tuned for a
// proxy: many idle connections per host (Go's default of 2 would open a new
// connection for most concurrent requests), HTTP/2 where providers offer
// it, no overall timeout (streams are long; attempts carry their own).
//
// Connection buffers are 1 KiB, a quarter of Go's default: an HTTP/1.1
// connection keeps both for as long as it lives (32 KiB ones made 5,000
// open streams cost 64 KiB each in buffers alone; 4 KiB ones 8 KiB), and
// they matter little for speed. A request's headers and a small body still
// leave in one write, a large body is written past the buffer in 32 KiB
// calls, and a paced stream's events arrive one read each whatever the
// size; only a burst of events costs more reads
// (BenchmarkUpstreamBufferSize counts them).
func NewUpstreamClient() *http.Client { return newUpstreamClient(0) }

// newUpstreamClient is NewUpstreamClient with a connect timeout (0: 10s).
func newUpstreamClient(connect time.Duration) *http.Client {
	if connect <= 0 {
		connect = 10 * time.Second
	}
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   connect,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ReadBufferSize:        upstreamBufferSize,
		WriteBufferSize:       upstreamBufferSize,
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

// upstreamBufferSize is the read and write buffer of every upstream
// connection; see NewUpstreamClient.
const upstreamBufferSize = 1 << 10
