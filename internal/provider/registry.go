package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Spec is what a factory needs to build an adapter: the resolved provider
// settings of one config entry (defaults applied, environment expanded).
type Spec struct {
	ID      string
	Type    string // wire format: openai, azure-openai, anthropic, ...
	BaseURL string
	// APIPath is appended to BaseURL for the unified API when the
	// provider's OpenAI-format API lives below its root (Ollama: "/v1").
	APIPath string
	APIKey  string
	// Headers are added to every upstream request (e.g. OpenAI-Organization).
	Headers map[string]string
	// Models are listed by GET /v1/models in addition to upstream listings.
	Models []string

	// APIVersion is Azure's api-version or Anthropic's anthropic-version.
	APIVersion string
	// Deployments maps model names to Azure deployment names.
	Deployments map[string]string
	// AccountID is the Cloudflare account of Workers AI.
	AccountID string
	// AWS credentials and region for Bedrock.
	Region, AccessKeyID, SecretAccessKey, SessionToken string
	// StreamUsage asks OpenAI-format upstreams for a usage chunk in every
	// stream (stream_options.include_usage); on unless a vendor rejects it.
	StreamUsage bool

	// Client is the shared, tuned upstream HTTP client.
	Client *http.Client
}

// Base is BaseURL without trailing slashes, or an error when BaseURL is
// not an absolute URL.
func (s *Spec) Base() (string, error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("base_url %q is not an absolute URL", s.BaseURL)
	}
	return strings.TrimRight(s.BaseURL, "/"), nil
}

// HTTPClient is Client, or http.DefaultClient when none is set.
func (s *Spec) HTTPClient() *http.Client {
	if s.Client == nil {
		return http.DefaultClient
	}
	return s.Client
}

// Factory builds an adapter for one wire format.
type Factory func(Spec) (Provider, error)

// Registry holds the configured providers by id. It is built once per
// config snapshot and read-only afterwards.
type Registry struct {
	byID map[string]Provider
	ids  []string
}

// NewRegistry builds a registry from one factory per wire format and the
// provider specs.
func NewRegistry(factories map[string]Factory, specs []Spec) (*Registry, error) {
	r := &Registry{byID: make(map[string]Provider, len(specs))}
	for _, s := range specs {
		if _, dup := r.byID[s.ID]; dup {
			return nil, fmt.Errorf("provider %q configured twice", s.ID)
		}
		f, ok := factories[s.Type]
		if !ok {
			return nil, fmt.Errorf("provider %q: unknown type %q", s.ID, s.Type)
		}
		p, err := f(s)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", s.ID, err)
		}
		r.byID[s.ID] = p
		r.ids = append(r.ids, s.ID)
	}
	sort.Strings(r.ids)
	return r, nil
}

// Lookup returns the provider with the id.
func (r *Registry) Lookup(id string) (Provider, bool) {
	p, ok := r.byID[id]
	return p, ok
}

// IDs returns the provider ids in sorted order.
func (r *Registry) IDs() []string { return r.ids }

// SplitModel splits "provider/model" at the first slash. Model names may
// themselves contain slashes (workers-ai/@cf/meta/..., openrouter/a/b).
func SplitModel(s string) (providerID, model string, ok bool) {
	providerID, model, ok = strings.Cut(s, "/")
	if !ok || providerID == "" || model == "" {
		return "", "", false
	}
	return providerID, model, true
}
