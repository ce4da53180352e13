// Package admin serves the admin API under /admin/v1: the control plane
// for keys, logs, analytics, feedback, config and provider health. Every
// route needs the admin token. Handlers talk to the running gateway only
// through the small service interfaces below (found by type assertion on
// the backend), never to a store directly.
package admin

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
)

// Backend is the part of a configuration snapshot every admin route needs.
// Resource services (keys, logs …) are optional interfaces implemented by
// the same value.
type Backend interface {
	// AdminToken is the configured admin token; "" disables the admin API.
	AdminToken() string
	// ProviderInfo lists the enabled providers.
	ProviderInfo() []ProviderInfo
	// RedactedConfig is the effective configuration with secrets removed.
	RedactedConfig() any
}

// Source returns the current snapshot.
type Source func() Backend

// Options configure the admin API.
type Options struct {
	Source Source
	Log    *slog.Logger
}

// Register mounts the admin API on mux. Each resource is one line.
func Register(mux *http.ServeMux, o Options) {
	a := &api{src: o.Source, log: o.Log}
	handle := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" /admin/v1"+path, a.authorized(h))
	}
	handle("GET /providers", a.providers)
	handle("GET /providers/health", a.health)
	handle("GET /config", a.config)
	handle("GET /cache", a.cacheFigures)
	handle("POST /cache/purge", a.cachePurge)
	a.keyRoutes(handle)
	a.logRoutes(handle)
	handle("GET /debug/pprof/{name...}", a.pprofHandler)
	handle("GET /prompts", a.listPrompts)
	handle("POST /prompts", a.createPrompt)
	handle("GET /prompts/{name}", a.promptVersions)
	handle("GET /prompts/{name}/versions/{version}", a.promptVersion)
	handle("DELETE /prompts/{name}", a.deletePrompt)
	mux.Handle("/admin/", a.authorized(func(w http.ResponseWriter, r *http.Request) {
		httpx.ErrorOnly(w, gwerr.NotFound("unknown_endpoint", "no such admin endpoint: %s %s", r.Method, r.URL.Path))
	}))
}

type api struct {
	src Source
	log *slog.Logger
}

// authorized requires "Authorization: Bearer <admin token>", compared in
// constant time.
func (a *api) authorized(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := a.src().AdminToken()
		if token == "" {
			httpx.ErrorOnly(w, gwerr.Forbidden("the admin API is disabled: set AIGATEWAY_ADMIN_TOKEN or admin.token"))
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			httpx.ErrorOnly(w, gwerr.Unauthorized("a valid admin token is required (Authorization: Bearer <token>)"))
			return
		}
		next(w, r)
	})
}

// ProviderInfo describes an enabled provider.
type ProviderInfo struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	BaseURL string   `json:"base_url"`
	Models  []string `json:"models,omitempty"`
}

func (a *api) providers(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"data": a.src().ProviderInfo()})
}

func (a *api) config(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, a.src().RedactedConfig())
}
