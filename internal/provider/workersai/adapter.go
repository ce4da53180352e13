// Package workersai is the adapter for Cloudflare Workers AI (provider type
// workers-ai): chat and embeddings through the REST API's
// POST {base}/run/{model} (e.g. @cf/meta/llama-3.1-8b-instruct) with its
// own messages input, result envelope and SSE lines, or — when the
// provider's api_path is set (api_path: /v1) — through Workers AI's
// OpenAI-compatible endpoint {base}/v1/chat/completions; plus native
// passthrough with Cloudflare AI Gateway's path semantics.
//
// The native /run API is the default because it serves every Workers AI
// model, text generation and embeddings alike, under the one URL scheme
// the passthrough uses too, and because Cloudflare documents each model's
// input and output schema against it. The OpenAI-compatible endpoint is
// the choice when a client needs OpenAI semantics the native API lacks
// (stop sequences, n, forced tool_choice, streamed tool-call ids).
package workersai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/openai"
	"github.com/aigateway/aigateway/internal/provider/upstream"
	"github.com/aigateway/aigateway/internal/sse"
)

// Adapter is a Workers AI account.
type Adapter struct {
	id      string
	token   string
	base    string // …/accounts/{account}/ai
	headers map[string]string
	http    *http.Client
	// compat, when set, serves chat and embeddings through the
	// OpenAI-compatible endpoint instead of /run.
	compat *openai.Client
}

// New builds an Adapter from a provider spec; the base URL is the account's
// AI endpoint, https://api.cloudflare.com/client/v4/accounts/{account}/ai.
func New(s provider.Spec) (provider.Provider, error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("base_url %q is not an absolute URL", s.BaseURL)
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	a := &Adapter{id: s.ID, token: s.APIKey, base: strings.TrimRight(s.BaseURL, "/"), headers: s.Headers, http: c}
	if s.APIPath != "" {
		a.compat = openai.NewClient(openai.ClientOptions{
			ID: s.ID, APIBase: a.base + "/" + strings.Trim(s.APIPath, "/"), NativeBase: a.base,
			APIKey: s.APIKey, Headers: s.Headers, StreamUsage: s.StreamUsage, HTTP: c,
		})
	}
	return a, nil
}

// ID implements provider.Provider.
func (a *Adapter) ID() string { return a.id }

// runURL is the /run URL of a model; its "@cf/org/name" path is kept.
func (a *Adapter) runURL(model string) string {
	segs := strings.Split(strings.TrimPrefix(model, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return a.base + "/run/" + strings.Join(segs, "/")
}

func (a *Adapter) post(ctx context.Context, model string, body any, stream bool) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding workers-ai request: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.runURL(model), bytes.NewReader(b))
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("building request to %s: %w", a.id, err))
	}
	for k, v := range a.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return upstream.Do(a.http, req, a.id, func(status int, _ http.Header, body []byte) *gwerr.Error {
		e := parseError(status, body)
		e.Message = provider.RedactSecret(e.Message, a.token)
		return e
	})
}

// result reads a /run answer and returns its result member; an envelope
// with success false is the provider's error even under status 200.
func (a *Adapter) result(resp *http.Response) (json.RawMessage, error) {
	raw, err := upstream.ReadBody(resp, a.id)
	if err != nil {
		return nil, err
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	if !env.Success && len(env.Errors) > 0 {
		return nil, cfErrorsToGW(http.StatusBadGateway, env.Errors)
	}
	res, err := decodeEnvelope(raw)
	if err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	return res, nil
}

func (a *Adapter) meta(model string) upstream.Meta {
	return upstream.Meta{ID: upstream.NewID("chatcmpl-"), Created: time.Now().Unix(), Model: model}
}

// Chat implements provider.Provider.
func (a *Adapter) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	if a.compat != nil {
		return a.compat.Chat(ctx, req)
	}
	native, err := toRun(req, false)
	if err != nil {
		return nil, err
	}
	resp, err := a.post(ctx, req.Model, native, false)
	if err != nil {
		return nil, err
	}
	res, err := a.result(resp)
	if err != nil {
		return nil, err
	}
	out, err := fromRun(res, a.meta(req.Model))
	if err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	return out, nil
}

// ChatStream implements provider.Provider.
func (a *Adapter) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if a.compat != nil {
		return a.compat.ChatStream(ctx, req)
	}
	native, err := toRun(req, true)
	if err != nil {
		return nil, err
	}
	resp, err := a.post(ctx, req.Model, native, true)
	if err != nil {
		return nil, err
	}
	meta := a.meta(req.Model)
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		// A model that cannot stream answers in one piece: replay it.
		res, err := a.result(resp)
		if err != nil {
			return nil, err
		}
		out, err := fromRun(res, meta)
		if err != nil {
			return nil, upstream.InvalidResponse(a.id, err)
		}
		return llm.NewSliceStream(llm.ResponseChunks(out)), nil
	}
	return upstream.NewStream(resp.Body, newStreamDecoder(resp.Body, a.id, meta)), nil
}

// Embed implements provider.Embedder for the text-embedding models
// (@cf/baai/bge-*): {"text":[…]} in, {"shape":[n,d],"data":[[…]]} out.
func (a *Adapter) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	if a.compat != nil {
		return a.compat.Embed(ctx, req)
	}
	texts, err := req.Texts()
	if err != nil {
		return nil, gwerr.BadRequest("input", "input: %v (workers-ai embeds text only)", err)
	}
	if req.Dimensions != nil {
		return nil, gwerr.BadRequest("dimensions", "dimensions is not supported by workers-ai embedding models")
	}
	resp, err := a.post(ctx, req.Model, embedRequest{Text: texts}, false)
	if err != nil {
		return nil, err
	}
	res, err := a.result(resp)
	if err != nil {
		return nil, err
	}
	out, err := fromEmbed(res, len(texts), req.Model, req.EncodingFormat)
	if err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	return out, nil
}

// nativeURL maps a passthrough path the way Cloudflare AI Gateway does:
// /workers-ai/@cf/… (and @hf/…) runs that model, anything else is a path
// below the account's AI endpoint (/v1/chat/completions, /models/search …).
func (a *Adapter) nativeURL(path string) string {
	if strings.HasPrefix(path, "/@cf/") || strings.HasPrefix(path, "/@hf/") {
		return a.base + "/run" + path
	}
	return a.base + path
}

// Forward implements provider.Forwarder.
func (a *Adapter) Forward(ctx context.Context, nr *provider.NativeRequest) (*http.Response, error) {
	u := a.nativeURL(nr.Path)
	if nr.RawQuery != "" {
		u += "?" + nr.RawQuery
	}
	req, err := http.NewRequestWithContext(ctx, nr.Method, u, nr.BodyReader())
	if err != nil {
		return nil, fmt.Errorf("building native request: %w", err)
	}
	for k, v := range nr.Header {
		req.Header[k] = v
	}
	if !provider.CallerCredential(nr.Header, nr.RawQuery) {
		for k, v := range a.headers {
			req.Header.Set(k, v)
		}
		if a.token != "" {
			req.Header.Set("Authorization", "Bearer "+a.token)
		}
	}
	return a.http.Do(req)
}

// NativeUsage implements provider.UsageReader: result.usage of a /run
// answer, the last usage of a /run stream, or the usage of an
// OpenAI-compatible answer; the model is read from the path.
func (a *Adapter) NativeUsage(path string, body []byte, stream bool) (llm.Usage, string, bool) {
	model := modelFromPath(path)
	var found bool
	var u llm.Usage
	take := func(raw []byte) {
		var w struct {
			Usage  *runUsage `json:"usage"`
			Result *struct {
				Usage *runUsage `json:"usage"`
			} `json:"result"`
			Model string `json:"model"`
		}
		if json.Unmarshal(raw, &w) != nil {
			return
		}
		if w.Result != nil && w.Result.Usage != nil {
			w.Usage = w.Result.Usage
		}
		if w.Usage != nil {
			u, found = usage(w.Usage), true
		}
		if model == "" && w.Model != "" {
			model = w.Model
		}
	}
	if !stream {
		take(body)
		return u, model, found
	}
	rd := sse.NewReader(bytes.NewReader(body))
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		if len(ev.Data) > 0 && ev.Data[0] == '{' {
			take(ev.Data)
		}
	}
	return u, model, found
}

// modelFromPath returns "@cf/…" from a passthrough path, or "".
func modelFromPath(path string) string {
	path = strings.TrimPrefix(path, "/run")
	if strings.HasPrefix(path, "/@cf/") || strings.HasPrefix(path, "/@hf/") {
		if p, err := url.PathUnescape(path[1:]); err == nil {
			return p
		}
	}
	return ""
}

var (
	_ provider.Provider    = (*Adapter)(nil)
	_ provider.Embedder    = (*Adapter)(nil)
	_ provider.Forwarder   = (*Adapter)(nil)
	_ provider.UsageReader = (*Adapter)(nil)
)
