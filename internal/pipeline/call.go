// Package pipeline is the gateway's request path: the typed Call that
// carries one client request through it, the Handler and Middleware types
// that stages are written as, and the one ordered list of stages.
//
// Stages are small and each owns one concern (auth, limits, cache, routing,
// logging …). They are composed once per config snapshot; per request only
// the Call is allocated.
package pipeline

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
)

// Kind says what a call asks for.
type Kind uint8

const (
	// KindChat is a chat completion (also Anthropic messages, decoded to chat).
	KindChat Kind = iota + 1
	// KindEmbed is an embeddings request.
	KindEmbed
	// KindNative is a provider-native passthrough request.
	KindNative
	// KindUniversal is the universal endpoint: a client-written fallback
	// chain of native requests.
	KindUniversal
	// KindModels lists the models a caller may use.
	KindModels
)

func (k Kind) String() string {
	switch k {
	case KindChat:
		return "chat"
	case KindEmbed:
		return "embeddings"
	case KindNative:
		return "native"
	case KindUniversal:
		return "universal"
	case KindModels:
		return "models"
	}
	return "unknown"
}

// Ingress decodes a client's body into the call. Each HTTP API (OpenAI,
// Anthropic, passthrough) supplies its own, so decoding runs as a pipeline
// stage after authentication rather than in the handler.
type Ingress interface {
	// Name identifies the ingress format in logs ("openai", "anthropic", ...).
	Name() string
	// Decode fills the call's request fields from c.Body.
	Decode(c *Call) error
}

// Call is one client request on its way through the pipeline. Stages read
// what earlier stages wrote and add what later ones need; it is never shared
// between requests and needs no locking until a stream is handed to the
// HTTP layer (after which only the stream wrapper touches the outcome).
type Call struct {
	// ID is the log id, sent to the client as x-aig-log-id.
	ID string
	// Start is when the gateway received the request.
	Start time.Time
	// HTTP is the client's request: headers, URL, remote address. Its body
	// is read by the decode stage into Body.
	HTTP *http.Request
	// Ingress is the API the client called.
	Ingress Ingress
	// Kind is what the request asks for.
	Kind Kind
	// Options are the x-aig-* request headers, parsed.
	Options Options
	// ClientIP is the caller's address (after trusted-proxy resolution).
	ClientIP string
	// Identity is who is calling, as established by authentication.
	Identity Identity

	// Body is the raw request body.
	Body []byte
	// Model is the model the client asked for ("provider/model" or alias).
	Model string
	// Chat, Embed and Native hold the decoded request for their kind.
	Chat   *llm.ChatRequest
	Embed  *llm.EmbedRequest
	Native *provider.NativeRequest
	// Targets are the candidates the router tries in order. The decode
	// stage sets them for native and universal calls; routing resolves them
	// from Model otherwise.
	Targets []Target
	// NativeChat, set by an ingress that speaks a provider's own format
	// (the Anthropic ingress), may turn one attempt of a chat call into a
	// native one: for a target whose provider speaks that format it returns
	// the client's request to forward unchanged, so request and response
	// pass without translation; nil means translate as usual. The call
	// stays a chat call for every stage; its Result is then Native.
	NativeChat func(t *Target) *provider.NativeRequest

	// Prompt is the prompt template the call runs (POST /v1/prompts/{name}),
	// zero for other calls; the request log stores its name and version.
	Prompt PromptRef
	// Remask, set by the guardrails stage when it masked values in the
	// prompt, replaces those original values in a text by the placeholders
	// the provider saw. The request log applies it to the answer it
	// stores (the client got the values restored), so logs hold the masked
	// form; Chat and Body already hold the masked prompt.
	Remask func(text string) string

	// Outcome, filled in as the call proceeds.
	Outcome Outcome

	// RespHeader collects headers stages want sent to the client (rate-limit
	// state, cache status). Written before the response starts.
	RespHeader http.Header
}

// Identity is the authenticated caller.
type Identity struct {
	// KeyID is the gateway key's id (never the secret), empty when
	// unauthenticated.
	KeyID   string
	KeyName string
	// Tenant namespaces cache entries, logs and budgets.
	Tenant string
	// User is the end user (JWT sub or metadata), when known.
	User string
	// Tier is a free-form class (from JWT claims or key metadata) that
	// limits and routes can select on.
	Tier string
	// Scope restricts the models and providers the caller may use.
	Scope Scope
	// Quota is the credential's own rate limits and budget.
	Quota Quota
}

// Scope restricts what a caller may call. Patterns are globs ('*' matches
// any run of characters, '/' included); an empty list allows everything.
type Scope struct {
	// Models match "provider/model" or a model alias name.
	Models []string
	// Providers match provider ids.
	Providers []string
}

// Quota is a credential's own limits; zero fields mean none.
type Quota struct {
	// RPM and TPM are requests and tokens per minute.
	RPM, TPM int64
	// BudgetUSD is the spend allowed per BudgetPeriod ("day" or "month").
	BudgetUSD    float64
	BudgetPeriod string
}

// PromptRef names a stored prompt template and the version used.
type PromptRef struct {
	Name    string
	Version int
}

// Target is one candidate upstream for a call.
type Target struct {
	// ProviderID names the provider when Provider is not resolved yet
	// (native and universal calls name it in the path or body); the router
	// resolves it.
	ProviderID string
	Provider   provider.Provider
	// Model is the provider's own model name.
	Model string
	// Params override request parameters for this target (alias config).
	Params map[string]any
	// Deployment names the upstream deployment for health (circuit
	// breaker), load balancing and logs; empty means "provider/model".
	Deployment string
	// Native is the request for native/universal targets.
	Native *provider.NativeRequest
}

// Outcome is what happened to a call; logs, metrics and response headers
// are written from it.
type Outcome struct {
	Provider    string // provider id that served (or last tried)
	ServedModel string // model name as sent to that provider
	Step        int    // index of the target that served
	Attempts    int    // upstream attempts made, all targets
	// Route is the dynamic route and the branches it took
	// ("support/default/canary"), empty when no route chose the model.
	Route       string
	CacheStatus string
	Status      int
	Err         error

	Usage llm.Usage
	// UsageKnown says Usage holds counts: the provider's, or the gateway's
	// estimate when UsageEstimated is set too (the usage stage estimates
	// when the answer ends without provider usage).
	UsageKnown     bool
	UsageEstimated bool
	// CostUSD is set by the usage stage when the answer is complete (for a
	// stream, at its end); outer stages read it in their completion hooks.
	CostUSD float64

	UpstreamStart time.Time
	FirstByte     time.Time // first response byte (or stream event) from upstream
	End           time.Time

	// Flags are the guardrail checks that matched, as "ruleset/rule"
	// ("pii/email", "safety/injection", "safety/moderation:S1"), each
	// once, whatever their action (flag, mask, redact, block); stored on
	// the request log. A stream may add flags until it ends.
	Flags []string
}

// DeploymentKey is t's Deployment, or "provider/model".
func (t *Target) DeploymentKey() string {
	if t.Deployment != "" {
		return t.Deployment
	}
	id := t.ProviderID
	if t.Provider != nil {
		id = t.Provider.ID()
	}
	return id + "/" + t.Model
}

// Result is a call's answer: exactly one field is set.
type Result struct {
	Chat   *llm.ChatResponse
	Stream llm.Stream
	Embed  *llm.EmbedResponse
	Native *NativeResponse
	Models []llm.Model
}

// NativeResponse is a provider's native response, passed through unchanged.
type NativeResponse struct {
	Status int
	Header http.Header
	// Body streams the provider's bytes; the HTTP layer copies and closes it.
	Body io.ReadCloser
	// Streaming is true for event streams, which are flushed per read.
	Streaming bool
}

// Handler serves a call.
type Handler interface {
	Serve(ctx context.Context, c *Call) (*Result, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, c *Call) (*Result, error)

// Serve calls f.
func (f HandlerFunc) Serve(ctx context.Context, c *Call) (*Result, error) { return f(ctx, c) }

// Middleware is a stage: it wraps the rest of the pipeline.
type Middleware func(next Handler) Handler

// Chain composes stages so the first runs outermost.
func Chain(final Handler, stages ...Middleware) Handler {
	h := final
	for i := len(stages) - 1; i >= 0; i-- {
		if stages[i] != nil {
			h = stages[i](h)
		}
	}
	return h
}

// SetHeader records a header for the client response.
func (c *Call) SetHeader(k, v string) {
	if c.RespHeader == nil {
		c.RespHeader = make(http.Header, 4)
	}
	c.RespHeader.Set(k, v)
}
