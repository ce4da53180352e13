package bedrock

import (
	"encoding/json"
	"strings"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// fromConverse translates a Converse response to a chat.completion. With
// jsonMode, a call of jsonTool is the answer itself: its input becomes the
// message content and the finish reason stop.
func fromConverse(r *converseResponse, meta upstream.Meta, jsonMode bool) *llm.ChatResponse {
	msg := llm.Message{Role: llm.RoleAssistant}
	var text, reasoning strings.Builder
	answered := false
	if m := r.Output.Message; m != nil {
		for _, b := range m.Content {
			switch {
			case b.ToolUse != nil && jsonMode && b.ToolUse.Name == jsonTool:
				text.WriteString(upstream.CompactJSON(b.ToolUse.Input))
				answered = true
			case b.ToolUse != nil:
				args := upstream.CompactJSON(b.ToolUse.Input)
				if args == "" || args == "null" {
					args = "{}"
				}
				msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{ID: b.ToolUse.ToolUseID, Type: "function",
					Function: llm.FunctionCall{Name: b.ToolUse.Name, Arguments: args}})
			case b.ReasoningContent != nil && b.ReasoningContent.ReasoningText != nil:
				reasoning.WriteString(b.ReasoningContent.ReasoningText.Text)
			default:
				text.WriteString(b.Text)
			}
		}
	}
	if text.Len() > 0 || len(msg.ToolCalls) == 0 {
		msg.Content = llm.TextContent(text.String())
	}
	msg.ReasoningContent = reasoning.String()
	finish := finishReason(r.StopReason)
	if answered && len(msg.ToolCalls) == 0 && finish == llm.FinishToolCalls {
		finish = llm.FinishStop
	}
	out := &llm.ChatResponse{
		ID: meta.ID, Object: "chat.completion", Created: meta.Created, Model: meta.Model,
		Choices: []llm.Choice{{Index: 0, Message: msg, FinishReason: finish}},
	}
	if r.Usage != nil {
		u := usage(r.Usage)
		out.Usage = &u
	}
	return out
}

// finishReason maps Converse's stopReason to OpenAI's vocabulary.
func finishReason(r string) string {
	switch r {
	case "max_tokens", "model_context_window_exceeded":
		return llm.FinishLength
	case "tool_use":
		return llm.FinishToolCalls
	case "guardrail_intervened", "content_filtered":
		return llm.FinishContentFilter
	}
	return llm.FinishStop // end_turn, stop_sequence
}

// usage maps TokenUsage. Bedrock counts cache reads and writes apart from
// inputTokens; OpenAI's prompt_tokens include cached tokens, so they are
// added in and also reported as cached_tokens / cache_write_tokens.
func usage(t *tokenUsage) llm.Usage {
	u := llm.Usage{
		PromptTokens:     t.InputTokens + t.CacheReadInputTokens + t.CacheWriteInputTokens,
		CompletionTokens: t.OutputTokens,
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if t.TotalTokens > u.TotalTokens {
		u.TotalTokens = t.TotalTokens
	}
	if t.CacheReadInputTokens > 0 || t.CacheWriteInputTokens > 0 {
		u.PromptTokensDetails = &llm.PromptTokensDetails{CachedTokens: t.CacheReadInputTokens, CacheWriteTokens: t.CacheWriteInputTokens}
	}
	return u
}

func decodeResponse(body []byte) (*converseResponse, error) {
	var r converseResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
