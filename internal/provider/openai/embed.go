package openai

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
)

// Embed sends an embeddings request.
func (c *Client) Embed(ctx context.Context, req *llm.EmbedRequest) (*llm.EmbedResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding embeddings request: %w", err))
	}
	resp, err := c.post(ctx, OpEmbed, req.Model, body, false)
	if err != nil {
		return nil, err
	}
	var out llm.EmbedResponse
	if err := c.readJSON(resp, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListModels lists the provider's models upstream, ids prefixed with the
// provider id.
func (a *Adapter) ListModels(ctx context.Context) ([]llm.Model, error) {
	return a.listModels(ctx)
}

func (c *Client) listModels(ctx context.Context) ([]llm.Model, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.o.URL(OpModels, ""), nil)
	if err != nil {
		return nil, fmt.Errorf("building models request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	c.setHeaders(req.Header)
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	var list struct {
		Data []llm.Model `json:"data"`
		// Ollama's native /api/tags shape is not used: /v1/models works there.
	}
	if err := c.readJSON(resp, &list); err != nil {
		return nil, err
	}
	out := make([]llm.Model, 0, len(list.Data))
	for _, m := range list.Data {
		if m.ID == "" {
			continue
		}
		if !strings.HasPrefix(m.ID, c.o.ID+"/") {
			m.ID = c.o.ID + "/" + m.ID
		}
		m.Object = "model"
		if m.OwnedBy == "" {
			m.OwnedBy = c.o.ID
		}
		if m.Created == 0 {
			m.Created = time.Now().Unix()
		}
		out = append(out, m)
	}
	return out, nil
}
