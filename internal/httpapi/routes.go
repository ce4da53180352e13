// Package httpapi assembles the gateway's HTTP listener: every route of the
// data plane in one table, with the handlers of the ingress packages.
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/anthropic"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/httpapi/openai"
	"github.com/aigateway/aigateway/internal/httpapi/passthrough"
	"github.com/aigateway/aigateway/internal/httpapi/prompts"
)

// Options configure the handler.
type Options struct {
	// Source returns the current configuration snapshot.
	Source httpx.Source
	Log    *slog.Logger
	// Extra registers routes owned by other packages (admin API, metrics,
	// dashboard) on the same mux.
	Extra func(mux *http.ServeMux)
}

// New returns the data-plane handler.
func New(o Options) http.Handler {
	mux := http.NewServeMux()
	chat := &openai.Chat{Source: o.Source, Log: o.Log}
	embed := &openai.Embeddings{Source: o.Source, Log: o.Log}
	models := &openai.Models{Source: o.Source, Log: o.Log}
	messages := &anthropic.Messages{Source: o.Source, Log: o.Log}
	for _, prefix := range []string{"/v1", "/compat"} { // /compat is Cloudflare's path
		mux.Handle("POST "+prefix+"/chat/completions", chat)
		mux.Handle("POST "+prefix+"/embeddings", embed)
		mux.Handle("GET "+prefix+"/models", models)
		mux.Handle("POST "+prefix+"/messages", messages)
	}
	mux.Handle("POST /v1/prompts/{name}", &prompts.Handler{Source: o.Source, Log: o.Log})
	mux.Handle("POST /{$}", &passthrough.Universal{Source: o.Source, Log: o.Log})
	mux.Handle("/{provider}/{rest...}", &passthrough.Native{Source: o.Source, Log: o.Log})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusOK, "ok", "")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := o.Source().Ready(ctx); err != nil {
			writeStatus(w, http.StatusServiceUnavailable, "unavailable", err.Error())
			return
		}
		writeStatus(w, http.StatusOK, "ready", "")
	})
	if o.Extra != nil {
		o.Extra(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpx.ErrorOnly(w, gwerr.NotFound("unknown_endpoint", "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

func writeStatus(w http.ResponseWriter, code int, status, detail string) {
	body := map[string]string{"status": status}
	if detail != "" {
		body["error"] = detail
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
