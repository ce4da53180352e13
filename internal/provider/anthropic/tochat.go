package anthropic

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
)

// DecodeRequest parses and validates a Messages request body as the
// /v1/messages ingress receives it. Errors are 400s worded like
// Anthropic's, naming the member ("messages.0.content").
func DecodeRequest(body []byte) (*Request, error) {
	if len(body) == 0 {
		return nil, gwerr.BadRequest("", "request body is empty; expected a JSON object")
	}
	var r Request
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badJSON(err)
	}
	if r.Model == "" {
		return nil, gwerr.BadRequest("model", "model: Field required")
	}
	if r.MaxTokens == nil {
		return nil, gwerr.BadRequest("max_tokens", "max_tokens: Field required")
	}
	if *r.MaxTokens < 1 {
		return nil, gwerr.BadRequest("max_tokens", "max_tokens: Input should be greater than or equal to 1")
	}
	if len(r.Messages) == 0 {
		return nil, gwerr.BadRequest("messages", "messages: at least one message is required")
	}
	for i, m := range r.Messages {
		switch m.Role {
		case "user", "assistant", "system":
		default:
			return nil, gwerr.BadRequest(fmt.Sprintf("messages.%d.role", i),
				"messages.%d.role: Input should be 'user' or 'assistant', got %q", i, m.Role)
		}
		for j, b := range m.Content.Blocks {
			path := fmt.Sprintf("messages.%d.content.%d", i, j)
			switch {
			case b.Type == "":
				return nil, gwerr.BadRequest(path+".type", "%s.type: Field required", path)
			case b.Type == BlockToolUse && (b.ID == "" || b.Name == ""):
				return nil, gwerr.BadRequest(path, "%s: tool_use blocks need an id and a name", path)
			case b.Type == BlockToolResult && b.ToolUseID == "":
				return nil, gwerr.BadRequest(path+".tool_use_id", "%s.tool_use_id: Field required", path)
			case (b.Type == BlockImage || b.Type == BlockDocument) && b.Source == nil:
				return nil, gwerr.BadRequest(path+".source", "%s.source: Field required", path)
			}
		}
	}
	for i, t := range r.Tools {
		if t.Name == "" {
			return nil, gwerr.BadRequest(fmt.Sprintf("tools.%d.name", i), "tools.%d.name: Field required", i)
		}
	}
	if tc := r.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto", "any", "none":
		case "tool":
			if tc.Name == "" {
				return nil, gwerr.BadRequest("tool_choice.name", "tool_choice.name: Field required")
			}
		default:
			return nil, gwerr.BadRequest("tool_choice.type", "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
		}
	}
	return &r, nil
}

func badJSON(err error) *gwerr.Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return gwerr.BadRequest("", "request body is not valid JSON: %s (at byte %d)", se.Error(), se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return gwerr.BadRequest("", "request body must be a JSON object")
		}
		return gwerr.BadRequest(te.Field, "%s: invalid type (got JSON %s)", te.Field, te.Value)
	case errors.Is(err, errContent):
		return gwerr.BadRequest("", "invalid request body: %s", err.Error())
	}
	return gwerr.BadRequest("", "invalid request body: %s", err.Error())
}

// ToChat translates a Messages request into the canonical form, so that any
// provider can serve it. What has no canonical form (server tools,
// redacted thinking, cache_control, top_k, thinking settings, file ids) is
// left out; a request served by an Anthropic provider is forwarded in its
// original form and loses nothing.
func ToChat(r *Request) *llm.ChatRequest {
	out := &llm.ChatRequest{Model: r.Model, Temperature: r.Temperature, TopP: r.TopP, Stream: r.Stream}
	if r.MaxTokens != nil {
		n := *r.MaxTokens
		out.MaxTokens = &n
	}
	if r.Stream {
		// Usage arrives in the final message_delta whatever the client
		// asked, so ask every provider for it.
		out.StreamOptions = &llm.StreamOptions{IncludeUsage: true}
	}
	if r.System != nil {
		if m, ok := systemMessage(*r.System); ok {
			out.Messages = append(out.Messages, m)
		}
	}
	for _, m := range r.Messages {
		switch m.Role {
		case "system":
			if sm, ok := systemMessage(m.Content); ok {
				out.Messages = append(out.Messages, sm)
			}
		case "assistant":
			out.Messages = append(out.Messages, assistantMessage(m.Content))
		default:
			out.Messages = appendUser(out.Messages, m.Content)
		}
	}
	for _, t := range r.Tools {
		if t.Type != "" && t.Type != "custom" {
			continue // a server tool runs at Anthropic; elsewhere it has no meaning
		}
		out.Tools = append(out.Tools, llm.Tool{Type: "function", Function: llm.FunctionSpec{
			Name: t.Name, Description: t.Description, Parameters: t.InputSchema, Strict: t.Strict,
		}})
	}
	if tc := r.ToolChoice; tc != nil && len(out.Tools) > 0 {
		switch tc.Type {
		case "auto":
			out.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceAuto}
		case "any":
			out.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceRequired}
		case "none":
			out.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceNone}
		case "tool":
			out.ToolChoice = &llm.ToolChoice{Mode: llm.ToolChoiceFunction, Function: tc.Name}
		}
		if tc.DisableParallelToolUse != nil && *tc.DisableParallelToolUse {
			f := false
			out.ParallelToolCalls = &f
		}
	}
	if len(r.StopSequences) > 0 {
		out.Stop = llm.Stop(r.StopSequences)
	}
	if r.Metadata != nil && r.Metadata.UserID != "" {
		out.User = r.Metadata.UserID
	}
	format := r.OutputFormat
	if r.OutputConfig != nil && r.OutputConfig.Format != nil {
		format = r.OutputConfig.Format
	}
	if format != nil && format.Type == "json_schema" && len(format.Schema) > 0 {
		out.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema,
			JSONSchema: &llm.JSONSchema{Name: "response", Schema: format.Schema}}
	}
	return out
}

func systemMessage(c Content) (llm.Message, bool) {
	if c.String {
		return llm.Message{Role: llm.RoleSystem, Content: llm.TextContent(c.Text())}, true
	}
	var parts []llm.Part
	for _, b := range c.Blocks {
		if b.Type == BlockText {
			parts = append(parts, llm.Part{Type: llm.PartText, Text: b.Text})
		}
	}
	switch len(parts) {
	case 0:
		return llm.Message{}, false
	case 1:
		return llm.Message{Role: llm.RoleSystem, Content: llm.TextContent(parts[0].Text)}, true
	}
	return llm.Message{Role: llm.RoleSystem, Content: llm.PartsContent(parts...)}, true
}

// appendUser appends a user turn: its tool results first, as tool messages
// (OpenAI wants them right after the assistant turn that called), then the
// rest as one user message.
func appendUser(msgs []llm.Message, c Content) []llm.Message {
	if c.String {
		return append(msgs, llm.Message{Role: llm.RoleUser, Content: llm.TextContent(c.Text())})
	}
	var parts []llm.Part
	for _, b := range c.Blocks {
		if b.Type == BlockToolResult {
			msgs = append(msgs, llm.Message{Role: llm.RoleTool, ToolCallID: b.ToolUseID, Content: llm.TextContent(toolResultText(b))})
			continue
		}
		if p, ok := partOf(b); ok {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		msgs = append(msgs, llm.Message{Role: llm.RoleUser, Content: llm.PartsContent(parts...)})
	}
	return msgs
}

// toolResultText is a tool result's text. OpenAI-format tool messages hold
// text only, so images in a tool result do not travel.
func toolResultText(b Block) string {
	if b.Content == nil {
		return ""
	}
	if b.Content.String {
		return b.Content.Text()
	}
	var texts []string
	for _, bl := range b.Content.Blocks {
		if bl.Type == BlockText {
			texts = append(texts, bl.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// partOf converts a user content block to a content part.
func partOf(b Block) (llm.Part, bool) {
	switch b.Type {
	case BlockText:
		return llm.Part{Type: llm.PartText, Text: b.Text}, true
	case BlockImage:
		switch b.Source.Type {
		case "base64":
			return llm.Part{Type: llm.PartImageURL, ImageURL: &llm.ImageURL{URL: "data:" + b.Source.MediaType + ";base64," + b.Source.Data}}, true
		case "url":
			return llm.Part{Type: llm.PartImageURL, ImageURL: &llm.ImageURL{URL: b.Source.URL}}, true
		}
	case BlockDocument:
		switch b.Source.Type {
		case "base64":
			return llm.Part{Type: llm.PartFile, File: &llm.File{FileData: "data:" + b.Source.MediaType + ";base64," + b.Source.Data, Filename: b.Title}}, true
		case "text":
			return llm.Part{Type: llm.PartText, Text: b.Source.Data}, true
		}
	}
	return llm.Part{}, false
}

// assistantMessage converts an assistant turn: text, visible thinking as
// reasoning_content, and tool_use blocks as tool calls with their ids.
func assistantMessage(c Content) llm.Message {
	m := llm.Message{Role: llm.RoleAssistant}
	if c.String {
		m.Content = llm.TextContent(c.Text())
		return m
	}
	var text, reasoning strings.Builder
	hasText := false
	for _, b := range c.Blocks {
		switch b.Type {
		case BlockText:
			hasText = true
			text.WriteString(b.Text)
		case BlockThinking:
			reasoning.WriteString(b.Thinking)
		case BlockToolUse:
			args := "{}"
			if in := compact(b.Input); len(in) > 0 && string(in) != "null" {
				args = string(in)
			}
			m.ToolCalls = append(m.ToolCalls, llm.ToolCall{ID: b.ID, Type: "function",
				Function: llm.FunctionCall{Name: b.Name, Arguments: args}})
		}
	}
	if hasText || len(m.ToolCalls) == 0 {
		m.Content = llm.TextContent(text.String())
	}
	m.ReasoningContent = reasoning.String()
	return m
}
