// Package openai is the adapter for the OpenAI wire format: OpenAI itself,
// every OpenAI-compatible vendor (Mistral, Groq, DeepSeek, xAI, Together,
// Fireworks, OpenRouter, Perplexity, Cerebras, Ollama …) by configuration
// alone, and, through Client, Azure OpenAI's deployment URLs.
//
// Since the canonical form is OpenAI's, translation is nearly the identity:
// the adapter's work is URLs, credentials, error shapes and stream framing.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
)

// Operation is an upstream endpoint of the OpenAI API.
type Operation string

// Operations the unified API uses.
const (
	OpChat   Operation = "chat/completions"
	OpEmbed  Operation = "embeddings"
	OpModels Operation = "models"
)

// maxResponseBytes bounds a non-streamed upstream body held in memory
// (embedding batches can be large).
const maxResponseBytes = 256 << 20

// ClientOptions configure a Client.
type ClientOptions struct {
	// ID is the provider id, used in error messages.
	ID string
	// APIBase is the base URL of the OpenAI-format API ("…/v1").
	APIBase string
	// NativeBase is the base URL passthrough paths are appended to
	// (defaults to APIBase).
	NativeBase string
	// APIKey is the gateway's credential for the provider.
	APIKey string
	// Headers are added to every request.
	Headers map[string]string
	// StreamUsage asks for a usage chunk in every stream.
	StreamUsage bool
	// HTTP is the upstream client (default http.DefaultClient).
	HTTP *http.Client
	// URL builds an endpoint URL (default APIBase + "/" + op). Azure uses
	// deployment URLs.
	URL func(op Operation, model string) string
	// Authorize sets the credential header (default Authorization: Bearer).
	Authorize func(h http.Header, key string)
}

// Client speaks the OpenAI wire format to one provider.
type Client struct {
	o ClientOptions
}

// NewClient returns a Client.
func NewClient(o ClientOptions) *Client {
	o.APIBase = strings.TrimRight(o.APIBase, "/")
	if o.NativeBase == "" {
		o.NativeBase = o.APIBase
	}
	o.NativeBase = strings.TrimRight(o.NativeBase, "/")
	if o.HTTP == nil {
		o.HTTP = http.DefaultClient
	}
	if o.URL == nil {
		base := o.APIBase
		o.URL = func(op Operation, _ string) string { return base + "/" + string(op) }
	}
	if o.Authorize == nil {
		o.Authorize = BearerAuth
	}
	return &Client{o: o}
}

// BearerAuth sets Authorization: Bearer key.
func BearerAuth(h http.Header, key string) {
	if key != "" {
		h.Set("Authorization", "Bearer "+key)
	}
}

// ID returns the provider id.
func (c *Client) ID() string { return c.o.ID }

// post sends a JSON body and returns the response if its status is 2xx;
// otherwise the provider's error, translated.
func (c *Client) post(ctx context.Context, op Operation, model string, body []byte, stream bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.o.URL(op, model), bytes.NewReader(body))
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("building request to %s: %w", c.o.ID, err))
	}
	req.Header.Set("Content-Type", "application/json")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	c.setHeaders(req.Header)
	return c.do(req)
}

func (c *Client) setHeaders(h http.Header) {
	for k, v := range c.o.Headers {
		h.Set(k, v)
	}
	c.o.Authorize(h, c.o.APIKey)
}

func (c *Client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.o.HTTP.Do(req)
	if err != nil {
		return nil, gwerr.FromTransport(c.o.ID, err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, c.upstreamError(resp)
	}
	return resp, nil
}

// readJSON reads and decodes a whole response body.
func (c *Client) readJSON(resp *http.Response, v any) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return gwerr.FromTransport(c.o.ID, err)
	}
	if r, ok := v.(*llm.ChatResponse); ok {
		// it validates its input itself: calling it directly saves
		// json.Unmarshal's two extra passes over the body
		err = r.UnmarshalJSON(body)
	} else {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		return invalidResponse(c.o.ID, err)
	}
	return nil
}

// upstreamError translates a provider's error response.
func (c *Client) upstreamError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	typ, code, param, msg := ParseError(body)
	if msg == "" {
		msg = fmt.Sprintf("provider %s returned status %d", c.o.ID, resp.StatusCode)
	}
	e := gwerr.Upstream(resp.StatusCode, typ, code, provider.RedactSecret(msg, c.o.APIKey))
	e.Param = param
	e.RetryAfter = provider.RetryAfter(resp.Header)
	return e
}

func invalidResponse(id string, err error) error {
	return &gwerr.Error{Kind: gwerr.KindProvider, Status: http.StatusBadGateway, Type: gwerr.TypeAPI,
		Code: "invalid_upstream_response", Retryable: true, Cause: err,
		Message: fmt.Sprintf("provider %s returned a response that is not valid JSON of the expected shape", id)}
}

// ParseError extracts type, code, param and message from the error bodies
// OpenAI-compatible providers send: {"error":{...}}, {"error":"..."},
// {"message":"..."} or {"detail":"..."}.
func ParseError(body []byte) (typ, code, param, msg string) {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &env) != nil {
		return "", "", "", strings.TrimSpace(string(truncate(body, 500)))
	}
	if len(env.Error) > 0 {
		var obj struct {
			Message string          `json:"message"`
			Type    string          `json:"type"`
			Code    json.RawMessage `json:"code"`
			Param   string          `json:"param"`
		}
		if json.Unmarshal(env.Error, &obj) == nil && obj.Message != "" {
			return obj.Type, scalarString(obj.Code), obj.Param, obj.Message
		}
		var s string
		if json.Unmarshal(env.Error, &s) == nil && s != "" {
			return "", "", "", s
		}
	}
	if env.Message != "" {
		return "", "", "", env.Message
	}
	if len(env.Detail) > 0 {
		var s string
		if json.Unmarshal(env.Detail, &s) == nil {
			return "", "", "", s
		}
		return "", "", "", string(truncate(env.Detail, 500))
	}
	return "", "", "", ""
}

// scalarString renders a JSON string or number as text (codes are either).
func scalarString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
