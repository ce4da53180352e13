package passthrough

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
)

// maxSteps bounds a universal request's fallback chain.
const maxSteps = 16

// Step is one entry of a universal request, in Cloudflare's shape: "query"
// is the JSON body sent to the provider's "endpoint".
type Step struct {
	Provider string            `json:"provider"`
	Endpoint string            `json:"endpoint"`
	Headers  map[string]string `json:"headers"`
	Query    json.RawMessage   `json:"query"`
}

// UniversalIngress decodes the universal endpoint's steps.
type UniversalIngress struct{}

// Name implements pipeline.Ingress.
func (UniversalIngress) Name() string { return "universal" }

// Decode implements pipeline.Ingress.
func (UniversalIngress) Decode(c *pipeline.Call) error {
	steps, err := DecodeSteps(c.Body)
	if err != nil {
		return err
	}
	c.Targets = make([]pipeline.Target, len(steps))
	for i, s := range steps {
		h := ForwardHeaders(c.HTTP.Header)
		for _, k := range []string{"Authorization", "X-Api-Key", "X-Goog-Api-Key", "Api-Key"} {
			h.Del(k) // a step's credentials are the step's own
		}
		for k, v := range s.Headers {
			h.Set(k, v)
		}
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
		path, query, _ := strings.Cut(s.Endpoint, "?")
		nr := &provider.NativeRequest{
			Method:   http.MethodPost,
			Path:     "/" + strings.TrimPrefix(path, "/"),
			RawQuery: query,
			Header:   h,
			Body:     []byte(s.Query),
		}
		model := llm.TopLevelString(s.Query, "model")
		if model == "" {
			model = modelFromPath(nr.Path)
		}
		c.Targets[i] = pipeline.Target{ProviderID: s.Provider, Model: model, Native: nr}
	}
	c.Model = steps[0].Provider
	if c.Targets[0].Model != "" {
		c.Model += "/" + c.Targets[0].Model
	}
	return nil
}

// DecodeSteps parses a universal body: an array of steps, or one step.
func DecodeSteps(body []byte) ([]Step, error) {
	body = bytes.TrimSpace(body)
	if len(body) > 0 && body[0] == '{' {
		body = append(append([]byte{'['}, body...), ']')
	}
	var steps []Step
	if err := httpx.DecodeJSON(body, &steps); err != nil {
		return nil, err
	}
	if len(steps) == 0 {
		return nil, gwerr.BadRequest("", "the universal endpoint needs a non-empty array of steps")
	}
	if len(steps) > maxSteps {
		return nil, gwerr.BadRequest("", "at most %d steps are allowed, got %d", maxSteps, len(steps))
	}
	for i, s := range steps {
		switch {
		case s.Provider == "":
			return nil, gwerr.BadRequest(fmt.Sprintf("[%d].provider", i), "step %d: provider is required", i)
		case s.Endpoint == "":
			return nil, gwerr.BadRequest(fmt.Sprintf("[%d].endpoint", i), "step %d: endpoint is required", i)
		case hasDotDot(s.Endpoint):
			return nil, gwerr.BadRequest(fmt.Sprintf("[%d].endpoint", i), "step %d: endpoint must not contain '..'", i)
		case len(bytes.TrimSpace(s.Query)) == 0:
			return nil, gwerr.BadRequest(fmt.Sprintf("[%d].query", i), "step %d: query (the request body) is required", i)
		}
		for k := range s.Headers {
			if k == "" || strings.ContainsAny(k, " :\r\n") {
				return nil, gwerr.BadRequest(fmt.Sprintf("[%d].headers", i), "step %d: %q is not a valid header name", i, k)
			}
		}
		for _, v := range s.Headers {
			if strings.ContainsAny(v, "\r\n") {
				return nil, gwerr.BadRequest(fmt.Sprintf("[%d].headers", i), "step %d: header values must not contain line breaks", i)
			}
		}
	}
	return steps, nil
}

// Universal handles POST /.
type Universal struct {
	Source httpx.Source
	Log    *slog.Logger
}

func (h *Universal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	serveNative(w, r, h.Source, h.Log, UniversalIngress{}, pipeline.KindUniversal)
}
