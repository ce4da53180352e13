package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// counters are the engine's figures since the process started.
type counters struct {
	hits, semanticHits, misses, bypasses atomic.Int64
	coalesced, stores, tooLarge          atomic.Int64
	faults, unavailable, embedFaults     atomic.Int64
}

// Figures are the cache's size and effect, for the admin API.
type Figures struct {
	Backend  string `json:"backend"`
	Entries  int64  `json:"entries"`
	Bytes    int64  `json:"bytes"`
	MaxBytes int64  `json:"max_bytes,omitempty"`
	// Hits counts exact hits, coalesced followers included.
	Hits         int64 `json:"hits"`
	SemanticHits int64 `json:"semantic_hits"`
	Misses       int64 `json:"misses"`
	Bypasses     int64 `json:"bypasses"`
	// HitRate is (hits + semantic hits) / (hits + semantic hits + misses);
	// bypassed calls are not counted.
	HitRate float64 `json:"hit_rate"`
	// Coalesced counts calls served by another call's upstream answer.
	Coalesced int64 `json:"coalesced"`
	Stores    int64 `json:"stores"`
	// TooLarge counts answers not stored for their size.
	TooLarge int64 `json:"too_large"`
	// Faults counts failed backend operations; Unavailable counts calls
	// served uncached while the backend rested after one.
	Faults      int64 `json:"faults"`
	Unavailable int64 `json:"unavailable"`
	// EmbedFaults counts prompts the semantic cache could not embed.
	EmbedFaults int64 `json:"embed_faults"`
	// InFlight is the number of upstream calls others are waiting on.
	InFlight int `json:"in_flight"`
	// SizeError says why Entries and Bytes are missing (backend down).
	SizeError string `json:"size_error,omitempty"`
}

// Figures returns the counters of this process and the backend's size.
// With Redis the counters are this replica's, the size is the shared one.
func (e *Engine) Figures(ctx context.Context) Figures {
	s := &e.stats
	f := Figures{
		Backend: e.opts.Name,
		Hits:    s.hits.Load(), SemanticHits: s.semanticHits.Load(),
		Misses: s.misses.Load(), Bypasses: s.bypasses.Load(),
		Coalesced: s.coalesced.Load(), Stores: s.stores.Load(), TooLarge: s.tooLarge.Load(),
		Faults: s.faults.Load(), Unavailable: s.unavailable.Load(), EmbedFaults: s.embedFaults.Load(),
		InFlight: e.flights.len(),
	}
	if served := f.Hits + f.SemanticHits + f.Misses; served > 0 {
		f.HitRate = float64(f.Hits+f.SemanticHits) / float64(served)
	}
	st, err := e.opts.Backend.Stats(ctx)
	if err != nil {
		f.SizeError = "the cache backend did not answer"
	} else {
		f.Entries, f.Bytes, f.MaxBytes = st.Entries, st.Bytes, st.MaxBytes
	}
	return f
}

// Purge selects entries to delete. Without All, it works in one namespace:
// the Tenant's ("" is the namespace of calls without a tenant), or the
// shared one; one of the three is required.
type Purge struct {
	// All deletes every entry of every namespace.
	All bool
	// Tenant names the namespace.
	Tenant *string
	// Shared selects the shared namespace instead of a tenant's.
	Shared bool
	// Key deletes the entry stored under this x-aig-cache-key.
	Key string
	// Prefix deletes the entries whose x-aig-cache-key starts with it.
	Prefix string
}

// ErrBadPurge is returned for a purge that selects nothing sensible.
var ErrBadPurge = errors.New("bad purge")

// Purge deletes entries and returns how many. With neither Key nor Prefix
// it deletes the whole namespace, similar-prompt vectors included.
func (e *Engine) Purge(ctx context.Context, p Purge) (int, error) {
	if p.All {
		if p.Tenant != nil || p.Shared || p.Key != "" || p.Prefix != "" {
			return 0, fmt.Errorf("%w: all cannot be combined with tenant, shared, key or prefix", ErrBadPurge)
		}
		return e.purgePrefix(ctx, "")
	}
	if p.Key != "" && p.Prefix != "" {
		return 0, fmt.Errorf("%w: give key or prefix, not both", ErrBadPurge)
	}
	if p.Shared && p.Tenant != nil {
		return 0, fmt.Errorf("%w: give tenant or shared, not both", ErrBadPurge)
	}
	if !p.Shared && p.Tenant == nil {
		return 0, fmt.Errorf(`%w: say which entries: "all", a "tenant" ("" for calls without one) or "shared"`, ErrBadPurge)
	}
	tenant := ""
	if p.Tenant != nil {
		tenant = *p.Tenant
	}
	ns := Namespace(tenant, p.Shared)
	switch {
	case p.Key != "":
		n, err := e.opts.Backend.Delete(ctx, entryKey(ns, p.Key, ""))
		if err != nil {
			return 0, fmt.Errorf("purging the cache: %w", err)
		}
		return n, nil
	case p.Prefix != "":
		n, err := e.opts.Backend.DeletePrefix(ctx, entryKey(ns, p.Prefix, ""))
		if err != nil {
			return n, fmt.Errorf("purging the cache: %w", err)
		}
		return n, nil
	}
	return e.purgePrefix(ctx, ns+"/")
}

func (e *Engine) purgePrefix(ctx context.Context, prefix string) (int, error) {
	n, err := e.opts.Backend.DeletePrefix(ctx, prefix)
	if err != nil {
		return n, fmt.Errorf("purging the cache: %w", err)
	}
	if e.opts.Index != nil {
		if _, err := e.opts.Index.DeletePrefix(ctx, prefix); err != nil {
			return n, fmt.Errorf("purging similar-prompt vectors: %w", err)
		}
	}
	return n, nil
}
