// Package azure is the adapter for Azure OpenAI: the OpenAI wire format at
// deployment URLs ({endpoint}/openai/deployments/{deployment}/{op}
// ?api-version=…) with the api-key header.
package azure

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/openai"
)

// DefaultAPIVersion is the GA data-plane version used when none is set.
const DefaultAPIVersion = "2024-10-21"

// Adapter is an Azure OpenAI resource.
type Adapter struct {
	*openai.Client
}

// New builds an Adapter. The model of "azure-openai/<model>" names a
// deployment, directly or through the spec's deployments map.
func New(s provider.Spec) (provider.Provider, error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q is not an absolute URL", s.BaseURL)
	}
	endpoint := strings.TrimRight(s.BaseURL, "/")
	version := s.APIVersion
	if version == "" {
		version = DefaultAPIVersion
	}
	deployments := s.Deployments
	q := url.Values{"api-version": {version}}.Encode()
	return &Adapter{Client: openai.NewClient(openai.ClientOptions{
		ID:          s.ID,
		APIBase:     endpoint + "/openai",
		NativeBase:  endpoint,
		APIKey:      s.APIKey,
		Headers:     s.Headers,
		StreamUsage: s.StreamUsage,
		HTTP:        s.Client,
		URL: func(op openai.Operation, model string) string {
			if d, ok := deployments[model]; ok {
				model = d
			}
			return endpoint + "/openai/deployments/" + url.PathEscape(model) + "/" + string(op) + "?" + q
		},
		Authorize: func(h http.Header, key string) {
			if key != "" {
				h.Set("api-key", key)
			}
		},
	})}, nil
}

var (
	_ provider.Provider    = (*Adapter)(nil)
	_ provider.Embedder    = (*Adapter)(nil)
	_ provider.Forwarder   = (*Adapter)(nil)
	_ provider.UsageReader = (*Adapter)(nil)
)
