package admin

import (
	"context"
	"net/http"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// CacheService is the response cache: its figures and purging.
type CacheService interface {
	// CacheFigures returns the cache's size and hit figures as a JSON
	// object.
	CacheFigures(ctx context.Context) (any, error)
	// PurgeCache deletes the entries p selects and returns how many.
	PurgeCache(ctx context.Context, p CachePurge) (int, error)
}

// CachePurge is the body of POST /admin/v1/cache/purge. Exactly one of All,
// Tenant and Shared names the entries; Key or Prefix narrow a namespace to
// the entries stored under one x-aig-cache-key or keys starting with
// Prefix.
type CachePurge struct {
	All bool `json:"all"`
	// Tenant is the tenant whose entries go; "" is the namespace of calls
	// without a tenant.
	Tenant *string `json:"tenant"`
	Shared bool    `json:"shared"`
	Key    string  `json:"key"`
	Prefix string  `json:"prefix"`
}

func (a *api) cacheService(w http.ResponseWriter) (CacheService, bool) {
	svc, ok := a.src().(CacheService)
	if !ok {
		WriteError(w, gwerr.NotFound("cache_unavailable", "the response cache is not available in this build"))
	}
	return svc, ok
}

// cacheFigures serves GET /admin/v1/cache.
func (a *api) cacheFigures(w http.ResponseWriter, r *http.Request) {
	svc, ok := a.cacheService(w)
	if !ok {
		return
	}
	figs, err := svc.CacheFigures(r.Context())
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, figs)
}

// cachePurge serves POST /admin/v1/cache/purge.
func (a *api) cachePurge(w http.ResponseWriter, r *http.Request) {
	svc, ok := a.cacheService(w)
	if !ok {
		return
	}
	var p CachePurge
	if err := DecodeBody(r, &p); err != nil {
		WriteError(w, err)
		return
	}
	n, err := svc.PurgeCache(r.Context(), p)
	if err != nil {
		WriteError(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]int{"purged": n})
}
