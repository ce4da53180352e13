// Package gemini is the adapter for the Google Gemini API (Google AI
// Studio, provider type google-ai-studio): chat through generateContent and
// streamGenerateContent?alt=sse, embeddings through embedContent and
// batchEmbedContents, model listing, and native passthrough, all
// authenticated with the x-goog-api-key header.
//
// The converters (request.go, response.go, stream.go, embed.go, schema.go)
// are pure functions between the canonical OpenAI form and Gemini's; this
// file does the HTTP.
package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/upstream"
	"github.com/aigateway/aigateway/internal/sse"
)

// apiVersion is the API version the unified API uses; v1beta is the one
// with systemInstruction, tools and JSON schema output for every model.
const apiVersion = "v1beta"

// Adapter is a Gemini API provider.
type Adapter struct {
	id      string
	key     string
	root    string // base URL without version: passthrough paths go below it
	api     string // root + "/v1beta"
	headers map[string]string
	http    *http.Client
}

// New builds an Adapter. The base URL is the API root
// (https://generativelanguage.googleapis.com); one that already ends in
// /v1beta or /v1 is accepted too.
func New(s provider.Spec) (provider.Provider, error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("base_url %q is not an absolute URL", s.BaseURL)
	}
	root := strings.TrimRight(s.BaseURL, "/")
	for _, v := range []string{"/v1beta", "/v1"} {
		root = strings.TrimSuffix(root, v)
	}
	c := s.Client
	if c == nil {
		c = http.DefaultClient
	}
	return &Adapter{id: s.ID, key: s.APIKey, root: root, api: root + "/" + apiVersion, headers: s.Headers, http: c}, nil
}

// ID implements provider.Provider.
func (a *Adapter) ID() string { return a.id }

// modelPath is the resource name of a model: "models/{model}", or a tuned
// model's own "tunedModels/{name}".
func modelPath(model string) string {
	if strings.HasPrefix(model, "tunedModels/") {
		return "tunedModels/" + url.PathEscape(strings.TrimPrefix(model, "tunedModels/"))
	}
	return "models/" + url.PathEscape(strings.TrimPrefix(model, "models/"))
}

func (a *Adapter) newRequest(ctx context.Context, method, u string, body []byte) (*http.Request, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("building request to %s: %w", a.id, err))
	}
	for k, v := range a.headers {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.key != "" {
		req.Header.Set("x-goog-api-key", a.key)
	}
	return req, nil
}

func (a *Adapter) do(req *http.Request) (*http.Response, error) {
	return upstream.Do(a.http, req, a.id, func(status int, _ http.Header, body []byte) *gwerr.Error {
		e := parseError(status, body)
		e.Message = provider.RedactSecret(e.Message, a.key)
		return e
	})
}

func (a *Adapter) meta(model string) upstream.Meta {
	return upstream.Meta{ID: upstream.NewID("chatcmpl-"), Created: time.Now().Unix(), Model: model}
}

// Chat implements provider.Provider.
func (a *Adapter) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	native, err := toGenerate(req)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(native)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding gemini request: %w", err))
	}
	hr, err := a.newRequest(ctx, http.MethodPost, a.api+"/"+modelPath(req.Model)+":generateContent", body)
	if err != nil {
		return nil, err
	}
	resp, err := a.do(hr)
	if err != nil {
		return nil, err
	}
	raw, err := upstream.ReadBody(resp, a.id)
	if err != nil {
		return nil, err
	}
	gr, err := decodeResponse(raw)
	if err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	return fromGenerate(gr, a.meta(req.Model)), nil
}

// ChatStream implements provider.Provider.
func (a *Adapter) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	native, err := toGenerate(req)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(native)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding gemini request: %w", err))
	}
	hr, err := a.newRequest(ctx, http.MethodPost, a.api+"/"+modelPath(req.Model)+":streamGenerateContent?alt=sse", body)
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Accept", "text/event-stream")
	resp, err := a.do(hr)
	if err != nil {
		return nil, err
	}
	return upstream.NewStream(resp.Body, newStreamDecoder(resp.Body, a.id, a.meta(req.Model))), nil
}

// Embed implements provider.Embedder with embedContent for one input and
// batchEmbedContents for several.
func (a *Adapter) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	texts, err := req.Texts()
	if err != nil {
		return nil, gwerr.BadRequest("input", "input: %v (google-ai-studio embeds text only)", err)
	}
	op, native := toEmbed(req.Model, texts, req.Dimensions)
	body, err := json.Marshal(native)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding gemini embeddings request: %w", err))
	}
	hr, err := a.newRequest(ctx, http.MethodPost, a.api+"/"+modelPath(req.Model)+":"+op, body)
	if err != nil {
		return nil, err
	}
	resp, err := a.do(hr)
	if err != nil {
		return nil, err
	}
	raw, err := upstream.ReadBody(resp, a.id)
	if err != nil {
		return nil, err
	}
	out, err := fromEmbed(raw, len(texts), req.Model, req.EncodingFormat)
	if err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	return out, nil
}

// maxModelPages bounds how many pages of the model list are fetched.
const maxModelPages = 5

// ListModels implements provider.ModelLister: the models that can chat or
// embed, as "google-ai-studio/{model}".
func (a *Adapter) ListModels(ctx context.Context) ([]llm.Model, error) {
	var out []llm.Model
	token := ""
	now := time.Now().Unix()
	for page := 0; page < maxModelPages; page++ {
		u := a.api + "/models?pageSize=1000"
		if token != "" {
			u += "&pageToken=" + url.QueryEscape(token)
		}
		hr, err := a.newRequest(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		resp, err := a.do(hr)
		if err != nil {
			return nil, err
		}
		raw, err := upstream.ReadBody(resp, a.id)
		if err != nil {
			return nil, err
		}
		var list modelList
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, upstream.InvalidResponse(a.id, err)
		}
		for _, m := range list.Models {
			if !usable(m.SupportedGenerationMethods) {
				continue
			}
			name := strings.TrimPrefix(m.Name, "models/")
			out = append(out, llm.Model{ID: a.id + "/" + name, Object: "model", Created: now, OwnedBy: a.id})
		}
		if token = list.NextPageToken; token == "" {
			break
		}
	}
	return out, nil
}

func usable(methods []string) bool {
	for _, m := range methods {
		if m == "generateContent" || m == "embedContent" {
			return true
		}
	}
	return false
}

// Forward implements provider.Forwarder: base URL + path, the caller's own
// credential kept (x-goog-api-key, ?key=, Authorization), otherwise the
// gateway's key added as x-goog-api-key.
func (a *Adapter) Forward(ctx context.Context, nr *provider.NativeRequest) (*http.Response, error) {
	u := a.root + nr.Path
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
		if a.key != "" {
			req.Header.Set("x-goog-api-key", a.key)
		}
	}
	return a.http.Do(req)
}

// NativeUsage implements provider.UsageReader for generateContent answers,
// whole or streamed (the last usageMetadata of the stream counts).
func (a *Adapter) NativeUsage(_ string, body []byte, stream bool) (llm.Usage, string, bool) {
	if !stream {
		var r generateResponse
		if json.Unmarshal(body, &r) != nil || r.UsageMetadata == nil {
			return llm.Usage{}, "", false
		}
		return usage(r.UsageMetadata), r.ModelVersion, true
	}
	var (
		u     llm.Usage
		model string
		found bool
	)
	rd := sse.NewReader(bytes.NewReader(body))
	for {
		ev, err := rd.Next()
		if err != nil {
			break
		}
		var r generateResponse
		if json.Unmarshal(ev.Data, &r) != nil {
			continue
		}
		if r.ModelVersion != "" {
			model = r.ModelVersion
		}
		if r.UsageMetadata != nil {
			u, found = usage(r.UsageMetadata), true
		}
	}
	return u, model, found
}

var (
	_ provider.Provider    = (*Adapter)(nil)
	_ provider.Embedder    = (*Adapter)(nil)
	_ provider.ModelLister = (*Adapter)(nil)
	_ provider.Forwarder   = (*Adapter)(nil)
	_ provider.UsageReader = (*Adapter)(nil)
)
