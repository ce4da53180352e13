package workersai

import (
	"encoding/json"

	"github.com/aigateway/aigateway/internal/llm"
)

// The native types follow the Workers AI REST API (POST
// /accounts/{account}/ai/run/{model}) and the input and output schemas of
// its text-generation and text-embedding models.

type runRequest struct {
	Messages          []runMessage       `json:"messages"`
	Stream            bool               `json:"stream,omitempty"`
	MaxTokens         *int               `json:"max_tokens,omitempty"`
	Temperature       *float64           `json:"temperature,omitempty"`
	TopP              *float64           `json:"top_p,omitempty"`
	TopK              *int               `json:"top_k,omitempty"`
	Seed              *int64             `json:"seed,omitempty"`
	RepetitionPenalty *float64           `json:"repetition_penalty,omitempty"`
	FrequencyPenalty  *float64           `json:"frequency_penalty,omitempty"`
	PresencePenalty   *float64           `json:"presence_penalty,omitempty"`
	Tools             []llm.Tool         `json:"tools,omitempty"`
	ResponseFormat    *runResponseFormat `json:"response_format,omitempty"`
}

// runMessage is a chat message as the text-generation models take it:
// content is a string, or OpenAI-style parts for vision models.
type runMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
	ToolCalls  []llm.ToolCall  `json:"tool_calls,omitempty"`
}

type runResponseFormat struct {
	Type       string          `json:"type"`
	JSONSchema json.RawMessage `json:"json_schema,omitempty"`
}

// envelope is the Cloudflare API v4 response wrapper.
type envelope struct {
	Result   json.RawMessage `json:"result"`
	Success  bool            `json:"success"`
	Errors   []cfError       `json:"errors"`
	Messages json.RawMessage `json:"messages,omitempty"`
}

type cfError struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
}

// runResult is a text-generation result: the response text (an object in
// JSON mode on some models), tool calls and usage.
type runResult struct {
	Response  json.RawMessage `json:"response"`
	ToolCalls []runToolCall   `json:"tool_calls"`
	Usage     *runUsage       `json:"usage"`
	// Choices is set by models whose /run result is an OpenAI
	// chat.completion; it is then taken as it is.
	Choices json.RawMessage `json:"choices"`
}

// runToolCall covers both shapes models answer with: the traditional
// {"name","arguments":{…}} and the OpenAI-style {"id","type","function":
// {"name","arguments":"…"}} (in streams also with an index).
type runToolCall struct {
	Index     *int            `json:"index,omitempty"`
	ID        string          `json:"id,omitempty"`
	Type      string          `json:"type,omitempty"`
	Name      string          `json:"name,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Function  *struct {
		Name      string          `json:"name,omitempty"`
		Arguments json.RawMessage `json:"arguments,omitempty"`
	} `json:"function,omitempty"`
}

type runUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// streamEvent is one data line of a /run stream.
type streamEvent struct {
	Response  json.RawMessage `json:"response"`
	ToolCalls []runToolCall   `json:"tool_calls"`
	Usage     *runUsage       `json:"usage"`
	Errors    []cfError       `json:"errors"`
	Error     json.RawMessage `json:"error"`
	// Choices is set when a model streams OpenAI-format chunks.
	Choices json.RawMessage `json:"choices"`
}

type embedRequest struct {
	Text []string `json:"text"`
}

type embedResult struct {
	Shape []int       `json:"shape"`
	Data  [][]float64 `json:"data"`
}
