package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"unicode"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/store"
)

// Embedder turns a prompt into a vector for the semantic cache.
type Embedder interface {
	// Name identifies the embedding space: vectors of different embedders
	// are never compared (it is part of the semantic scope).
	Name() string
	Embed(ctx context.Context, text string) ([]float32, error)
}

// LocalEmbedder is the offline default: hashed character trigrams and
// words, no model and no network. Its similarity is lexical — prompts
// that share most of their words and spelling — not a judgement of
// meaning: "capital of France?" and "what is France's capital" are close,
// a paraphrase with other words is not.
type LocalEmbedder struct {
	// Dims is the vector size (default 512).
	Dims int
}

// Name implements Embedder.
func (e LocalEmbedder) Name() string { return fmt.Sprintf("local-ngram-%d", e.dims()) }

func (e LocalEmbedder) dims() int {
	if e.Dims <= 0 {
		return 512
	}
	return e.Dims
}

// Embed implements Embedder. Text is case-folded and split into words;
// each word counts once, each of its padded character trigrams once (so
// typos and inflections still overlap), all hashed into Dims buckets with
// a hashed sign to keep collisions from adding up.
func (e LocalEmbedder) Embed(_ context.Context, text string) ([]float32, error) {
	v := make([]float32, e.dims())
	add := func(feature string, w float32) {
		h := fnv.New64a()
		h.Write([]byte(feature))
		x := h.Sum64()
		i := int(x % uint64(len(v)))
		if x>>63 == 1 {
			w = -w
		}
		v[i] += w
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		add("w:"+w, 1)
		r := []rune(" " + w + " ")
		for i := 0; i+3 <= len(r); i++ {
			add(string(r[i:i+3]), 0.5)
		}
	}
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if norm > 0 {
		n := float32(math.Sqrt(norm))
		for i := range v {
			v[i] /= n
		}
	}
	return v, nil
}

// ProviderEmbedder embeds prompts with an embedding model of one of the
// gateway's own providers.
type ProviderEmbedder struct {
	Provider provider.Embedder
	// ID is the provider id, Model its model name (no prefix).
	ID, Model string
}

// Name implements Embedder.
func (e ProviderEmbedder) Name() string { return e.ID + "/" + e.Model }

// Embed implements Embedder.
func (e ProviderEmbedder) Embed(ctx context.Context, text string) ([]float32, error) {
	in, err := json.Marshal(text)
	if err != nil {
		return nil, err
	}
	resp, err := e.Provider.Embed(ctx, &llm.EmbedRequest{Model: e.Model, Input: in})
	if err != nil {
		return nil, fmt.Errorf("embedding the prompt with %s: %w", e.Name(), err)
	}
	if len(resp.Data) == 0 {
		return nil, fmt.Errorf("embedding the prompt with %s: no vector in the answer", e.Name())
	}
	var v []float32
	if err := json.Unmarshal(resp.Data[0].Embedding, &v); err != nil || len(v) == 0 {
		return nil, fmt.Errorf("embedding the prompt with %s: the vector is not a float array", e.Name())
	}
	return v, nil
}

// semanticPrompt returns the text to embed for a chat request and the
// sequence of roles, or ok false when the request is not eligible: only
// text conversations are compared by similarity. Images, audio, files and
// tool calls cannot be judged by their text, so such requests use the
// exact cache only.
func semanticPrompt(r *llm.ChatRequest) (text, roles string, ok bool) {
	var b, rb strings.Builder
	for _, m := range r.Messages {
		if len(m.ToolCalls) > 0 || m.ToolCallID != "" || len(m.Extra) > 0 {
			return "", "", false
		}
		if m.Content.IsParts() {
			for _, p := range m.Content.Parts() {
				if p.Type != llm.PartText {
					return "", "", false
				}
			}
		}
		b.WriteString(m.Role)
		b.WriteString(": ")
		b.WriteString(m.Content.Text())
		b.WriteByte('\n')
		rb.WriteString(m.Role)
		rb.WriteByte(',')
	}
	return b.String(), rb.String(), true
}

// temperature is the request's temperature, 1 (OpenAI's default) when it
// sets none.
func temperature(r *llm.ChatRequest) float64 {
	if r.Temperature == nil {
		return 1
	}
	return *r.Temperature
}

// semanticLookup is a miss's prompt vector and scope, kept to index the
// answer once it is stored.
type semanticLookup struct {
	scope string
	vec   []int8
}

// semantic looks for a stored answer to a similar prompt. It returns the
// lookup (nil when the request is not eligible or embedding failed) and,
// on a hit, the answer and its entry.
func (s *stage) semantic(ctx context.Context, c *pipeline.Call, d decision) (*semanticLookup, *pipeline.Result, []byte) {
	text, roles, ok := semanticPrompt(c.Chat)
	if !ok {
		return nil, nil, nil
	}
	params, err := chatCanonical(c.Chat, true)
	if err != nil {
		return nil, nil, nil
	}
	emb := s.p.Semantic.Embedder
	scope := d.ns + "/v:" + digest([]byte(emb.Name()), []byte(s.target(c.Model)), params, []byte(roles))
	ectx, cancel := context.WithTimeout(ctx, s.p.Semantic.Timeout)
	v, err := emb.Embed(ectx, text)
	cancel()
	if err != nil {
		s.e.stats.embedFaults.Add(1)
		s.e.opts.Log.Warn("semantic cache: embedding failed; using the exact cache only", "log_id", c.ID, "embedder", emb.Name(), "error", err)
		return nil, nil, nil
	}
	sem := &semanticLookup{scope: scope, vec: store.Quantize(v)}
	ictx := ctx
	if s.p.Timeout > 0 {
		var cancel context.CancelFunc
		ictx, cancel = context.WithTimeout(ctx, s.p.Timeout)
		defer cancel()
	}
	key, _, err := s.e.opts.Index.Nearest(ictx, scope, sem.vec, s.p.Semantic.Threshold)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.e.fault("searching similar prompts", err)
		}
		return sem, nil, nil
	}
	raw, err := s.get(ctx, key)
	if err != nil {
		return sem, nil, nil // expired or purged since it was indexed
	}
	res, ok := s.answer(c, raw, StatusSemanticHit)
	if !ok {
		return sem, nil, nil
	}
	return sem, res, raw
}
