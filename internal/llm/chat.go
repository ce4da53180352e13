package llm

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Message roles.
const (
	RoleSystem    = "system"
	RoleDeveloper = "developer"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// ChatRequest is an OpenAI Chat Completions request.
type ChatRequest struct {
	Model               string          `json:"model"`
	Messages            []Message       `json:"messages"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *StreamOptions  `json:"stream_options,omitempty"`
	MaxTokens           *int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64        `json:"temperature,omitempty"`
	TopP                *float64        `json:"top_p,omitempty"`
	N                   *int            `json:"n,omitempty"`
	Stop                Stop            `json:"stop,omitempty"`
	PresencePenalty     *float64        `json:"presence_penalty,omitempty"`
	FrequencyPenalty    *float64        `json:"frequency_penalty,omitempty"`
	Seed                *int64          `json:"seed,omitempty"`
	User                string          `json:"user,omitempty"`
	Tools               []Tool          `json:"tools,omitempty"`
	ToolChoice          *ToolChoice     `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat      *ResponseFormat `json:"response_format,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`

	// Extra holds every other member (logit_bias, logprobs, metadata,
	// provider-specific parameters …) verbatim.
	Extra Extra `json:"-"`
}

// StreamOptions is the stream_options member.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// MaxOutputTokens returns max_completion_tokens, or max_tokens, or 0.
func (r *ChatRequest) MaxOutputTokens() int {
	if r.MaxCompletionTokens != nil {
		return *r.MaxCompletionTokens
	}
	if r.MaxTokens != nil {
		return *r.MaxTokens
	}
	return 0
}

// WantsUsageInStream reports whether the client asked for the final usage chunk.
func (r *ChatRequest) WantsUsageInStream() bool {
	return r.StreamOptions != nil && r.StreamOptions.IncludeUsage
}

type chatRequestJSON ChatRequest

var chatRequestKeys = map[string]bool{
	"model": true, "messages": true, "stream": true, "stream_options": true,
	"max_tokens": true, "max_completion_tokens": true, "temperature": true,
	"top_p": true, "n": true, "stop": true, "presence_penalty": true,
	"frequency_penalty": true, "seed": true, "user": true, "tools": true,
	"tool_choice": true, "parallel_tool_calls": true, "response_format": true,
	"reasoning_effort": true,
}

// UnmarshalJSON decodes the known members and keeps the rest in Extra. It
// validates b itself (as json.Unmarshal does), so it may be called directly
// on untrusted bytes.
func (r *ChatRequest) UnmarshalJSON(b []byte) error {
	if decodeRequestFast(b, r) {
		return nil
	}
	return r.unmarshalGeneral(b)
}

// unmarshalGeneral is UnmarshalJSON through encoding/json.
func (r *ChatRequest) unmarshalGeneral(b []byte) error {
	var w chatRequestJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	extra, err := collectExtra(b, chatRequestKeys)
	if err != nil {
		return err
	}
	w.Extra = extra
	*r = ChatRequest(w)
	return nil
}

// MarshalJSON encodes the known members followed by Extra. Its output is
// byte for byte what json.Marshal returns for r, so encoders may call it
// directly.
func (r ChatRequest) MarshalJSON() ([]byte, error) {
	if b, ok := r.marshalSpliced(); ok {
		return appendExtra(b, r.Extra)
	}
	b, err := json.Marshal(chatRequestJSON(r))
	if err != nil {
		return nil, err
	}
	return appendExtra(b, r.Extra)
}

// marshalSpliced encodes the request with encoding/json but for the
// messages, which it splices in as Message.MarshalJSON writes them. Those
// bytes are already what json.Marshal embeds (compact, HTML-escaped), but
// encoding/json would validate and compact them once more: a second pass
// over every prompt. ok is false when the general path must do the work
// (no messages array, an error to report, an unexpected layout).
func (r ChatRequest) marshalSpliced() (b []byte, ok bool) {
	msgs := r.Messages
	if msgs == nil {
		return nil, false
	}
	r.Messages = nil
	head, err := json.Marshal(chatRequestJSON(r))
	if err != nil {
		return nil, false
	}
	model, err := json.Marshal(r.Model)
	if err != nil {
		return nil, false
	}
	// chatRequestJSON encodes "model" first and "messages" second
	prefix := len(`{"model":`) + len(model)
	const null = `,"messages":null`
	if len(head) < prefix+len(null) || string(head[:len(`{"model":`)]) != `{"model":` ||
		string(head[prefix:prefix+len(null)]) != null {
		return nil, false
	}
	// messages are appended in place (appendMessage), sized by a guess
	// that is exact for plain text without escapes
	size := len(head) + 2
	for i := range msgs {
		m := &msgs[i]
		size += 64 + len(m.Role) + len(m.Content.text) + len(m.Name) + len(m.ToolCallID) + len(m.ReasoningContent)
	}
	out := make([]byte, 0, size)
	out = append(out, head[:prefix]...)
	out = append(out, `,"messages":[`...)
	for i := range msgs {
		if i > 0 {
			out = append(out, ',')
		}
		if out, err = appendMessage(out, &msgs[i]); err != nil {
			return nil, false
		}
	}
	out = append(out, ']')
	return append(out, head[prefix+len(null):]...), true
}

// Message is one chat message.
type Message struct {
	Role       string     `json:"role"`
	Content    Content    `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	Refusal    *string    `json:"refusal,omitempty"`

	// ReasoningContent carries a model's visible reasoning (DeepSeek, Groq
	// and others use this member; Anthropic's thinking maps onto it).
	ReasoningContent string `json:"reasoning_content,omitempty"`

	Extra Extra `json:"-"`
}

type messageJSON Message

var messageKeys = map[string]bool{
	"role": true, "content": true, "name": true, "tool_calls": true,
	"tool_call_id": true, "refusal": true, "reasoning_content": true,
}

// UnmarshalJSON decodes the known members and keeps the rest in Extra.
func (m *Message) UnmarshalJSON(b []byte) error {
	if decodeMessageFast(b, m) {
		return nil
	}
	return m.unmarshalGeneral(b)
}

// unmarshalGeneral is UnmarshalJSON through encoding/json.
func (m *Message) unmarshalGeneral(b []byte) error {
	var w messageJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	extra, err := collectExtra(b, messageKeys)
	if err != nil {
		return err
	}
	w.Extra = extra
	*m = Message(w)
	return nil
}

// MarshalJSON encodes the known members followed by Extra.
func (m Message) MarshalJSON() ([]byte, error) {
	if m.Content.kind != contentParts && len(m.ToolCalls) == 0 && len(m.Extra) == 0 {
		return appendPlainMessage(make([]byte, 0, 64+len(m.Content.text)+len(m.ReasoningContent)), &m), nil
	}
	b, err := json.Marshal(m.wire())
	if err != nil {
		return nil, err
	}
	return appendExtra(b, m.Extra)
}

// messageWire is Message as encoded, with the content as a plain value:
// encoding/json then escapes the text once, where Content.MarshalJSON's
// output would be validated and compacted again (a second pass over every
// prompt). TestMessageWireMirrorsMessage keeps the two types in step.
type messageWire struct {
	Role             string     `json:"role"`
	Content          any        `json:"content"`
	Name             string     `json:"name,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID       string     `json:"tool_call_id,omitempty"`
	Refusal          *string    `json:"refusal,omitempty"`
	ReasoningContent string     `json:"reasoning_content,omitempty"`
}

func (m *Message) wire() messageWire {
	w := messageWire{Role: m.Role, Name: m.Name, ToolCalls: m.ToolCalls, ToolCallID: m.ToolCallID,
		Refusal: m.Refusal, ReasoningContent: m.ReasoningContent}
	switch c := m.Content; c.kind {
	case contentText:
		w.Content = c.text
	case contentParts:
		// as Content.MarshalJSON: nil parts are an empty array
		if c.parts == nil {
			w.Content = []Part{}
		} else {
			w.Content = c.parts
		}
	}
	return w
}

// Stop is the stop member: a string or an array of strings, kept as a list.
type Stop []string

// UnmarshalJSON accepts a string, an array of strings, or null.
func (s *Stop) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = nil
		return nil
	case len(b) > 0 && b[0] == '"':
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = Stop{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("stop must be a string or an array of strings")
	}
	*s = many
	return nil
}

// Tool is a tool the model may call. Only function tools exist in the
// Chat Completions API; other types are carried through unchanged.
type Tool struct {
	Type     string       `json:"type"`
	Function FunctionSpec `json:"function"`
}

// FunctionSpec declares a function tool.
type FunctionSpec struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ToolCall is a call the model made (or, in a stream, a fragment of one).
type ToolCall struct {
	// Index is set only in stream deltas, where fragments of several calls
	// are told apart by it.
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is the function part of a tool call; Arguments is a JSON text.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// Tool choice modes.
const (
	ToolChoiceNone     = "none"
	ToolChoiceAuto     = "auto"
	ToolChoiceRequired = "required"
	ToolChoiceFunction = "function"
)

// ToolChoice is tool_choice: a mode string, or a named function.
type ToolChoice struct {
	// Mode is none, auto, required, or function (then Function names it).
	Mode     string
	Function string
}

// MarshalJSON encodes a mode string or {"type":"function",...}.
func (t ToolChoice) MarshalJSON() ([]byte, error) {
	if t.Mode == ToolChoiceFunction {
		return json.Marshal(map[string]any{
			"type":     "function",
			"function": map[string]string{"name": t.Function},
		})
	}
	return json.Marshal(t.Mode)
}

// UnmarshalJSON accepts a mode string or a function object.
func (t *ToolChoice) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var mode string
		if err := json.Unmarshal(b, &mode); err != nil {
			return err
		}
		*t = ToolChoice{Mode: mode}
		return nil
	}
	var obj struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return errors.New("tool_choice must be a string or a function object")
	}
	*t = ToolChoice{Mode: ToolChoiceFunction, Function: obj.Function.Name}
	return nil
}

// Response format types.
const (
	FormatText       = "text"
	FormatJSONObject = "json_object"
	FormatJSONSchema = "json_schema"
)

// ResponseFormat is response_format (JSON mode / structured output).
type ResponseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *JSONSchema `json:"json_schema,omitempty"`
}

// JSONSchema is the schema for structured output.
type JSONSchema struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}
