// Package provider defines what a model provider adapter is, the optional
// capabilities an adapter may have, and the registry of configured providers.
//
// An adapter owns one wire format. It translates the canonical (OpenAI chat)
// request to the provider's native request, calls the provider, and
// translates the answer back. Capabilities beyond chat (embeddings, model
// listing, native passthrough) are separate small interfaces discovered by
// type assertion, so no adapter carries "unsupported" stubs.
package provider

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/aigateway/aigateway/internal/llm"
)

// Provider is a configured model provider that can chat.
type Provider interface {
	// ID is the provider id used in "provider/model" (e.g. "openai").
	ID() string
	// Chat sends a non-streamed chat request; req.Model is the provider's
	// own model name (no prefix).
	Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error)
	// ChatStream starts a streamed chat request. It returns once the
	// provider has accepted the request (status and headers received), so
	// failures before the first event are ordinary errors that routing may
	// retry; failures after that surface from Stream.Recv.
	ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error)
}

// Embedder is a provider with an embeddings endpoint.
type Embedder interface {
	Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error)
}

// ModelLister is a provider that can list its models upstream.
type ModelLister interface {
	ListModels(ctx context.Context) ([]llm.Model, error)
}

// Forwarder is a provider that accepts native (passthrough) requests.
type Forwarder interface {
	// Forward sends req to the provider's base URL + req.Path unchanged,
	// injecting the provider credential unless the caller brought its own.
	// The response body is the caller's to close.
	Forward(ctx context.Context, req *NativeRequest) (*http.Response, error)
}

// UsageReader is a Forwarder that can read token usage out of its native
// responses, so passthrough traffic counts toward logs, limits and budgets.
type UsageReader interface {
	// NativeUsage reads usage and the served model from a complete native
	// response body (JSON, or an event stream when stream is true) for the
	// request path; ok is false when it holds none.
	NativeUsage(path string, body []byte, stream bool) (u llm.Usage, model string, ok bool)
}

// NativeRequest is a passthrough request, relative to the provider's base URL.
type NativeRequest struct {
	Method string
	// Path is appended to the provider's base URL ("/chat/completions").
	Path string
	// RawQuery is the query string, kept exactly as the client sent it.
	RawQuery string
	Header   http.Header
	Body     []byte
}

// BodyReader returns a fresh reader over the body (requests may be retried).
func (r *NativeRequest) BodyReader() io.Reader {
	if len(r.Body) == 0 {
		return http.NoBody
	}
	return bytes.NewReader(r.Body)
}
