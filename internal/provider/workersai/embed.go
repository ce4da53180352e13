package workersai

import (
	"encoding/json"
	"fmt"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// fromEmbed translates a text-embedding result ({"shape":[n,d],
// "data":[[…],…]}) to an OpenAI embeddings list. Workers AI reports no
// token usage for embeddings, so none is set.
func fromEmbed(result json.RawMessage, n int, model, encoding string) (*llm.EmbedResponse, error) {
	var r embedResult
	if err := json.Unmarshal(result, &r); err != nil {
		return nil, err
	}
	if len(r.Data) != n {
		return nil, fmt.Errorf("asked for %d embeddings, got %d", n, len(r.Data))
	}
	out := &llm.EmbedResponse{Object: "list", Model: model, Data: make([]llm.Embedding, n)}
	for i, v := range r.Data {
		e, err := upstream.Embedding(i, v, encoding)
		if err != nil {
			return nil, err
		}
		out.Data[i] = e
	}
	return out, nil
}
