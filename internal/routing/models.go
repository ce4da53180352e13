package routing

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
)

// modelListTTL is how long an upstream model listing is reused; failed
// listings are retried sooner.
const (
	modelListTTL      = 5 * time.Minute
	modelListRetry    = 30 * time.Second
	modelListDeadline = 3 * time.Second
)

// modelCatalog lists models: configured ones, upstream listings (cached),
// and aliases.
type modelCatalog struct {
	mu      sync.Mutex
	entries map[string]listing // provider id → last upstream listing
}

type listing struct {
	models  []llm.Model
	expires time.Time
}

// Models returns every model a client may ask for, sorted by id.
func (r *Router) Models(ctx context.Context) []llm.Model {
	now := time.Now()
	seen := map[string]bool{}
	var out []llm.Model
	add := func(m llm.Model) {
		if !seen[m.ID] {
			seen[m.ID] = true
			out = append(out, m)
		}
	}
	for name := range r.opts.Aliases {
		add(llm.Model{ID: name, Object: "model", Created: now.Unix(), OwnedBy: "aigateway"})
	}
	if r.opts.Routes != nil {
		for _, name := range r.opts.Routes.Names() {
			add(llm.Model{ID: name, Object: "model", Created: now.Unix(), OwnedBy: "aigateway"})
		}
	}
	for _, id := range r.opts.Registry.IDs() {
		for _, m := range r.opts.StaticModels[id] {
			add(llm.Model{ID: id + "/" + m, Object: "model", Created: now.Unix(), OwnedBy: id})
		}
	}
	for _, m := range r.upstreamModels(ctx) {
		add(m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// upstreamModels asks every provider that can list models, in parallel,
// reusing recent answers.
func (r *Router) upstreamModels(ctx context.Context) []llm.Model {
	cat := &r.catalog
	now := time.Now()
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out []llm.Model
	)
	for _, id := range r.opts.Registry.IDs() {
		p, _ := r.opts.Registry.Lookup(id)
		lister, ok := p.(provider.ModelLister)
		if !ok {
			continue
		}
		cat.mu.Lock()
		e, cached := cat.entries[id]
		cat.mu.Unlock()
		if cached && now.Before(e.expires) {
			out = append(out, e.models...)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			lctx, cancel := context.WithTimeout(ctx, modelListDeadline)
			defer cancel()
			models, err := lister.ListModels(lctx)
			e := listing{models: models, expires: time.Now().Add(modelListTTL)}
			if err != nil {
				e = listing{expires: time.Now().Add(modelListRetry)}
			}
			cat.mu.Lock()
			if cat.entries == nil {
				cat.entries = map[string]listing{}
			}
			cat.entries[id] = e
			cat.mu.Unlock()
			mu.Lock()
			out = append(out, e.models...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}
