package gemini

import (
	"encoding/json"
	"fmt"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// toEmbed returns the embedding operation and its request: embedContent
// for one text, batchEmbedContents (one request per text, each naming the
// model) for several. dimensions becomes outputDimensionality.
func toEmbed(model string, texts []string, dimensions *int) (op string, req any) {
	mk := func(t string, withModel bool) embedRequest {
		r := embedRequest{Content: content{Parts: []part{{Text: t}}}, OutputDimensionality: dimensions}
		if withModel {
			r.Model = modelPath(model)
		}
		return r
	}
	if len(texts) == 1 {
		return "embedContent", mk(texts[0], false)
	}
	b := batchEmbedRequest{Requests: make([]embedRequest, len(texts))}
	for i, t := range texts {
		b.Requests[i] = mk(t, true)
	}
	return "batchEmbedContents", b
}

// fromEmbed translates an embedContent (n == 1) or batchEmbedContents
// answer to an OpenAI embeddings list. The Gemini API reports no token
// usage for embeddings, so none is set.
func fromEmbed(body []byte, n int, model, encoding string) (*llm.EmbedResponse, error) {
	var vectors [][]float64
	if n == 1 {
		var r embedResponse
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, err
		}
		if r.Embedding == nil {
			return nil, fmt.Errorf("embedContent answer has no embedding")
		}
		vectors = [][]float64{r.Embedding.Values}
	} else {
		var r batchEmbedResponse
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, err
		}
		for _, e := range r.Embeddings {
			vectors = append(vectors, e.Values)
		}
	}
	if len(vectors) != n {
		return nil, fmt.Errorf("asked for %d embeddings, got %d", n, len(vectors))
	}
	out := &llm.EmbedResponse{Object: "list", Model: model, Data: make([]llm.Embedding, n)}
	for i, v := range vectors {
		e, err := upstream.Embedding(i, v, encoding)
		if err != nil {
			return nil, err
		}
		out.Data[i] = e
	}
	return out, nil
}
