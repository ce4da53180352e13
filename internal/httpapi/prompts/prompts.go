// Package prompts serves prompt templates as an API: POST
// /v1/prompts/{name} fills the named template with the caller's variables
// and runs it through the pipeline like any chat completion (keys,
// limits, guardrails, cache and logs apply), answering in the OpenAI chat
// format, streamed or not.
package prompts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/httpapi/openai"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/prompt"
)

// Backend is the part of a configuration snapshot that finds templates.
type Backend interface {
	// PromptTemplate returns version of the named template (0: the
	// latest), or a 404 gateway error.
	PromptTemplate(ctx context.Context, name string, version int) (*prompt.Template, error)
}

// Ingress decodes a prompt call: the template from the path (and
// ?version=N), the variables and streaming choice from the body.
type Ingress struct {
	Templates Backend
}

// Name implements pipeline.Ingress.
func (Ingress) Name() string { return "prompts" }

// body is what a caller sends.
type body struct {
	Variables     map[string]any     `json:"variables"`
	Stream        bool               `json:"stream"`
	StreamOptions *llm.StreamOptions `json:"stream_options"`
}

// Decode implements pipeline.Ingress.
func (in Ingress) Decode(c *pipeline.Call) error {
	r := c.HTTP
	name := r.PathValue("name")
	version := 0
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return gwerr.BadRequest("version", "version must be a whole number of at least 1")
		}
		version = n
	}
	var b body
	if len(bytes.TrimSpace(c.Body)) > 0 {
		if !json.Valid(c.Body) {
			var v any
			return httpx.BadJSON(json.Unmarshal(c.Body, &v))
		}
		dec := json.NewDecoder(bytes.NewReader(c.Body))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		if err := dec.Decode(&b); err != nil {
			return httpx.BadJSON(err)
		}
	}
	tpl, err := in.Templates.PromptTemplate(r.Context(), name, version)
	if err != nil {
		return err
	}
	req, err := tpl.Render(b.Variables)
	if err != nil {
		var ve *prompt.VariablesError
		if errors.As(err, &ve) {
			return gwerr.BadRequest("variables", "prompt template %q version %d: %s", tpl.Name, tpl.Version, ve.Error())
		}
		return gwerr.Internal(fmt.Errorf("rendering prompt %s v%d: %w", tpl.Name, tpl.Version, err))
	}
	req.Stream, req.StreamOptions = b.Stream, b.StreamOptions
	c.Chat, c.Model = req, req.Model
	c.Prompt = pipeline.PromptRef{Name: tpl.Name, Version: tpl.Version}
	return nil
}

// Handler serves POST /v1/prompts/{name}.
type Handler struct {
	Source httpx.Source
	Log    *slog.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b := h.Source() // one snapshot for the lookup and the pipeline
	templates, ok := b.(Backend)
	if !ok {
		httpx.ErrorOnly(w, gwerr.NotFound("unknown_endpoint", "prompt templates are not available"))
		return
	}
	src := func() httpx.Backend { return b }
	c, res, ok := httpx.Serve(w, r, src, h.Log, Ingress{Templates: templates}, pipeline.KindChat, httpx.FormatOpenAI)
	if !ok {
		return
	}
	switch {
	case res.Stream != nil:
		openai.WriteStream(w, c, res.Stream, c.Chat.WantsUsageInStream())
	case res.Chat != nil:
		httpx.WriteJSON(w, c, http.StatusOK, res.Chat)
	default:
		httpx.WriteError(w, c, gwerr.Internal(fmt.Errorf("pipeline returned no chat result")), httpx.FormatOpenAI)
	}
}

var _ pipeline.Ingress = Ingress{}
