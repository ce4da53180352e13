package openai

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// EmbedIngress decodes OpenAI embeddings bodies.
type EmbedIngress struct{}

// Name implements pipeline.Ingress.
func (EmbedIngress) Name() string { return "openai" }

// Decode implements pipeline.Ingress.
func (EmbedIngress) Decode(c *pipeline.Call) error {
	var req llm.EmbedRequest
	if err := httpx.DecodeJSON(c.Body, &req); err != nil {
		return err
	}
	if req.Model == "" {
		return gwerr.BadRequest("model", "you must provide a model parameter")
	}
	in := bytes.TrimSpace(req.Input)
	if len(in) == 0 || bytes.Equal(in, []byte("null")) || bytes.Equal(in, []byte(`""`)) || bytes.Equal(in, []byte("[]")) {
		return gwerr.BadRequest("input", "input must be a non-empty string or array")
	}
	if in[0] != '"' && in[0] != '[' {
		return gwerr.BadRequest("input", "input must be a string, an array of strings, or an array of token arrays")
	}
	c.Embed, c.Model = &req, req.Model
	return nil
}

// Embeddings handles POST /v1/embeddings.
type Embeddings struct {
	Source httpx.Source
	Log    *slog.Logger
}

func (h *Embeddings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, res, ok := httpx.Serve(w, r, h.Source, h.Log, EmbedIngress{}, pipeline.KindEmbed, httpx.FormatOpenAI)
	if !ok {
		return
	}
	if res.Embed == nil {
		httpx.WriteError(w, c, gwerr.Internal(fmt.Errorf("pipeline returned no embeddings")), httpx.FormatOpenAI)
		return
	}
	httpx.WriteJSON(w, c, http.StatusOK, res.Embed)
}

// ModelsIngress decodes nothing: a model list has no body.
type ModelsIngress struct{}

// Name implements pipeline.Ingress.
func (ModelsIngress) Name() string { return "openai" }

// Decode implements pipeline.Ingress.
func (ModelsIngress) Decode(*pipeline.Call) error { return nil }

// Models handles GET /v1/models. It runs through the pipeline so that
// authentication applies and key scopes can narrow the list.
type Models struct {
	Source httpx.Source
	Log    *slog.Logger
}

func (h *Models) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, res, ok := httpx.Serve(w, r, h.Source, h.Log, ModelsIngress{}, pipeline.KindModels, httpx.FormatOpenAI)
	if !ok {
		return
	}
	models := res.Models
	if models == nil {
		models = []llm.Model{}
	}
	httpx.WriteJSON(w, c, http.StatusOK, llm.ModelList{Object: "list", Data: models})
}
