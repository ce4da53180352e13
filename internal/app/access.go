package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/keys"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/policy/auth"
	"github.com/aigateway/aigateway/internal/policy/budget"
	"github.com/aigateway/aigateway/internal/policy/ipfilter"
	"github.com/aigateway/aigateway/internal/policy/ratelimit"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
	"github.com/aigateway/aigateway/internal/store/postgres"
	redisstore "github.com/aigateway/aigateway/internal/store/redis"
	"github.com/aigateway/aigateway/internal/store/sqlite"
)

// redisPrefix starts every key the gateway writes to Redis for limits and
// budgets.
const redisPrefix = "aig:"

// accessState is the process-wide state behind keys, limits and budgets.
// It outlives config reloads, so rate-limit counters, spend and the key
// cache survive them.
type accessState struct {
	keyStore store.KeyStore
	ring     *keys.Ring
	limiter  store.Limiter
	spend    store.SpendStore
	// shared is true when limits and spend are in Redis.
	shared bool

	limitFaults  atomic.Int64
	budgetFaults atomic.Int64
}

// openKeyStore migrates and returns the key store of the configured
// storage.
func openKeyStore(ctx context.Context, s *Stores) (store.KeyStore, error) {
	if s.Postgres != nil {
		return postgres.Keys(ctx, s.Postgres)
	}
	return sqlite.Keys(ctx, s.SQLite)
}

// access returns the process-wide access state, opening it on first use.
func (s *Stores) access(log *slog.Logger) (*accessState, error) {
	s.accessMu.Lock()
	defer s.accessMu.Unlock()
	if s.acc != nil {
		return s.acc, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ks, err := openKeyStore(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("opening key store: %w", err)
	}
	ring, err := keys.NewRing(ctx, keys.RingOptions{Store: ks, Log: log})
	if err != nil {
		return nil, fmt.Errorf("reading keys: %w", err)
	}
	a := &accessState{keyStore: ks, ring: ring}
	if s.Redis != nil {
		a.limiter, a.spend, a.shared = redisstore.NewLimiter(s.Redis, redisPrefix), redisstore.NewSpend(s.Redis, redisPrefix), true
	} else {
		a.limiter, a.spend = memory.NewLimiter(memory.LimiterOptions{}), memory.NewSpend(nil)
	}
	s.acc = a
	return a, nil
}

// closeAccess stops the key cache (writing pending last-used times).
func (s *Stores) closeAccess() {
	s.accessMu.Lock()
	defer s.accessMu.Unlock()
	if s.acc != nil {
		s.acc.ring.Close()
	}
}

// runtimeAccess is what one config snapshot adds: keys declared in the
// file and JWT issuers.
type runtimeAccess struct {
	*accessState
	declared []*store.Key
	static   map[string]*store.Key // declared keys by secret hash
	jwt      *auth.JWTVerifier
	manager  *keys.Manager
}

// buildAccess prepares the snapshot's keys and issuers.
func (rt *Runtime) buildAccess() error {
	shared, err := rt.stores.access(rt.log)
	if err != nil {
		return err
	}
	a := &runtimeAccess{accessState: shared, static: map[string]*store.Key{}}
	for _, ck := range rt.cfg.Keys {
		k := declaredKey(ck)
		a.declared = append(a.declared, k)
		a.static[k.SecretHash] = k
	}
	if len(rt.cfg.Auth.JWT) > 0 {
		var issuers []*auth.Issuer
		client := &http.Client{Timeout: 10 * time.Second}
		for _, j := range rt.cfg.Auth.JWT {
			issuers = append(issuers, &auth.Issuer{
				Name: j.Name, Issuer: j.Issuer, Audience: j.Audience, Algorithms: j.Algorithms, Leeway: j.Leeway.D(),
				UserClaim: j.Claims.User, TenantClaim: j.Claims.Tenant, TierClaim: j.Claims.Tier,
				Scope: pipeline.Scope{Models: j.Models, Providers: j.Providers},
				Keys:  auth.NewJWKS(j.JWKSURL, j.Issuer, client, j.JWKSRefresh.D()),
			})
		}
		a.jwt = auth.NewJWTVerifier(issuers, nil)
	}
	a.manager = &keys.Manager{Store: shared.keyStore, Declared: a.declared, OnChange: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shared.ring.Invalidate(ctx)
	}}
	rt.acc = a
	return nil
}

// declaredKey turns a config key into a stored one (never written).
func declaredKey(ck config.Key) *store.Key {
	k := &store.Key{
		ID: "cfg_" + ck.Name, Name: ck.Name, Tenant: ck.Tenant, Models: ck.Models, Providers: ck.Providers,
		AllowIPs: ck.AllowIPs, DenyIPs: ck.DenyIPs, RPM: ck.RPM, TPM: ck.TPM, BudgetUSD: ck.BudgetUSD,
		BudgetPeriod: ck.BudgetPeriod, ExpiresAt: ck.ExpiresAt.Time, Metadata: ck.Metadata,
		Enabled: ck.Enabled == nil || *ck.Enabled,
	}
	if ck.Secret != "" {
		k.SecretHash, k.Prefix = keys.Hash(ck.Secret), keys.DisplayPrefix(ck.Secret)
	} else {
		k.SecretHash, k.Prefix = strings.ToLower(ck.SHA256), "sha256:"+strings.ToLower(ck.SHA256)[:8]
	}
	return k
}

// LookupKey implements auth.KeyLookup: keys declared in the file first,
// then the store, asked only for secrets shaped like the gateway's own.
func (a *runtimeAccess) LookupKey(ctx context.Context, secret string) (*store.Key, error) {
	if len(a.static) > 0 {
		if k, ok := a.static[keys.Hash(secret)]; ok {
			return k, nil
		}
	}
	if !keys.LooksLikeKey(secret) {
		return nil, nil
	}
	return a.ring.Lookup(ctx, secret)
}

// authRequired reports whether callers must authenticate: as soon as any
// key exists (in the file or the store, revoked ones included) or a JWT
// issuer is configured.
func (a *runtimeAccess) authRequired() bool {
	return len(a.static) > 0 || a.jwt != nil || a.ring.HasKeys()
}

// AuthRequired reports whether the gateway requires credentials; without,
// it serves unauthenticated (SPEC §1).
func (rt *Runtime) AuthRequired() bool { return rt.acc.authRequired() }

// Keys implements admin.KeysService.
func (rt *Runtime) Keys() keys.Service { return rt.acc.manager }

// AccessFaults counts failures of the shared limit and budget stores
// since the process started (for metrics).
func (rt *Runtime) AccessFaults() (limits, budgets int64) {
	return rt.acc.limitFaults.Load(), rt.acc.budgetFaults.Load()
}

func (rt *Runtime) ipFilterStage() pipeline.Middleware {
	a := rt.cfg.Auth
	rules := ipfilter.Rules{Allow: ipfilter.MustParseList(a.AllowIPs), Deny: ipfilter.MustParseList(a.DenyIPs)}
	proxies := ipfilter.MustParseList(a.TrustedProxies)
	if rules.Empty() && len(proxies) == 0 {
		return nil
	}
	return ipfilter.New(ipfilter.Options{TrustedProxies: proxies, Rules: rules})
}

func (rt *Runtime) authStage() pipeline.Middleware {
	a := rt.acc
	o := auth.Options{
		Keys:     a,
		Required: a.authRequired,
		Touch: func(id string) {
			if strings.HasPrefix(id, "key_") {
				a.ring.Touch(id)
			}
		},
	}
	if a.jwt != nil {
		o.JWT = a.jwt
	}
	return auth.New(o)
}

func (rt *Runtime) scopeStage() pipeline.Middleware {
	return auth.Scope(auth.ScopeOptions{Routed: rt.routed})
}

// routed reports whether a model name is an alias or a route.
func (rt *Runtime) routed(model string) bool {
	if _, ok := rt.aliases[model]; ok {
		return true
	}
	_, ok := rt.routes.Lookup(model)
	return ok
}

// providerOf names the provider of an alias's first deployment.
func (rt *Runtime) providerOf(model string) string {
	a, ok := rt.aliases[model]
	for depth := 0; ok && depth < 8 && len(a.Targets) > 0; depth++ {
		t := a.Targets[0]
		if t.Alias == "" {
			return t.ProviderID
		}
		a, ok = rt.aliases[t.Alias]
	}
	return ""
}

func (rt *Runtime) rateLimitStage() pipeline.Middleware {
	l := rt.cfg.Limits
	rules := make([]ratelimit.Rule, len(l.Rules))
	for i, r := range l.Rules {
		rules[i] = ratelimit.Rule{
			Name: r.Name, By: r.By, Requests: r.Requests, Tokens: r.Tokens, Window: r.Window.D(),
			Fixed: r.Algorithm == "fixed", Models: r.Models, Tenants: r.Tenants, Tiers: r.Tiers,
		}
	}
	return ratelimit.New(ratelimit.Options{
		Limiter: rt.acc.limiter, Rules: rules, FailOpen: l.OnStoreError == config.FailOpen,
		Timeout: l.StoreTimeout.D(), ProviderOf: rt.providerOf, Faults: &rt.acc.limitFaults, Log: rt.log,
	})
}

func (rt *Runtime) concurrencyStage() pipeline.AttemptMiddleware {
	l := rt.cfg.Limits
	rules := make([]ratelimit.ConcurrencyRule, len(l.Concurrency))
	for i, c := range l.Concurrency {
		rules[i] = ratelimit.ConcurrencyRule{Models: c.Models, PerProvider: c.Per == "provider", Max: c.Max}
	}
	return ratelimit.Concurrency(ratelimit.ConcurrencyOptions{
		Limiter: rt.acc.limiter, Rules: rules, FailOpen: l.OnStoreError == config.FailOpen,
		Timeout: l.StoreTimeout.D(), Faults: &rt.acc.limitFaults, Log: rt.log,
	})
}

func (rt *Runtime) budgetStage() pipeline.Middleware {
	b := rt.cfg.Budgets
	tenants := make(map[string]budget.Tenant, len(b.Tenants))
	for _, t := range b.Tenants {
		tenants[t.Tenant] = budget.Tenant{USD: t.USD, Period: t.Period, Fallback: t.FallbackModel}
	}
	return budget.New(budget.Options{
		Spend: rt.acc.spend, Tenants: tenants, Fallback: b.FallbackModel, FailOpen: b.OnStoreError == config.FailOpen,
		Timeout: rt.cfg.Limits.StoreTimeout.D(), Faults: &rt.acc.budgetFaults, Log: rt.log,
	})
}

// OpenKeyManager opens the key store cfg names, for the CLI working
// without a running gateway (a key can be created before the first
// start). close releases the store.
func OpenKeyManager(ctx context.Context, cfg *config.Config) (m *keys.Manager, close func(), err error) {
	s, err := OpenStores(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	ks, err := openKeyStore(ctx, s)
	if err != nil {
		s.Close()
		return nil, nil, fmt.Errorf("opening key store: %w", err)
	}
	m = &keys.Manager{Store: ks}
	for _, ck := range cfg.Keys {
		m.Declared = append(m.Declared, declaredKey(ck))
	}
	return m, func() { s.Close() }, nil
}
