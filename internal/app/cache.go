package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/admin"
	"github.com/aigateway/aigateway/internal/policy/cache"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
	"github.com/aigateway/aigateway/internal/store/redis"
)

// cacheHolder keeps the response cache's process-wide state (entries,
// counters, flights in progress) across config reloads: a reload that
// keeps the backend keeps the cache warm. It lives in Stores.
type cacheHolder struct {
	mu     sync.Mutex
	shape  string // what the engine was built for; another shape rebuilds it
	engine *cache.Engine
	mem    *memory.Cache
}

// engineFor returns the engine for cfg's backend, reusing the current one
// when the backend is the same.
func (h *cacheHolder) engineFor(cfg *config.Config, rdb *goredis.Client, log *slog.Logger) (*cache.Engine, error) {
	cc := &cfg.Cache
	shape := fmt.Sprintf("%s|%s|%d|%d", cc.Backend, cc.RedisPrefix, cc.Semantic.MaxEntries, cc.Semantic.MaxVectors)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.engine != nil && h.shape == shape {
		if h.mem != nil {
			h.mem.SetMaxBytes(cc.MaxBytes)
		}
		return h.engine, nil
	}
	var (
		backend store.Cache
		index   store.VectorIndex
		mem     *memory.Cache
	)
	switch cc.Backend {
	case config.CacheRedis:
		if rdb == nil {
			return nil, errors.New("cache.backend: redis needs redis.url")
		}
		c, err := redis.NewCache(redis.CacheOptions{Client: rdb, Prefix: cc.RedisPrefix, MaxValueBytes: cc.MaxEntryBytes * 2})
		if err != nil {
			return nil, err
		}
		x, err := redis.NewVectorIndex(redis.VectorOptions{Client: rdb, Prefix: cc.RedisPrefix,
			MaxPerScope: cc.Semantic.MaxEntries, ScopeTTL: cc.MaxTTL.D()})
		if err != nil {
			return nil, err
		}
		backend, index = c, x
	default:
		c, err := memory.NewCache(memory.CacheOptions{MaxBytes: cc.MaxBytes})
		if err != nil {
			return nil, err
		}
		x, err := memory.NewVectorIndex(memory.VectorOptions{MaxPerScope: cc.Semantic.MaxEntries, MaxTotal: cc.Semantic.MaxVectors})
		if err != nil {
			c.Close()
			return nil, err
		}
		backend, index, mem = c, x, c
	}
	if h.mem != nil {
		h.engine.Wait()
		h.mem.Close()
	}
	h.shape, h.mem = shape, mem
	h.engine = cache.NewEngine(cache.EngineOptions{Backend: backend, Index: index, Name: cc.Backend, Log: log})
	return h.engine, nil
}

// close waits for entries being stored and stops the memory cache.
func (h *cacheHolder) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.engine != nil {
		h.engine.Wait()
	}
	if h.mem != nil {
		return h.mem.Close()
	}
	return nil
}

// buildCache prepares the cache stage of this snapshot.
func (rt *Runtime) buildCache() error {
	cc := &rt.cfg.Cache
	engine, err := rt.stores.cache.engineFor(rt.cfg, rt.stores.Redis, rt.log)
	if err != nil {
		return err
	}
	p := cache.Policy{
		DefaultTTL:    cc.DefaultTTL.D(),
		MaxTTL:        cc.MaxTTL.D(),
		MaxEntryBytes: int(cc.MaxEntryBytes),
		Semantic: cache.Semantic{
			Threshold:      cc.Semantic.Threshold,
			MaxTemperature: *cc.Semantic.MaxTemperature,
		},
		Targets: rt.modelFingerprints(),
	}
	if cc.Backend == config.CacheRedis {
		p.Timeout = cc.Timeout.D()
	}
	for _, r := range cc.Models {
		p.Rules = append(p.Rules, cache.Rule{Match: r.Match, TTL: r.TTL.D(), Shared: r.Shared, Semantic: r.Semantic})
	}
	if m := cc.Semantic.EmbeddingModel; m != "" {
		e, err := rt.embedder(m)
		if err != nil {
			return fmt.Errorf("cache.semantic.embedding_model: %w", err)
		}
		p.Semantic.Embedder = e
	}
	rt.cache = engine
	rt.cacheStage = engine.Stage(p)
	return nil
}

// embedder resolves the semantic cache's embedding model: a
// provider/model or an alias (its first deployment), whose provider must
// have embeddings.
func (rt *Runtime) embedder(model string) (cache.Embedder, error) {
	pid, name := "", ""
	for depth := 0; depth < 8 && pid == ""; depth++ {
		a, ok := rt.aliases[model]
		if !ok {
			p, m, ok := provider.SplitModel(model)
			if !ok {
				return nil, fmt.Errorf("%q is neither an alias nor provider/model", model)
			}
			pid, name = p, m
			break
		}
		if len(a.Targets) == 0 {
			return nil, fmt.Errorf("alias %q has no targets", model)
		}
		if t := a.Targets[0]; t.Alias != "" {
			model = t.Alias
		} else {
			pid, name = t.ProviderID, t.Model
		}
	}
	p, ok := rt.registry.Lookup(pid)
	if !ok {
		return nil, fmt.Errorf("provider %q of %q is not enabled", pid, model)
	}
	e, ok := p.(provider.Embedder)
	if !ok {
		return nil, fmt.Errorf("provider %q has no embeddings endpoint", pid)
	}
	return cache.ProviderEmbedder{Provider: e, ID: pid, Model: name}, nil
}

// modelFingerprints describes what a requested model name resolves to in
// this config: the route that serves it and the alias it names (with the
// aliases that alias falls back on), as configured. Editing a route or
// re-pointing an alias therefore starts its entries afresh. A route's
// branches are not told apart: the cache sits before routing, so one
// answer serves every branch of a route's splits and cases.
func (rt *Runtime) modelFingerprints() func(string) string {
	defs := map[string][]byte{}
	for _, a := range rt.cfg.Models {
		b, _ := json.Marshal(a)
		defs["alias:"+a.Name] = b
	}
	for _, r := range rt.cfg.Routes {
		b, _ := json.Marshal(r)
		defs["route:"+r.Name] = b
	}
	if len(defs) == 0 {
		return nil
	}
	var alias func(b *strings.Builder, name string, depth int)
	alias = func(b *strings.Builder, name string, depth int) {
		def, ok := defs["alias:"+name]
		if !ok || depth > 8 {
			return
		}
		b.Write(def)
		for _, t := range rt.aliases[name].Targets {
			if t.Alias != "" {
				alias(b, t.Alias, depth+1)
			}
		}
	}
	routes := rt.routes
	return func(model string) string {
		var b strings.Builder
		if name, ok := routes.Lookup(model); ok {
			b.Write(defs["route:"+name])
		}
		alias(&b, model, 0)
		return b.String()
	}
}

// CacheFigures implements admin.CacheService.
func (rt *Runtime) CacheFigures(ctx context.Context) (any, error) {
	return rt.cache.Figures(ctx), nil
}

// PurgeCache implements admin.CacheService.
func (rt *Runtime) PurgeCache(ctx context.Context, p admin.CachePurge) (int, error) {
	n, err := rt.cache.Purge(ctx, cache.Purge{All: p.All, Tenant: p.Tenant, Shared: p.Shared, Key: p.Key, Prefix: p.Prefix})
	switch {
	case errors.Is(err, cache.ErrBadPurge):
		return 0, gwerr.BadRequest("", "%s", strings.TrimPrefix(err.Error(), cache.ErrBadPurge.Error()+": "))
	case err != nil:
		e := gwerr.New(gwerr.KindGateway, 503, "the cache backend did not answer; %d entries were purged before it failed", n)
		e.Cause = err
		return n, e
	}
	return n, nil
}

var _ admin.CacheService = (*Runtime)(nil)
