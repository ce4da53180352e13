package anthropic

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
)

// Adapter is a provider speaking Anthropic's Messages API: chat (streamed
// and not), model listing and native passthrough with usage.
type Adapter struct {
	id      string
	base    string // provider base URL, passthrough paths are appended to it
	api     string // base of the API's own paths ("…/v1")
	key     string
	version string
	headers map[string]string
	http    *http.Client
	// now stamps translated responses; tests may fix it.
	now func() time.Time
}

// New builds an Adapter from a provider spec. The base URL is Anthropic's
// root (https://api.anthropic.com); a base that already ends in /v1 is
// accepted too, as SDK users often write it that way.
func New(s provider.Spec) (provider.Provider, error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("base_url %q is not an absolute URL", s.BaseURL)
	}
	base := strings.TrimRight(s.BaseURL, "/")
	api := base + "/v1"
	if strings.HasSuffix(base, "/v1") {
		api = base
	}
	a := &Adapter{id: s.ID, base: base, api: api, key: s.APIKey, version: s.APIVersion,
		headers: s.Headers, http: s.Client, now: time.Now}
	if a.version == "" {
		a.version = DefaultVersion
	}
	if a.http == nil {
		a.http = http.DefaultClient
	}
	return a, nil
}

// ID implements provider.Provider.
func (a *Adapter) ID() string { return a.id }

// setHeaders sets the configured headers, the API version and the key.
func (a *Adapter) setHeaders(h http.Header) {
	for k, v := range a.headers {
		h.Set(k, v)
	}
	if h.Get("anthropic-version") == "" {
		h.Set("anthropic-version", a.version)
	}
	if a.key != "" {
		h.Set("x-api-key", a.key)
	}
}

// post sends a Messages request and returns the response when its status
// is 2xx, otherwise the provider's error, translated.
func (a *Adapter) post(ctx context.Context, req *Request) (*http.Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding messages request: %w", err))
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, a.api+"/messages", bytes.NewReader(body))
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("building request to %s: %w", a.id, err))
	}
	hr.Header.Set("Content-Type", "application/json")
	if req.Stream {
		hr.Header.Set("Accept", "text/event-stream")
	} else {
		hr.Header.Set("Accept", "application/json")
	}
	a.setHeaders(hr.Header)
	return upstream.Do(a.http, hr, a.id, a.parseError)
}

// parseError is the upstream.ErrorParser of Anthropic's error bodies.
func (a *Adapter) parseError(status int, _ http.Header, body []byte) *gwerr.Error {
	e := UpstreamError(status, body, a.id)
	e.Message = provider.RedactSecret(e.Message, a.key)
	return e
}

// Chat sends a non-streamed request.
func (a *Adapter) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	nr, err := FromChat(req)
	if err != nil {
		return nil, err
	}
	nr.Stream = false
	resp, err := a.post(ctx, nr)
	if err != nil {
		return nil, err
	}
	out, err := a.readResponse(resp)
	if err != nil {
		return nil, err
	}
	return ToChatResponse(out, a.now().Unix()), nil
}

func (a *Adapter) readResponse(resp *http.Response) (*Response, error) {
	body, err := upstream.ReadBody(resp, a.id)
	if err != nil {
		return nil, err
	}
	var out Response
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	if out.Type != "" && out.Type != "message" {
		return nil, upstream.InvalidResponse(a.id, fmt.Errorf("response type %q, want message", out.Type))
	}
	return &out, nil
}

// ChatStream starts a streamed request; it returns once the provider has
// accepted it.
func (a *Adapter) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	nr, err := FromChat(req)
	if err != nil {
		return nil, err
	}
	nr.Stream = true
	resp, err := a.post(ctx, nr)
	if err != nil {
		return nil, err
	}
	created := a.now().Unix()
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		// a server that ignored "stream": replay its answer as a stream
		out, err := a.readResponse(resp)
		if err != nil {
			return nil, err
		}
		return llm.NewSliceStream(llm.ResponseChunks(ToChatResponse(out, created))), nil
	}
	return NewStream(resp.Body, a.id, a.key, created), nil
}

// ListModels lists the provider's models (GET /v1/models).
func (a *Adapter) ListModels(ctx context.Context) ([]llm.Model, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.api+"/models?limit=1000", nil)
	if err != nil {
		return nil, fmt.Errorf("building models request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	a.setHeaders(req.Header)
	resp, err := upstream.Do(a.http, req, a.id, a.parseError)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ID        string `json:"id"`
			CreatedAt string `json:"created_at"`
		} `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, upstream.MaxResponseBytes)).Decode(&list); err != nil {
		return nil, upstream.InvalidResponse(a.id, err)
	}
	out := make([]llm.Model, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID == "" {
			continue
		}
		created := a.now().Unix()
		if t, err := time.Parse(time.RFC3339, m.CreatedAt); err == nil {
			created = t.Unix()
		}
		out = append(out, llm.Model{ID: a.id + "/" + m.ID, Object: "model", Created: created, OwnedBy: a.id})
	}
	return out, nil
}
