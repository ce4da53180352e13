package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/upstream"
	"github.com/aigateway/aigateway/internal/sse"
)

// Forward sends a native request to NativeBase + path, unchanged but for
// the credential: the caller's own is kept, otherwise the gateway's added.
func (c *Client) Forward(ctx context.Context, nr *provider.NativeRequest) (*http.Response, error) {
	req, err := upstream.NativeRequest(ctx, c.o.NativeBase+nr.Path, nr)
	if err != nil {
		return nil, err
	}
	if !provider.CallerCredential(nr.Header, nr.RawQuery) {
		for k, v := range c.o.Headers {
			req.Header.Set(k, v)
		}
		c.o.Authorize(req.Header, c.o.APIKey)
	}
	return c.o.HTTP.Do(req)
}

// usageEnvelope covers the usage shapes of OpenAI's APIs: Chat Completions
// and Embeddings ({"usage":{"prompt_tokens",...}}) and Responses
// ({"usage":{"input_tokens",...}}, in streams under "response").
type usageEnvelope struct {
	Model    string     `json:"model"`
	Usage    *wireUsage `json:"usage"`
	Response *struct {
		Model string     `json:"model"`
		Usage *wireUsage `json:"usage"`
	} `json:"response"`
}

type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	InputTokens         int `json:"input_tokens"`
	OutputTokens        int `json:"output_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	InputTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
}

func (w *wireUsage) canonical() llm.Usage {
	u := llm.Usage{
		PromptTokens:     w.PromptTokens + w.InputTokens,
		CompletionTokens: w.CompletionTokens + w.OutputTokens,
		TotalTokens:      w.TotalTokens,
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	cached := 0
	if w.PromptTokensDetails != nil {
		cached = w.PromptTokensDetails.CachedTokens
	}
	if w.InputTokensDetails != nil {
		cached = w.InputTokensDetails.CachedTokens
	}
	if cached > 0 {
		u.PromptTokensDetails = &llm.PromptTokensDetails{CachedTokens: cached}
	}
	return u
}

// NativeUsage reads usage from a native JSON body or event stream.
func (c *Client) NativeUsage(_ string, body []byte, stream bool) (llm.Usage, string, bool) {
	if !stream {
		var env usageEnvelope
		if json.Unmarshal(body, &env) != nil || env.Usage == nil {
			return llm.Usage{}, "", false
		}
		return env.Usage.canonical(), env.Model, true
	}
	var (
		found bool
		usage llm.Usage
		model string
	)
	r := sse.NewReader(bytes.NewReader(body))
	for {
		ev, err := r.Next()
		if err == io.EOF || err != nil {
			break
		}
		if len(ev.Data) == 0 || ev.Data[0] != '{' {
			continue
		}
		var env usageEnvelope
		if json.Unmarshal(ev.Data, &env) != nil {
			continue
		}
		if env.Model != "" {
			model = env.Model
		}
		if env.Usage != nil {
			usage, found = env.Usage.canonical(), true
		}
		if env.Response != nil && env.Response.Usage != nil {
			usage, found = env.Response.Usage.canonical(), true
			if env.Response.Model != "" {
				model = env.Response.Model
			}
		}
	}
	return usage, model, found
}
