package openai

import (
	"strings"

	"github.com/aigateway/aigateway/internal/provider"
)

// Adapter is an OpenAI-format provider: chat, embeddings, model listing and
// native passthrough.
type Adapter struct {
	*Client
}

// New builds an Adapter from a provider spec. Passthrough paths are
// appended to the base URL; the unified API uses base URL + APIPath (Ollama
// serves its OpenAI-format API under "/v1" of its root URL).
func New(s provider.Spec) (provider.Provider, error) {
	base, err := s.Base()
	if err != nil {
		return nil, err
	}
	api := base
	if s.APIPath != "" && !strings.HasSuffix(base, strings.TrimRight(s.APIPath, "/")) {
		api = base + "/" + strings.Trim(s.APIPath, "/")
	}
	return &Adapter{Client: NewClient(ClientOptions{
		ID:          s.ID,
		APIBase:     api,
		NativeBase:  base,
		APIKey:      s.APIKey,
		Headers:     s.Headers,
		StreamUsage: s.StreamUsage,
		HTTP:        s.Client,
	})}, nil
}

var (
	_ provider.Provider    = (*Adapter)(nil)
	_ provider.Embedder    = (*Adapter)(nil)
	_ provider.ModelLister = (*Adapter)(nil)
	_ provider.Forwarder   = (*Adapter)(nil)
	_ provider.UsageReader = (*Adapter)(nil)
)
