package anthropic

import (
	"encoding/json"
	"strings"

	"github.com/aigateway/aigateway/internal/llm"
)

// FinishReason maps an Anthropic stop reason to OpenAI's finish reason.
func FinishReason(stop string) string {
	switch stop {
	case StopMaxTokens, StopContextLimit:
		return llm.FinishLength
	case StopToolUse:
		return llm.FinishToolCalls
	case StopRefusal:
		return llm.FinishContentFilter
	}
	// end_turn, stop_sequence, pause_turn and anything newer
	return llm.FinishStop
}

// StopReason maps an OpenAI finish reason to Anthropic's stop reason.
func StopReason(finish string) string {
	switch finish {
	case llm.FinishLength:
		return StopMaxTokens
	case llm.FinishToolCalls, "function_call":
		return StopToolUse
	case llm.FinishContentFilter:
		return StopRefusal
	}
	return StopEndTurn
}

// CanonicalUsage converts Anthropic usage: prompt tokens are all input
// tokens, those read from and written to the prompt cache included.
func CanonicalUsage(u Usage) llm.Usage {
	out := llm.Usage{
		PromptTokens:     u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens,
		CompletionTokens: u.OutputTokens,
	}
	out.TotalTokens = out.PromptTokens + out.CompletionTokens
	if u.CacheReadInputTokens > 0 || u.CacheCreationInputTokens > 0 {
		out.PromptTokensDetails = &llm.PromptTokensDetails{
			CachedTokens:     u.CacheReadInputTokens,
			CacheWriteTokens: u.CacheCreationInputTokens,
		}
	}
	if d := u.OutputTokensDetails; d != nil && d.ThinkingTokens > 0 {
		out.CompletionTokensDetails = &llm.CompletionTokensDetails{ReasoningTokens: d.ThinkingTokens}
	}
	return out
}

// NativeUsage converts canonical usage to Anthropic's, taking the cached
// and cache-written tokens out of the input tokens.
func NativeUsage(u *llm.Usage) Usage {
	if u == nil {
		return Usage{}
	}
	out := Usage{OutputTokens: u.CompletionTokens}
	if d := u.PromptTokensDetails; d != nil {
		out.CacheReadInputTokens = d.CachedTokens
		out.CacheCreationInputTokens = d.CacheWriteTokens
	}
	out.InputTokens = u.PromptTokens - out.CacheReadInputTokens - out.CacheCreationInputTokens
	if out.InputTokens < 0 {
		out.InputTokens = 0
	}
	return out
}

// ToChatResponse translates a Messages response into a chat.completion.
// created is the response time (Anthropic's responses carry none).
func ToChatResponse(r *Response, created int64) *llm.ChatResponse {
	m := llm.Message{Role: llm.RoleAssistant}
	var text, reasoning strings.Builder
	hasText := false
	for _, b := range r.Content {
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
	stop := ""
	if r.StopReason != nil {
		stop = *r.StopReason
	}
	u := CanonicalUsage(r.Usage)
	return &llm.ChatResponse{
		ID: r.ID, Object: "chat.completion", Created: created, Model: r.Model,
		Choices: []llm.Choice{{Index: 0, Message: m, FinishReason: FinishReason(stop)}},
		Usage:   &u,
	}
}

// FromChatResponse translates a chat.completion into a Messages response:
// reasoning as a thinking block, then text, then tool calls as tool_use
// blocks with their ids. id is used when the response has none.
func FromChatResponse(r *llm.ChatResponse, id string) *Response {
	if r.ID != "" {
		id = r.ID
	}
	out := &Response{ID: id, Type: "message", Role: "assistant", Model: r.Model, Usage: NativeUsage(r.Usage)}
	finish := ""
	if len(r.Choices) > 0 {
		ch := r.Choices[0]
		finish = ch.FinishReason
		m := ch.Message
		if m.ReasoningContent != "" {
			out.Content = append(out.Content, Block{Type: BlockThinking, Thinking: m.ReasoningContent})
		}
		if t := m.Content.Text(); t != "" {
			out.Content = append(out.Content, Block{Type: BlockText, Text: t})
		}
		if m.Refusal != nil && *m.Refusal != "" {
			out.Content = append(out.Content, Block{Type: BlockText, Text: *m.Refusal})
			if finish == "" || finish == llm.FinishStop {
				finish = llm.FinishContentFilter
			}
		}
		for _, tc := range m.ToolCalls {
			out.Content = append(out.Content, Block{Type: BlockToolUse, ID: tc.ID, Name: tc.Function.Name, Input: ToolInput(tc.Function.Arguments)})
		}
	}
	if len(out.Content) == 0 {
		// clients commonly read content[0]; an empty answer is one empty text
		out.Content = []Block{{Type: BlockText}}
	}
	stop := StopReason(finish)
	out.StopReason = &stop
	return out
}

// ToolInput turns OpenAI tool-call arguments (a JSON text) into a tool_use
// input. Empty arguments are {}; arguments that are not JSON (a model cut
// off mid-call) are kept as a JSON string rather than lost.
func ToolInput(args string) json.RawMessage {
	args = strings.TrimSpace(args)
	if args == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(args)) {
		return compact(json.RawMessage(args))
	}
	b, _ := json.Marshal(args)
	return b
}
