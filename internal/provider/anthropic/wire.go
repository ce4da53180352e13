package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
)

// DefaultVersion is the anthropic-version header sent when the provider
// config sets none.
const DefaultVersion = "2023-06-01"

// DefaultMaxTokens is sent as max_tokens when a canonical request has no
// limit: Anthropic requires one, and 4096 is an output length every Claude
// model supports.
const DefaultMaxTokens = 4096

// Request is a Messages API request body.
type Request struct {
	Model         string          `json:"model"`
	Messages      []Message       `json:"messages"`
	System        *Content        `json:"system,omitempty"`
	MaxTokens     *int            `json:"max_tokens,omitempty"`
	Metadata      *Metadata       `json:"metadata,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int            `json:"top_k,omitempty"`
	Tools         []Tool          `json:"tools,omitempty"`
	ToolChoice    *ToolChoice     `json:"tool_choice,omitempty"`
	Thinking      json.RawMessage `json:"thinking,omitempty"`
	OutputConfig  *OutputConfig   `json:"output_config,omitempty"`
	// OutputFormat is the structured-outputs beta's spelling of
	// output_config.format; it is read, never written.
	OutputFormat *OutputFormat `json:"output_format,omitempty"`
}

// Message is one turn of the conversation.
type Message struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
}

// Metadata is the request's metadata member.
type Metadata struct {
	UserID string `json:"user_id,omitempty"`
}

// OutputConfig is output_config; Format asks for structured output.
type OutputConfig struct {
	Format *OutputFormat `json:"format,omitempty"`
	Effort string        `json:"effort,omitempty"`
}

// OutputFormat is a structured-output format: {"type":"json_schema","schema":{...}}.
type OutputFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema,omitempty"`
}

// Tool is a tool definition. Client tools have no type (or "custom");
// server tools (web search, code execution …) have a versioned type.
type Tool struct {
	Type        string          `json:"type,omitempty"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// ToolChoice is tool_choice: auto, any, tool (with Name) or none.
type ToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse *bool  `json:"disable_parallel_tool_use,omitempty"`
}

// Content is message content, which Anthropic accepts as a plain string or
// as an array of content blocks. String remembers which it was (or is to
// be), so that a string stays a string through a round trip.
type Content struct {
	// String is set for string content; Blocks then holds one text block.
	String bool
	Blocks []Block
}

// TextContent returns string content.
func TextContent(s string) Content {
	return Content{String: true, Blocks: []Block{{Type: BlockText, Text: s}}}
}

// Text returns the text of the content's text blocks, joined.
func (c Content) Text() string {
	if len(c.Blocks) == 1 {
		return c.Blocks[0].Text
	}
	var b []byte
	for _, bl := range c.Blocks {
		if bl.Type == BlockText {
			b = append(b, bl.Text...)
		}
	}
	return string(b)
}

// MarshalJSON writes a string or an array of blocks.
func (c Content) MarshalJSON() ([]byte, error) {
	if c.String && len(c.Blocks) == 1 && c.Blocks[0].Type == BlockText {
		return json.Marshal(c.Blocks[0].Text)
	}
	if c.Blocks == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(c.Blocks)
}

var errContent = errors.New("content must be a string or an array of content blocks")

// UnmarshalJSON accepts a string or an array of blocks.
func (c *Content) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = TextContent(s)
		return nil
	case len(b) > 0 && b[0] == '[':
		var blocks []Block
		if err := json.Unmarshal(b, &blocks); err != nil {
			return err
		}
		*c = Content{Blocks: blocks}
		return nil
	}
	return errContent
}

// Content block types.
const (
	BlockText             = "text"
	BlockImage            = "image"
	BlockDocument         = "document"
	BlockToolUse          = "tool_use"
	BlockToolResult       = "tool_result"
	BlockThinking         = "thinking"
	BlockRedactedThinking = "redacted_thinking"
)

// Block is one content block. Only the members of its Type are used;
// MarshalJSON writes exactly those, so that, for instance, an empty text
// block still carries "text":"" as Anthropic's stream events do.
type Block struct {
	Type string `json:"type"`

	// text
	Text string `json:"text,omitempty"`

	// image, document
	Source *Source `json:"source,omitempty"`
	Title  string  `json:"title,omitempty"`

	// tool_use
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`

	// tool_result
	ToolUseID string   `json:"tool_use_id,omitempty"`
	Content   *Content `json:"content,omitempty"`
	IsError   bool     `json:"is_error,omitempty"`

	// thinking, redacted_thinking
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`

	// CacheControl is kept on blocks that carry it (prompt caching).
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// Source is where an image's or document's bytes come from.
type Source struct {
	// Type is base64, url, text or file.
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
	FileID    string `json:"file_id,omitempty"`
}

// Per-type encodings of Block.
type (
	textBlock struct {
		Type         string          `json:"type"`
		Text         string          `json:"text"`
		CacheControl json.RawMessage `json:"cache_control,omitempty"`
	}
	sourceBlock struct {
		Type         string          `json:"type"`
		Source       *Source         `json:"source"`
		Title        string          `json:"title,omitempty"`
		CacheControl json.RawMessage `json:"cache_control,omitempty"`
	}
	toolUseBlock struct {
		Type  string          `json:"type"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	}
	toolResultBlock struct {
		Type         string          `json:"type"`
		ToolUseID    string          `json:"tool_use_id"`
		Content      *Content        `json:"content,omitempty"`
		IsError      bool            `json:"is_error,omitempty"`
		CacheControl json.RawMessage `json:"cache_control,omitempty"`
	}
	thinkingBlock struct {
		Type      string `json:"type"`
		Thinking  string `json:"thinking"`
		Signature string `json:"signature"`
	}
	redactedBlock struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}
	plainBlock Block
)

// MarshalJSON writes the members of the block's type.
func (b Block) MarshalJSON() ([]byte, error) {
	switch b.Type {
	case BlockText:
		return json.Marshal(textBlock{b.Type, b.Text, b.CacheControl})
	case BlockImage, BlockDocument:
		return json.Marshal(sourceBlock{b.Type, b.Source, b.Title, b.CacheControl})
	case BlockToolUse:
		in := b.Input
		if len(in) == 0 {
			in = json.RawMessage("{}")
		}
		return json.Marshal(toolUseBlock{b.Type, b.ID, b.Name, in})
	case BlockToolResult:
		return json.Marshal(toolResultBlock{b.Type, b.ToolUseID, b.Content, b.IsError, b.CacheControl})
	case BlockThinking:
		return json.Marshal(thinkingBlock{b.Type, b.Thinking, b.Signature})
	case BlockRedactedThinking:
		return json.Marshal(redactedBlock{b.Type, b.Data})
	}
	return json.Marshal(plainBlock(b))
}

// Response is a Messages API response (type "message").
type Response struct {
	ID           string  `json:"id"`
	Type         string  `json:"type"`
	Role         string  `json:"role"`
	Content      []Block `json:"content"`
	Model        string  `json:"model"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
	Usage        Usage   `json:"usage"`
}

// Usage is Anthropic's token usage. Input tokens exclude the prompt tokens
// read from or written to the prompt cache, which are counted apart.
type Usage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	// OutputTokensDetails is sent by newer API versions; never written.
	OutputTokensDetails *OutputTokensDetails `json:"output_tokens_details,omitempty"`
}

// OutputTokensDetails breaks down output tokens.
type OutputTokensDetails struct {
	ThinkingTokens int `json:"thinking_tokens"`
}

// Stop reasons.
const (
	StopEndTurn      = "end_turn"
	StopMaxTokens    = "max_tokens"
	StopSequence     = "stop_sequence"
	StopToolUse      = "tool_use"
	StopPauseTurn    = "pause_turn"
	StopRefusal      = "refusal"
	StopContextLimit = "model_context_window_exceeded"
)

// ErrorBody is Anthropic's error envelope: {"type":"error","error":{...}}.
type ErrorBody struct {
	Type  string      `json:"type"`
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error member of ErrorBody.
type ErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}
