// Package cache is the response cache stage: exact (a digest of the
// canonical request) and semantic (a similar prompt with the same model and
// parameters), for chat, embeddings and provider-native passthrough,
// streamed or not, namespaced per tenant, with concurrent identical misses
// coalesced into one upstream call.
//
// The stage sits outside usage accounting and routing: a hit makes no
// upstream call and costs nothing. Every call that passes it gets
// x-aig-cache-status: HIT, SEMANTIC_HIT, MISS or BYPASS.
//
// The Engine is the process-wide part (backend, semantic index, flights in
// progress, counters) and outlives config reloads; Stage builds the stage
// of one config snapshot from a Policy.
package cache

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/store"
)

// Cache statuses, as sent in x-aig-cache-status and kept in
// Outcome.CacheStatus.
const (
	StatusHit         = "HIT"
	StatusSemanticHit = "SEMANTIC_HIT"
	StatusMiss        = "MISS"
	StatusBypass      = "BYPASS"
)

// HeaderStatus is the response header with the cache status.
const HeaderStatus = "x-aig-cache-status"

// cooldown is how long the cache is skipped after a backend failure, so an
// unreachable Redis costs one timeout, not one per request.
const cooldown = time.Second

// EngineOptions configure an Engine.
type EngineOptions struct {
	// Backend stores entries (required).
	Backend store.Cache
	// Index stores prompt vectors; nil disables the semantic cache.
	Index store.VectorIndex
	// Name describes the backend in figures ("memory", "redis").
	Name string
	Log  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Engine is the process-wide state of the cache.
type Engine struct {
	opts    EngineOptions
	flights flights
	stats   counters
	// downUntil is when the backend may be tried again after a failure
	// (unix nanoseconds; 0 when healthy).
	downUntil atomic.Int64
	pending   sync.WaitGroup // stores in progress
}

// NewEngine returns an engine on the backend.
func NewEngine(o EngineOptions) *Engine {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Engine{opts: o}
}

// Wait blocks until the entries being stored are stored.
func (e *Engine) Wait() { e.pending.Wait() }

// Policy is the cache configuration of one snapshot. The zero value caches
// nothing unless a request sends x-aig-cache-ttl.
type Policy struct {
	// Rules enable caching per requested model; the first match applies.
	Rules []Rule
	// DefaultTTL applies when neither rule nor request sets one.
	DefaultTTL time.Duration
	// MaxTTL bounds every TTL (0: no bound).
	MaxTTL time.Duration
	// MaxEntryBytes: larger answers are not stored (0: 4 MiB).
	MaxEntryBytes int
	// Timeout bounds each backend operation on the request path (0: none,
	// for backends that do no I/O).
	Timeout time.Duration
	// Semantic configures the semantic cache of rules that enable it.
	Semantic Semantic
	// Targets returns a fingerprint of what a model name resolves to
	// (alias targets and their parameters), so that re-pointing an alias
	// changes its keys; nil keys on the name alone.
	Targets func(model string) string
}

// Rule enables caching for the models matching a glob.
type Rule struct {
	// Match is a glob over the requested model ('*' any run, '?' one).
	Match string
	// TTL overrides the default (0: the default).
	TTL time.Duration
	// Shared puts entries in one namespace for all tenants.
	Shared bool
	// Semantic enables similarity lookups for chat requests.
	Semantic bool
}

// Semantic configures similarity lookups.
type Semantic struct {
	// Embedder embeds prompts (nil: LocalEmbedder).
	Embedder Embedder
	// Threshold is the least cosine similarity that counts as a hit.
	Threshold float64
	// MaxTemperature: requests above it are not eligible.
	MaxTemperature float64
	// Timeout bounds the embedding of one prompt (0: 10s).
	Timeout time.Duration
}

// Stage returns the cache stage for a policy.
func (e *Engine) Stage(p Policy) pipeline.Middleware {
	if p.MaxEntryBytes <= 0 {
		p.MaxEntryBytes = 4 << 20
	}
	if p.Semantic.Embedder == nil {
		p.Semantic.Embedder = LocalEmbedder{}
	}
	if p.Semantic.Timeout <= 0 {
		p.Semantic.Timeout = 10 * time.Second
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return &stage{e: e, p: p, next: next}
	}
}

type stage struct {
	e    *Engine
	p    Policy
	next pipeline.Handler
}

// decision is how one call is cached.
type decision struct {
	ttl      time.Duration
	ns       string
	key      string
	semantic bool
}

// Serve implements pipeline.Handler.
func (s *stage) Serve(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
	d, ok := s.decide(c)
	if !ok || !s.e.available() {
		if ok {
			s.e.stats.unavailable.Add(1)
		}
		return s.bypass(ctx, c)
	}
	raw, err := s.get(ctx, d.key)
	switch {
	case err == nil:
		if res, ok := s.answer(c, raw, StatusHit); ok {
			return res, nil
		}
	case !errors.Is(err, store.ErrNotFound):
		s.e.fault("looking up", err)
		return s.bypass(ctx, c)
	}
	f, leader := s.e.flights.join(d.key)
	if leader {
		return s.lead(ctx, c, d, f)
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, gwerr.As(ctx.Err())
	}
	if f.entry != nil {
		if res, ok := s.answer(c, f.entry, f.status); ok {
			s.e.stats.coalesced.Add(1)
			return res, nil
		}
	}
	return s.lead(ctx, c, d, nil)
}

// decide returns how c is cached; ok is false when it is not.
func (s *stage) decide(c *pipeline.Call) (decision, bool) {
	var d decision
	if c.Options.SkipCache {
		return d, false
	}
	switch {
	case c.Kind == pipeline.KindChat && c.Chat != nil:
	case c.Kind == pipeline.KindEmbed && c.Embed != nil:
	case c.Kind == pipeline.KindNative && c.Native != nil &&
		(c.Native.Method == http.MethodPost || c.Native.Method == http.MethodGet):
	default:
		return d, false
	}
	var rule *Rule
	for i := range s.p.Rules {
		if match(s.p.Rules[i].Match, c.Model) {
			rule = &s.p.Rules[i]
			break
		}
	}
	switch {
	case c.Options.CacheTTLSet:
		d.ttl = c.Options.CacheTTL
	case rule == nil:
		return d, false
	case rule.TTL > 0:
		d.ttl = rule.TTL
	default:
		d.ttl = s.p.DefaultTTL
	}
	if s.p.MaxTTL > 0 && d.ttl > s.p.MaxTTL {
		d.ttl = s.p.MaxTTL
	}
	if d.ttl <= 0 {
		return d, false
	}
	d.ns = Namespace(c.Identity.Tenant, rule != nil && rule.Shared)
	d.semantic = rule != nil && rule.Semantic && s.e.opts.Index != nil && c.Kind == pipeline.KindChat &&
		c.Options.CacheKey == "" && temperature(c.Chat) <= s.p.Semantic.MaxTemperature
	if c.Options.CacheKey != "" {
		d.key = entryKey(d.ns, c.Options.CacheKey, "")
		return d, true
	}
	dg, err := requestDigest(c, s.target(c.Model))
	if err != nil {
		s.e.opts.Log.Debug("request not cacheable", "log_id", c.ID, "error", err)
		return d, false
	}
	d.key = entryKey(d.ns, "", dg)
	return d, true
}

func (s *stage) target(model string) string {
	if s.p.Targets == nil {
		return model
	}
	return model + "\x00" + s.p.Targets(model)
}

func (s *stage) bypass(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
	s.e.stats.bypasses.Add(1)
	setStatus(c, StatusBypass)
	return s.next.Serve(ctx, c)
}

func setStatus(c *pipeline.Call, status string) {
	c.Outcome.CacheStatus = status
	c.SetHeader(HeaderStatus, status)
}

// answer serves c from an encoded entry.
func (s *stage) answer(c *pipeline.Call, raw []byte, status string) (*pipeline.Result, bool) {
	e, err := decodeEntry(raw)
	if err != nil {
		return nil, false
	}
	res, ok := e.result(c)
	if !ok {
		return nil, false
	}
	if status == StatusSemanticHit {
		s.e.stats.semanticHits.Add(1)
	} else {
		s.e.stats.hits.Add(1)
	}
	setStatus(c, status)
	c.Outcome.Provider, c.Outcome.ServedModel = e.meta.Provider, e.meta.Model
	return res, true
}

// lead makes the upstream call for a miss and records its answer. f is
// nil for a call that is not coalesced (its leader failed).
func (s *stage) lead(ctx context.Context, c *pipeline.Call, d decision, f *flight) (res *pipeline.Result, err error) {
	handedOver := false
	defer func() {
		// whatever happens here (an error, a panic), followers must not
		// wait for an answer that will never come
		if !handedOver && f != nil {
			s.e.flights.fail(d.key, f)
		}
	}()
	if f != nil {
		// the answer may have been stored between our lookup and join
		if raw, err := s.get(ctx, d.key); err == nil {
			if res, ok := s.answer(c, raw, StatusHit); ok {
				f.finish(raw, StatusHit)
				return res, nil
			}
		}
	}
	var sem *semanticLookup
	if d.semantic {
		var hit *pipeline.Result
		var raw []byte
		sem, hit, raw = s.semantic(ctx, c, d)
		if hit != nil {
			if f != nil {
				f.finish(raw, StatusSemanticHit)
			}
			return hit, nil
		}
	}
	s.e.stats.misses.Add(1)
	setStatus(c, StatusMiss)
	res, err = s.next.Serve(ctx, c)
	if err != nil {
		return nil, err
	}
	rec := &recording{s: s, c: c, d: d, f: f, sem: sem}
	handedOver = rec.attach(res)
	return res, nil
}

// get reads the backend under the policy's timeout.
func (s *stage) get(ctx context.Context, key string) ([]byte, error) {
	if s.p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.p.Timeout)
		defer cancel()
	}
	b, err := s.e.opts.Backend.Get(ctx, key)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		s.e.recovered()
	}
	return b, err
}

// available reports whether the backend is to be used; after a failure it
// is skipped for the cooldown.
func (e *Engine) available() bool {
	until := e.downUntil.Load()
	return until == 0 || e.opts.Now().UnixNano() >= until
}

// fault counts a backend failure and rests the backend for the cooldown.
// It is logged once per outage, not once per request.
func (e *Engine) fault(doing string, err error) {
	e.stats.faults.Add(1)
	prev := e.downUntil.Swap(e.opts.Now().Add(cooldown).UnixNano())
	if prev == 0 {
		e.opts.Log.Warn("cache backend failed; serving uncached until it answers again", "backend", e.opts.Name, "doing", doing, "error", err)
	}
}

// recovered marks the backend healthy after a successful operation.
func (e *Engine) recovered() {
	if e.downUntil.Load() != 0 && e.downUntil.Swap(0) != 0 {
		e.opts.Log.Info("cache backend answers again", "backend", e.opts.Name)
	}
}

// store writes an entry (and its prompt vector) in the background, then
// ends the flight: the client's answer never waits for the backend.
func (s *stage) store(d decision, f *flight, raw []byte, sem *semanticLookup) {
	s.e.pending.Add(1)
	go func() {
		defer s.e.pending.Done()
		if f != nil {
			defer s.e.flights.remove(d.key, f)
		}
		ctx := context.Background()
		if s.p.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, s.p.Timeout)
			defer cancel()
		}
		if err := s.e.opts.Backend.Set(ctx, d.key, raw, d.ttl); err != nil {
			s.e.fault("storing", err)
			return
		}
		s.e.recovered()
		s.e.stats.stores.Add(1)
		if sem != nil && sem.vec != nil {
			if err := s.e.opts.Index.Add(ctx, sem.scope, d.key, sem.vec, d.ttl); err != nil {
				s.e.fault("indexing", err)
			}
		}
	}()
}

// cacheableChat reports whether a chat answer is complete enough to
// store: every choice ended with a finish reason (a stream cut short
// without an error is not).
func cacheableChat(r *llm.ChatResponse) bool {
	if r == nil || len(r.Choices) == 0 {
		return false
	}
	for _, ch := range r.Choices {
		if ch.FinishReason == "" {
			return false
		}
	}
	return true
}

var _ pipeline.Handler = (*stage)(nil)
