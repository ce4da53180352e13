package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/sse"
)

// Forward sends a native request to the base URL + path unchanged, but for
// credentials: the caller's own are kept, otherwise the gateway's x-api-key
// (and configured headers) are added. anthropic-version, which Anthropic
// requires, is added when the caller sent none.
func (a *Adapter) Forward(ctx context.Context, nr *provider.NativeRequest) (*http.Response, error) {
	u := a.base + nr.Path
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
		a.setHeaders(req.Header)
	} else if req.Header.Get("anthropic-version") == "" {
		req.Header.Set("anthropic-version", a.version)
	}
	return a.http.Do(req)
}

// MessagesPath is the path of the Messages endpoint relative to the base
// URL, for native requests that the /v1/messages ingress forwards.
func (a *Adapter) MessagesPath() string {
	return strings.TrimPrefix(a.api, a.base) + "/messages"
}

// usageEnvelope is the part of a message (or a message_start or
// message_delta event) that carries the model and usage.
type usageEnvelope struct {
	Type    string      `json:"type"`
	Model   string      `json:"model"`
	Usage   *deltaUsage `json:"usage"`
	Message *struct {
		Model string `json:"model"`
		Usage *Usage `json:"usage"`
	} `json:"message"`
}

// NativeUsage reads usage from a native message (JSON) or from a Messages
// event stream: message_start's usage, updated by message_delta's totals.
func (a *Adapter) NativeUsage(_ string, body []byte, stream bool) (llm.Usage, string, bool) {
	return ReadUsage(body, stream)
}

// ReadUsage is NativeUsage as a pure function.
func ReadUsage(body []byte, stream bool) (llm.Usage, string, bool) {
	if !stream {
		var env usageEnvelope
		if json.Unmarshal(body, &env) != nil || env.Usage == nil || env.Type != "message" {
			return llm.Usage{}, "", false
		}
		var u Usage
		env.Usage.applyTo(&u)
		return CanonicalUsage(u), env.Model, true
	}
	var (
		u     Usage
		model string
		found bool
	)
	r := sse.NewReader(bytes.NewReader(body))
	for {
		ev, err := r.Next()
		if err != nil {
			break
		}
		if len(ev.Data) == 0 || ev.Data[0] != '{' {
			continue
		}
		var env usageEnvelope
		if json.Unmarshal(ev.Data, &env) != nil {
			continue
		}
		switch env.Type {
		case "message_start":
			if env.Message != nil && env.Message.Usage != nil {
				u, model, found = *env.Message.Usage, env.Message.Model, true
			}
		case "message_delta":
			if env.Usage != nil {
				env.Usage.applyTo(&u)
				found = true
			}
		}
	}
	return CanonicalUsage(u), model, found
}

var (
	_ provider.Provider    = (*Adapter)(nil)
	_ provider.ModelLister = (*Adapter)(nil)
	_ provider.Forwarder   = (*Adapter)(nil)
	_ provider.UsageReader = (*Adapter)(nil)
)
