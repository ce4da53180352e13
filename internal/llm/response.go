package llm

import "encoding/json"

// Finish reasons of the OpenAI vocabulary.
const (
	FinishStop          = "stop"
	FinishLength        = "length"
	FinishToolCalls     = "tool_calls"
	FinishContentFilter = "content_filter"
)

// ChatResponse is an OpenAI chat.completion object.
type ChatResponse struct {
	ID                string   `json:"id"`
	Object            string   `json:"object"`
	Created           int64    `json:"created"`
	Model             string   `json:"model"`
	Choices           []Choice `json:"choices"`
	Usage             *Usage   `json:"usage,omitempty"`
	SystemFingerprint string   `json:"system_fingerprint,omitempty"`
	ServiceTier       string   `json:"service_tier,omitempty"`

	Extra Extra `json:"-"`
}

// Choice is one completion choice.
type Choice struct {
	Index        int             `json:"index"`
	Message      Message         `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

type chatResponseJSON ChatResponse

var chatResponseKeys = map[string]bool{
	"id": true, "object": true, "created": true, "model": true, "choices": true,
	"usage": true, "system_fingerprint": true, "service_tier": true,
}

// UnmarshalJSON decodes the known members and keeps the rest in Extra. It
// validates b itself, so it may be called directly on untrusted bytes.
func (r *ChatResponse) UnmarshalJSON(b []byte) error {
	if decodeResponseFast(b, r) {
		return nil
	}
	return r.unmarshalGeneral(b)
}

// unmarshalGeneral is UnmarshalJSON through encoding/json.
func (r *ChatResponse) unmarshalGeneral(b []byte) error {
	var w chatResponseJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	extra, err := collectExtra(b, chatResponseKeys)
	if err != nil {
		return err
	}
	w.Extra = extra
	*r = ChatResponse(w)
	return nil
}

// MarshalJSON encodes the known members followed by Extra, byte for byte
// as json.Marshal does, so encoders may call it directly.
func (r ChatResponse) MarshalJSON() ([]byte, error) {
	b, err := appendChatResponse(make([]byte, 0, r.sizeHint()), &r)
	if err != nil {
		return nil, err
	}
	return appendExtra(b, r.Extra)
}

// sizeHint is about the encoded size, so the encoder grows its buffer at
// most once or twice.
func (r *ChatResponse) sizeHint() int {
	n := 256 + len(r.ID) + len(r.Model)
	for i := range r.Choices {
		m := &r.Choices[i].Message
		n += 96 + len(m.Content.text) + len(m.ReasoningContent) + len(r.Choices[i].Logprobs)
	}
	return n
}

// Usage is token usage in OpenAI's shape.
type Usage struct {
	PromptTokens            int                      `json:"prompt_tokens"`
	CompletionTokens        int                      `json:"completion_tokens"`
	TotalTokens             int                      `json:"total_tokens"`
	PromptTokensDetails     *PromptTokensDetails     `json:"prompt_tokens_details,omitempty"`
	CompletionTokensDetails *CompletionTokensDetails `json:"completion_tokens_details,omitempty"`
}

// PromptTokensDetails breaks down prompt tokens.
type PromptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
	// CacheWriteTokens counts prompt tokens written to a provider's prompt
	// cache (Anthropic's cache_creation_input_tokens); billed differently.
	CacheWriteTokens int `json:"cache_write_tokens,omitempty"`
	AudioTokens      int `json:"audio_tokens,omitempty"`
}

// CompletionTokensDetails breaks down completion tokens.
type CompletionTokensDetails struct {
	ReasoningTokens int `json:"reasoning_tokens"`
	AudioTokens     int `json:"audio_tokens,omitempty"`
}

// CachedTokens returns the prompt tokens served from the provider's cache.
func (u *Usage) CachedTokens() int {
	if u == nil || u.PromptTokensDetails == nil {
		return 0
	}
	return u.PromptTokensDetails.CachedTokens
}

// IsZero reports whether no tokens are counted.
func (u *Usage) IsZero() bool {
	return u == nil || (u.PromptTokens == 0 && u.CompletionTokens == 0 && u.TotalTokens == 0)
}

// ChatChunk is an OpenAI chat.completion.chunk stream event.
type ChatChunk struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	Created           int64         `json:"created"`
	Model             string        `json:"model"`
	Choices           []ChunkChoice `json:"choices"`
	Usage             *Usage        `json:"usage,omitempty"`
	SystemFingerprint string        `json:"system_fingerprint,omitempty"`
	ServiceTier       string        `json:"service_tier,omitempty"`

	// Raw, when set, is this chunk exactly as an OpenAI-format provider sent
	// it. Encoders may write Raw instead of re-encoding; any stage that
	// changes the chunk must set Raw to nil.
	Raw []byte `json:"-"`
}

// ChunkChoice is one choice's delta in a stream event.
type ChunkChoice struct {
	Index        int             `json:"index"`
	Delta        Delta           `json:"delta"`
	FinishReason *string         `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs,omitempty"`
}

// Delta is the incremental message content of a stream event.
type Delta struct {
	Role             string     `json:"role,omitempty"`
	Content          *string    `json:"content,omitempty"`
	ReasoningContent *string    `json:"reasoning_content,omitempty"`
	Refusal          *string    `json:"refusal,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
}

// MarshalJSON encodes the chunk, keeping choices an array even when empty
// (the final usage chunk has "choices":[]).
func (c ChatChunk) MarshalJSON() ([]byte, error) {
	type plain ChatChunk
	if c.Choices == nil {
		c.Choices = []ChunkChoice{}
	}
	return json.Marshal(plain(c))
}

// Model is an entry of the model list.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the GET /v1/models response.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}
