// Package passthrough serves provider-native requests: ANY /{provider}/{rest}
// forwarded unchanged to the provider's base URL, and the universal endpoint
// POST / (a client-written fallback chain of native requests). Gateway
// policies apply; the bodies are the provider's own format.
package passthrough

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
)

// NativeIngress turns a passthrough request into a native call.
type NativeIngress struct{}

// Name implements pipeline.Ingress.
func (NativeIngress) Name() string { return "passthrough" }

// Decode implements pipeline.Ingress: the body stays raw; the model is read
// from it (when it is JSON with a "model") for logs, limits and cache keys.
func (NativeIngress) Decode(c *pipeline.Call) error {
	r := c.HTTP
	id := r.PathValue("provider")
	if hasDotDot(r.URL.Path) {
		// the gateway's credential must never reach paths outside the
		// provider's base URL
		return gwerr.BadRequest("", "path must not contain '..' segments")
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/"+id)
	nr := &provider.NativeRequest{
		Method:   r.Method,
		Path:     rest,
		RawQuery: r.URL.RawQuery,
		Header:   ForwardHeaders(r.Header),
		Body:     c.Body,
	}
	c.Native = nr
	c.Model = id
	if m := llm.TopLevelString(c.Body, "model"); m != "" {
		c.Model = id + "/" + m
	} else if m := modelFromPath(rest); m != "" {
		c.Model = id + "/" + m
	}
	c.Targets = []pipeline.Target{{ProviderID: id, Model: strings.TrimPrefix(c.Model, id+"/"), Native: nr}}
	return nil
}

func hasDotDot(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return true
		}
	}
	return false
}

// modelFromPath finds the model in paths that carry it, such as Gemini's
// /v1beta/models/{model}:generateContent and Bedrock's /model/{id}/converse.
func modelFromPath(p string) string {
	for _, marker := range []string{"/models/", "/model/", "/deployments/"} {
		if _, after, ok := strings.Cut(p, marker); ok {
			m, _, _ := strings.Cut(after, "/")
			m, _, _ = strings.Cut(m, ":")
			return m
		}
	}
	return ""
}

// ForwardHeaders returns the client headers that go upstream: end-to-end
// headers without the gateway's own (x-aig-*, cf-aig-*), without Host and
// length (recomputed), and without Accept-Encoding, so the transport
// negotiates compression itself and usage can be read from the body.
func ForwardHeaders(in http.Header) http.Header {
	out := make(http.Header, len(in))
	provider.CopyEndToEndHeaders(out, in)
	for k := range out {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-aig-") || strings.HasPrefix(lk, "cf-aig-") {
			delete(out, k)
		}
	}
	out.Del("Host")
	out.Del("Content-Length")
	out.Del("Accept-Encoding")
	return out
}

// Native handles ANY /{provider}/{rest...}.
type Native struct {
	Source httpx.Source
	Log    *slog.Logger
}

func (h *Native) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if reserved[r.PathValue("provider")] {
		httpx.ErrorOnly(w, gwerr.NotFound("unknown_endpoint", "no such endpoint: %s %s", r.Method, r.URL.Path))
		return
	}
	serveNative(w, r, h.Source, h.Log, NativeIngress{}, pipeline.KindNative)
}

// reserved are the gateway's own first path segments; a request reaching the
// passthrough route with one of them matched no gateway endpoint.
var reserved = map[string]bool{"v1": true, "compat": true, "admin": true, "ui": true}

func serveNative(w http.ResponseWriter, r *http.Request, src httpx.Source, log *slog.Logger, ing pipeline.Ingress, kind pipeline.Kind) {
	c, res, ok := httpx.Serve(w, r, src, log, ing, kind, httpx.FormatOpenAI)
	if !ok {
		return
	}
	if res.Native == nil {
		httpx.WriteError(w, c, gwerr.Internal(fmt.Errorf("pipeline returned no native response")), httpx.FormatOpenAI)
		return
	}
	httpx.WriteNative(w, c, res.Native)
}
