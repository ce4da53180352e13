package gemini

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// fromGenerate translates a GenerateContentResponse to a chat.completion.
// meta supplies the id, time and model when the response lacks them.
func fromGenerate(r *generateResponse, meta upstream.Meta) *llm.ChatResponse {
	out := &llm.ChatResponse{
		ID: responseID(r, meta), Object: "chat.completion", Created: meta.Created,
		Model: modelName(r, meta),
	}
	for pos, c := range r.Candidates {
		idx := candidateIndex(c, pos)
		msg := llm.Message{Role: llm.RoleAssistant}
		var text, thoughts strings.Builder
		calls := 0
		if c.Content != nil {
			for _, p := range c.Content.Parts {
				switch {
				case p.FunctionCall != nil:
					msg.ToolCalls = append(msg.ToolCalls, toolCall(out.ID, idx, calls, p.FunctionCall))
					calls++
				case p.Thought:
					thoughts.WriteString(p.Text)
				default:
					text.WriteString(p.Text)
				}
			}
		}
		if text.Len() > 0 || calls == 0 {
			msg.Content = llm.TextContent(text.String())
		}
		msg.ReasoningContent = thoughts.String()
		out.Choices = append(out.Choices, llm.Choice{Index: idx, Message: msg, FinishReason: finishReason(c.FinishReason, calls > 0)})
	}
	if len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		// The prompt itself was blocked: no candidate, only the reason.
		out.Choices = append(out.Choices, llm.Choice{
			Message:      llm.Message{Role: llm.RoleAssistant, Content: llm.TextContent("")},
			FinishReason: llm.FinishContentFilter,
		})
	}
	if r.UsageMetadata != nil {
		u := usage(r.UsageMetadata)
		out.Usage = &u
	}
	return out
}

func responseID(r *generateResponse, meta upstream.Meta) string {
	if r.ResponseID != "" {
		return "chatcmpl-" + r.ResponseID
	}
	return meta.ID
}

func modelName(r *generateResponse, meta upstream.Meta) string {
	if r.ModelVersion != "" {
		return r.ModelVersion
	}
	return meta.Model
}

func candidateIndex(c candidate, pos int) int {
	if c.Index != nil {
		return *c.Index
	}
	return pos
}

// toolCall translates a functionCall part. Gemini gives no call id (or,
// on some models, one of its own): the id is then derived from the
// response id, the candidate, the call's position and its content, so the
// same answer gets the same ids streamed or not, and ids differ between
// answers.
func toolCall(respID string, candidate, n int, fc *functionCall) llm.ToolCall {
	args := upstream.CompactJSON(fc.Args)
	if args == "" || args == "null" {
		args = "{}"
	}
	id := fc.ID
	if id == "" {
		id = syntheticID(respID, candidate, n, fc.Name, args)
	}
	return llm.ToolCall{ID: id, Type: "function", Function: llm.FunctionCall{Name: fc.Name, Arguments: args}}
}

func syntheticID(respID string, candidate, n int, name, args string) string {
	h := sha256.New()
	h.Write([]byte(respID))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(candidate) + ":" + strconv.Itoa(n)))
	h.Write([]byte{0})
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write([]byte(args))
	return "call_" + hex.EncodeToString(h.Sum(nil)[:12])
}

// finishReason maps Gemini's FinishReason to OpenAI's vocabulary. A
// candidate that stopped after calling functions reports tool_calls, as
// OpenAI does.
func finishReason(r string, calledTools bool) string {
	switch r {
	case "MAX_TOKENS":
		return llm.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY":
		return llm.FinishContentFilter
	}
	if calledTools {
		return llm.FinishToolCalls
	}
	return llm.FinishStop
}

// usage maps usageMetadata: thinking tokens count as completion tokens (and
// as reasoning tokens), as OpenAI counts reasoning; tokens of tool-use
// prompts count as prompt tokens.
func usage(m *usageMetadata) llm.Usage {
	u := llm.Usage{
		PromptTokens:     m.PromptTokenCount + m.ToolUsePromptTokenCount,
		CompletionTokens: m.CandidatesTokenCount + m.ThoughtsTokenCount,
		TotalTokens:      m.TotalTokenCount,
	}
	if u.TotalTokens == 0 {
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	if m.CachedContentTokenCount > 0 {
		u.PromptTokensDetails = &llm.PromptTokensDetails{CachedTokens: m.CachedContentTokenCount}
	}
	if m.ThoughtsTokenCount > 0 {
		u.CompletionTokensDetails = &llm.CompletionTokensDetails{ReasoningTokens: m.ThoughtsTokenCount}
	}
	return u
}

// decodeResponse parses a GenerateContentResponse body.
func decodeResponse(body []byte) (*generateResponse, error) {
	var r generateResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
