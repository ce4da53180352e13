package admin

import (
	"net/http"
	"strconv"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/keys"
)

// KeysService is a backend that manages gateway keys.
type KeysService interface {
	// Keys returns the key lifecycle service of the running gateway.
	Keys() keys.Service
}

// keyRoutes mounts /admin/v1/keys.
func (a *api) keyRoutes(handle func(pattern string, h http.HandlerFunc)) {
	handle("POST /keys", a.createKey)
	handle("GET /keys", a.listKeys)
	handle("GET /keys/{id}", a.getKey)
	handle("PATCH /keys/{id}", a.updateKey)
	handle("DELETE /keys/{id}", a.revokeKey)
}

// keysFor returns the keys service, or writes why there is none.
func (a *api) keysFor(w http.ResponseWriter) keys.Service {
	if ks, ok := a.src().(KeysService); ok {
		if s := ks.Keys(); s != nil {
			return s
		}
	}
	WriteError(w, gwerr.NotFound("unknown_endpoint", "key management is not available in this gateway"))
	return nil
}

// createKey handles POST /admin/v1/keys: the answer carries the secret,
// the only time it is ever shown.
func (a *api) createKey(w http.ResponseWriter, r *http.Request) {
	s := a.keysFor(w)
	if s == nil {
		return
	}
	var p keys.Params
	if err := DecodeBody(r, &p); err != nil {
		WriteError(w, err)
		return
	}
	k, err := s.Create(r.Context(), p)
	if err != nil {
		a.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, k)
}

// listKeys handles GET /admin/v1/keys?tenant=&name=&include_revoked=&limit=&offset=.
func (a *api) listKeys(w http.ResponseWriter, r *http.Request) {
	s := a.keysFor(w)
	if s == nil {
		return
	}
	q := r.URL.Query()
	o := keys.ListOptions{Tenant: q.Get("tenant"), Name: q.Get("name")}
	var err error
	if v := q.Get("include_revoked"); v != "" {
		if o.IncludeRevoked, err = strconv.ParseBool(v); err != nil {
			WriteError(w, gwerr.BadRequest("include_revoked", "include_revoked must be true or false"))
			return
		}
	}
	for name, dst := range map[string]*int{"limit": &o.Limit, "offset": &o.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				WriteError(w, gwerr.BadRequest(name, "%s must be a non-negative whole number", name))
				return
			}
			*dst = n
		}
	}
	list, err := s.List(r.Context(), o)
	if err != nil {
		a.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"data": list})
}

// getKey handles GET /admin/v1/keys/{id} (an id or a unique name).
func (a *api) getKey(w http.ResponseWriter, r *http.Request) {
	s := a.keysFor(w)
	if s == nil {
		return
	}
	k, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, k)
}

// updateKey handles PATCH /admin/v1/keys/{id}: absent fields stay.
func (a *api) updateKey(w http.ResponseWriter, r *http.Request) {
	s := a.keysFor(w)
	if s == nil {
		return
	}
	var p keys.Patch
	if err := DecodeBody(r, &p); err != nil {
		WriteError(w, err)
		return
	}
	k, err := s.Update(r.Context(), r.PathValue("id"), p)
	if err != nil {
		a.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, k)
}

// revokeKey handles DELETE /admin/v1/keys/{id}: the key is revoked (kept,
// so requests with it are told it was revoked), never deleted.
func (a *api) revokeKey(w http.ResponseWriter, r *http.Request) {
	s := a.keysFor(w)
	if s == nil {
		return
	}
	k, err := s.Revoke(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	WriteJSON(w, http.StatusOK, k)
}

// fail writes err, logging gateway faults (their cause is not shown).
func (a *api) fail(w http.ResponseWriter, err error) {
	ge := gwerr.As(err)
	if ge.Kind == gwerr.KindGateway && a.log != nil {
		a.log.Error("admin request failed", "error", ge.Error())
	}
	WriteError(w, ge)
}
