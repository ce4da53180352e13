package workersai

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// decodeEnvelope parses a Cloudflare API response and returns its result.
func decodeEnvelope(body []byte) (json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	if len(env.Result) == 0 || string(env.Result) == "null" {
		return nil, errors.New("response has no result")
	}
	return env.Result, nil
}

// fromRun translates a text-generation result to a chat.completion. The
// native API reports no finish reason: an answer with tool calls finished
// with tool_calls, any other with stop.
func fromRun(result json.RawMessage, meta upstream.Meta) (*llm.ChatResponse, error) {
	var r runResult
	if err := json.Unmarshal(result, &r); err != nil {
		return nil, err
	}
	if len(r.Choices) > 0 && string(r.Choices) != "null" {
		// An OpenAI-format result (newer models): already canonical.
		var out llm.ChatResponse
		if err := json.Unmarshal(result, &out); err != nil {
			return nil, err
		}
		if out.ID == "" {
			out.ID = meta.ID
		}
		if out.Model == "" {
			out.Model = meta.Model
		}
		if out.Created == 0 {
			out.Created = meta.Created
		}
		out.Object = "chat.completion"
		return &out, nil
	}
	msg := llm.Message{Role: llm.RoleAssistant}
	text, err := responseText(r.Response)
	if err != nil {
		return nil, err
	}
	for i, tc := range r.ToolCalls {
		call := toolCall(meta.ID, i, tc)
		if call.Function.Arguments == "" {
			call.Function.Arguments = "{}"
		}
		msg.ToolCalls = append(msg.ToolCalls, call)
	}
	if text != "" || len(msg.ToolCalls) == 0 {
		msg.Content = llm.TextContent(text)
	}
	finish := llm.FinishStop
	if len(msg.ToolCalls) > 0 {
		finish = llm.FinishToolCalls
	}
	out := &llm.ChatResponse{
		ID: meta.ID, Object: "chat.completion", Created: meta.Created, Model: meta.Model,
		Choices: []llm.Choice{{Index: 0, Message: msg, FinishReason: finish}},
	}
	if r.Usage != nil {
		u := usage(r.Usage)
		out.Usage = &u
	}
	return out, nil
}

// responseText returns the response member as text: a string as is, and
// the JSON value itself when a model in JSON mode answers with an object.
func responseText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	if !json.Valid(raw) {
		return "", errors.New("response is not valid JSON")
	}
	return upstream.CompactJSON(raw), nil
}

// toolCall translates one tool call of either native shape. Calls without
// an id get one derived from the response id and the call, the same
// streamed or not.
func toolCall(respID string, n int, tc runToolCall) llm.ToolCall {
	name, args := tc.Name, tc.Arguments
	if tc.Function != nil {
		name, args = tc.Function.Name, tc.Function.Arguments
	}
	a := argsText(args)
	id := tc.ID
	if id == "" {
		h := sha256.Sum256([]byte(respID + "\x00" + strconv.Itoa(n) + "\x00" + name + "\x00" + a))
		id = "call_" + hex.EncodeToString(h[:12])
	}
	return llm.ToolCall{ID: id, Type: "function", Function: llm.FunctionCall{Name: name, Arguments: a}}
}

// argsText renders arguments as OpenAI's JSON text: an object is encoded,
// a string (already JSON text, or a fragment in streams) kept.
func argsText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return upstream.CompactJSON(raw)
}

func usage(u *runUsage) llm.Usage {
	out := llm.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	return out
}
