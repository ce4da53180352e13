package usage

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

//go:embed pricing.json
var builtinPricing []byte

// Price is what a model costs, in USD per million tokens.
type Price struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
	// CachedInput prices prompt tokens read from the provider's prompt
	// cache; CacheWrite those written to it.
	CachedInput float64 `json:"cached_input"`
	CacheWrite  float64 `json:"cache_write"`
}

// PriceEntry is one row of a pricing table. Provider "" matches every
// provider; Model "*" matches every model of its provider.
type PriceEntry struct {
	Provider string
	Model    string
	Price    Price
}

// Table looks up model prices. The built-in table ships with the binary
// (pricing.json); configuration overrides and extends it. A Table is safe
// for concurrent use.
type Table struct {
	layers []layer // overrides first, then the built-in table

	cache     sync.Map // provider "\x00" model → lookupResult
	cacheSize atomic.Int64
}

// maxCachedLookups bounds the lookup cache: model names come from clients.
const maxCachedLookups = 4096

type lookupResult struct {
	price Price
	ok    bool
}

type layer struct {
	byProvider map[string][]PriceEntry // longest model first
	wildcard   map[string]Price        // provider → its "*" price
	generic    []PriceEntry            // provider "": any provider
	all        []PriceEntry            // every named entry, longest first
}

type rawEntry struct {
	Provider    string   `json:"provider"`
	Model       string   `json:"model"`
	Input       *float64 `json:"input"`
	Output      *float64 `json:"output"`
	CachedInput *float64 `json:"cached_input"`
	CacheWrite  *float64 `json:"cache_write"`
}

// BuiltinPrices returns the entries of the shipped pricing table.
func BuiltinPrices() ([]PriceEntry, error) {
	var doc struct {
		Models []rawEntry `json:"models"`
	}
	if err := json.Unmarshal(builtinPricing, &doc); err != nil {
		return nil, fmt.Errorf("decoding built-in pricing table: %w", err)
	}
	out := make([]PriceEntry, 0, len(doc.Models))
	for i, r := range doc.Models {
		if r.Model == "" || r.Input == nil || r.Output == nil {
			return nil, fmt.Errorf("built-in pricing table entry %d: model, input and output are required", i)
		}
		out = append(out, PriceEntry{Provider: r.Provider, Model: r.Model,
			Price: NewPrice(*r.Input, *r.Output, r.CachedInput, r.CacheWrite)})
	}
	return out, nil
}

// NewPrice builds a price; cache reads and writes cost the input price
// unless given.
func NewPrice(input, output float64, cachedInput, cacheWrite *float64) Price {
	p := Price{Input: input, Output: output, CachedInput: input, CacheWrite: input}
	if cachedInput != nil {
		p.CachedInput = *cachedInput
	}
	if cacheWrite != nil {
		p.CacheWrite = *cacheWrite
	}
	return p
}

// NewTable returns the built-in table with overrides taking precedence.
func NewTable(overrides []PriceEntry) (*Table, error) {
	builtin, err := BuiltinPrices()
	if err != nil {
		return nil, err
	}
	return &Table{layers: []layer{newLayer(overrides), newLayer(builtin)}}, nil
}

// MustBuiltinTable returns the built-in table; the embedded data is tested,
// so a failure is a build defect.
func MustBuiltinTable() *Table {
	t, err := NewTable(nil)
	if err != nil {
		panic(err)
	}
	return t
}

func newLayer(entries []PriceEntry) layer {
	l := layer{byProvider: map[string][]PriceEntry{}, wildcard: map[string]Price{}}
	for _, e := range entries {
		switch {
		case e.Model == "*":
			l.wildcard[e.Provider] = e.Price
		case e.Provider == "":
			l.generic = append(l.generic, e)
			l.all = append(l.all, e)
		default:
			l.byProvider[e.Provider] = append(l.byProvider[e.Provider], e)
			l.all = append(l.all, e)
		}
	}
	longestFirst := func(es []PriceEntry) {
		sort.SliceStable(es, func(i, j int) bool { return len(es[i].Model) > len(es[j].Model) })
	}
	for _, es := range l.byProvider {
		longestFirst(es)
	}
	longestFirst(l.generic)
	longestFirst(l.all)
	return l
}

// Lookup returns the price of model as served by provider. In order: the
// provider's own entries (overrides and built-in; the most specific model
// name wins, an override on a tie), the provider's "*" entry, entries
// configured for any provider, and last the same model name under any
// provider in the built-in table (Azure serves OpenAI's models, Bedrock
// Anthropic's).
func (t *Table) Lookup(provider, model string) (Price, bool) {
	if t == nil || model == "" {
		return Price{}, false
	}
	key := provider + "\x00" + model
	if v, ok := t.cache.Load(key); ok {
		r := v.(lookupResult)
		return r.price, r.ok
	}
	p, ok := t.lookup(provider, model)
	if t.cacheSize.Load() < maxCachedLookups {
		if _, loaded := t.cache.LoadOrStore(key, lookupResult{p, ok}); !loaded {
			t.cacheSize.Add(1)
		}
	}
	return p, ok
}

func (t *Table) lookup(provider, model string) (Price, bool) {
	names := candidateNames(model)
	if e, ok := t.longest(names, func(l *layer) []PriceEntry { return l.byProvider[provider] }); ok {
		return e.Price, true
	}
	for i := range t.layers {
		if p, ok := t.layers[i].wildcard[provider]; ok {
			return p, true
		}
	}
	if e, ok := t.longest(names, func(l *layer) []PriceEntry { return l.generic }); ok {
		return e.Price, true
	}
	if e, ok := t.longest(names, func(l *layer) []PriceEntry { return l.all }); ok {
		return e.Price, true
	}
	return Price{}, false
}

// longest finds the most specific entry for the first name that matches
// any layer: the longest model wins across layers (an override of gpt-4o
// must not price gpt-4o-mini), and on a tie the override.
func (t *Table) longest(names []string, entries func(*layer) []PriceEntry) (PriceEntry, bool) {
	for _, n := range names {
		var best PriceEntry
		found := false
		for i := range t.layers {
			if e, ok := longestMatch(entries(&t.layers[i]), n); ok && (!found || len(e.Model) > len(best.Model)) {
				best, found = e, true
			}
		}
		if found {
			return best, true
		}
	}
	return PriceEntry{}, false
}

// candidateNames are the forms a served model name is looked up under: as
// is, without a Bedrock cross-region prefix (us.anthropic.… →
// anthropic.…), without Gemini's "models/" and without a vendor prefix
// (OpenRouter's openai/gpt-4o → gpt-4o).
func candidateNames(model string) []string {
	names := []string{model}
	m := strings.TrimPrefix(model, "models/")
	for _, region := range []string{"us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."} {
		if rest, ok := strings.CutPrefix(m, region); ok && strings.Contains(rest, ".") {
			m = rest
			break
		}
	}
	if m != model {
		names = append(names, m)
	}
	if i := strings.LastIndexByte(m, '/'); i >= 0 && i < len(m)-1 {
		names = append(names, m[i+1:])
	}
	return names
}

// longestMatch finds the entry whose model is name or a prefix of it
// followed by a separator ("gpt-4o" prices "gpt-4o-2024-08-06", never
// "gpt-4.1"); entries are sorted longest first, so the first match is the
// most specific.
func longestMatch(es []PriceEntry, name string) (PriceEntry, bool) {
	for _, e := range es {
		if matchesModel(e.Model, name) {
			return e, true
		}
	}
	return PriceEntry{}, false
}

func matchesModel(key, name string) bool {
	if len(name) < len(key) || !strings.EqualFold(name[:len(key)], key) {
		return false
	}
	if len(name) == len(key) {
		return true
	}
	switch name[len(key)] {
	case '-', ':', '@', '_':
		return true
	}
	return false
}
