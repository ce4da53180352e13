package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Anthropic is a fake Anthropic Messages API: POST /v1/messages (JSON and
// the SSE event sequence), POST /v1/messages/count_tokens and GET
// /v1/models, with Anthropic's error shape. It checks what the real API
// checks and translation bugs would break: x-api-key, the
// anthropic-version header, max_tokens, roles, non-empty text blocks, and
// that every tool_use is answered by a tool_result in the next user turn.
//
// It answers "Hello from fake: " and the last user text. Besides the
// shared faults (error-NNN, hang, slow-N; 529 is overloaded_error) the
// model names mean:
//
//	break          a stream cut after the first text delta
//	stream-error   a stream that ends with an overloaded error event
//	tools          "Let me check." and a tool_use of get_weather
//	               {"city":"Paris"}; once the last user turn holds tool
//	               results, answers FakeWeather(their text)
//	thinking       a signed thinking block before the text
//	cache          usage with prompt-cache reads and writes
//	max            stops with stop_reason max_tokens
type Anthropic struct {
	recorder
	opts Options
}

// NewAnthropic returns a fake Anthropic API; Options.APIKey, when set, is
// required as x-api-key.
func NewAnthropic(o Options) *Anthropic { return &Anthropic{opts: o} }

func (f *Anthropic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, b := f.record(r)
	if f.opts.APIKey != "" && r.Header.Get("x-api-key") != f.opts.APIKey {
		WriteAnthropicError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		WriteAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
		return
	}
	if b != nil && b(w, r, body) {
		return
	}
	if f.opts.Latency > 0 && !sleepCtx(r, f.opts.Latency) {
		f.Cancelled.Add(1)
		return
	}
	switch {
	case r.URL.Path == "/v1/messages" && r.Method == http.MethodPost:
		f.messages(w, r, body)
	case r.URL.Path == "/v1/messages/count_tokens" && r.Method == http.MethodPost:
		var req fakeMessagesRequest
		_ = json.Unmarshal(body, &req)
		writeJSON(w, http.StatusOK, map[string]int{"input_tokens": req.inputTokens()})
	case r.URL.Path == "/v1/models" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{
			"data": []any{
				map[string]any{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
				map[string]any{"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "created_at": "2025-10-15T00:00:00Z"},
			},
			"has_more": false, "first_id": "claude-sonnet-4-5", "last_id": "claude-haiku-4-5",
		})
	default:
		WriteAnthropicError(w, http.StatusNotFound, "not_found_error", "Not Found")
		return
	}
	f.Served.Add(1)
}

// fakeMessagesRequest is the part of a Messages request the fake reads.
type fakeMessagesRequest struct {
	Model     string `json:"model"`
	MaxTokens *int   `json:"max_tokens"`
	Stream    bool   `json:"stream"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
		Type        string          `json:"type"`
	} `json:"tools"`
}

type fakeBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text"`
	ID        string          `json:"id"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
}

// blocks returns message content as blocks (a string is one text block).
func blocks(raw json.RawMessage) ([]fakeBlock, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []fakeBlock{{Type: "text", Text: &s}}, true
	}
	var bs []fakeBlock
	if json.Unmarshal(raw, &bs) != nil {
		return nil, false
	}
	return bs, true
}

func (req *fakeMessagesRequest) inputTokens() int {
	n := 0
	for _, m := range req.Messages {
		n += len(strings.Fields(string(m.Content))) + 3
	}
	return n
}

// validate applies the real API's checks that translation bugs break.
func (req *fakeMessagesRequest) validate() string {
	if req.Model == "" {
		return "model: Field required"
	}
	if req.MaxTokens == nil {
		return "max_tokens: Field required"
	}
	if len(req.Messages) == 0 {
		return "messages: Field required"
	}
	for _, t := range req.Tools {
		if t.Type == "" && len(t.InputSchema) == 0 {
			return fmt.Sprintf("tools.%s.input_schema: Field required", t.Name)
		}
	}
	var pendingTools []string
	for i, m := range req.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		bs, ok := blocks(m.Content)
		if !ok {
			return fmt.Sprintf("messages.%d.content: Input should be a valid list", i)
		}
		answered := map[string]bool{}
		for j, b := range bs {
			switch b.Type {
			case "text":
				if b.Text == nil || *b.Text == "" {
					return fmt.Sprintf("messages.%d.content.%d.text: text content blocks must be non-empty", i, j)
				}
			case "tool_result":
				answered[b.ToolUseID] = true
			}
		}
		for _, id := range pendingTools {
			if !answered[id] {
				return fmt.Sprintf("messages.%d: tool_use ids were found without tool_result blocks immediately after: %s", i, id)
			}
		}
		pendingTools = nil
		if m.Role == "assistant" {
			for _, b := range bs {
				if b.Type == "tool_use" {
					pendingTools = append(pendingTools, b.ID)
				}
			}
		}
	}
	return ""
}

// answer is what the fake says: the last user text, or FakeWeather of the
// tool results of the last user turn (toolTurn is then true).
func (req *fakeMessagesRequest) answer() (reply string, toolTurn bool) {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role != "user" {
			continue
		}
		bs, _ := blocks(m.Content)
		var text, tools strings.Builder
		for _, b := range bs {
			switch b.Type {
			case "text":
				if b.Text != nil {
					text.WriteString(*b.Text)
				}
			case "tool_result":
				var s string
				if json.Unmarshal(b.Content, &s) != nil {
					var inner []fakeBlock
					_ = json.Unmarshal(b.Content, &inner)
					for _, ib := range inner {
						if ib.Text != nil {
							s += *ib.Text
						}
					}
				}
				tools.WriteString(s)
			}
		}
		if tools.Len() > 0 {
			return FakeWeather(tools.String()), true
		}
		return "Hello from fake: " + text.String(), false
	}
	return "Hello from fake: ", false
}

// FakeToolUse is the tool_use block the "tools" model answers with.
var FakeToolUse = map[string]any{"type": "tool_use", "id": "toolu_fake_1", "name": "get_weather", "input": map[string]any{"city": "Paris"}}

// FakeThinking is the reasoning the "thinking" model shows.
const FakeThinking = "The user greets me; I will greet back."

func (f *Anthropic) messages(w http.ResponseWriter, r *http.Request, body []byte) {
	var req fakeMessagesRequest
	if err := json.Unmarshal(body, &req); err != nil {
		WriteAnthropicError(w, http.StatusBadRequest, "invalid_request_error", "There was an issue with the request body: it is not valid JSON")
		return
	}
	if msg := req.validate(); msg != "" {
		WriteAnthropicError(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	model := req.Model
	if f.fault(w, r, model, writeAnthropicStatus) {
		return
	}
	reply, toolTurn := req.answer()
	if f.opts.Reply != "" {
		reply, toolTurn = f.opts.Reply, false
	}
	usage := map[string]any{"input_tokens": req.inputTokens(), "output_tokens": len(strings.Fields(reply)),
		"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
	if model == "cache" {
		usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"] = 100, 20
	}
	var content []any
	stop := "end_turn"
	switch {
	case model == "tools" && !toolTurn:
		content = []any{map[string]any{"type": "text", "text": "Let me check."}, FakeToolUse}
		stop = "tool_use"
	case model == "thinking":
		content = []any{map[string]any{"type": "thinking", "thinking": FakeThinking, "signature": "sig_fake"},
			map[string]any{"type": "text", "text": reply}}
	default:
		content = []any{map[string]any{"type": "text", "text": reply}}
	}
	if model == "max" {
		stop = "max_tokens"
	}
	if !req.Stream {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": content,
			"stop_reason": stop, "stop_sequence": nil, "usage": usage,
		})
		return
	}
	f.stream(w, r, model, content, stop, usage)
}

func (f *Anthropic) stream(w http.ResponseWriter, r *http.Request, model string, content []any, stop string, usage map[string]any) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	n := 0
	send := func(name string, v any) bool {
		if n > 0 && f.opts.ChunkDelay > 0 && !sleepCtx(r, f.opts.ChunkDelay) {
			f.Cancelled.Add(1)
			return false
		}
		n++
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b); err != nil {
			f.Cancelled.Add(1)
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	startUsage := map[string]any{}
	for k, v := range usage {
		startUsage[k] = v
	}
	startUsage["output_tokens"] = 1
	if !send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": startUsage,
	}}) {
		return
	}
	for i, c := range content {
		block := c.(map[string]any)
		typ := block["type"].(string)
		var start map[string]any
		var deltas []map[string]any
		switch typ {
		case "text":
			start = map[string]any{"type": "text", "text": ""}
			for _, word := range strings.SplitAfter(block["text"].(string), " ") {
				deltas = append(deltas, map[string]any{"type": "text_delta", "text": word})
			}
		case "thinking":
			start = map[string]any{"type": "thinking", "thinking": "", "signature": ""}
			deltas = []map[string]any{
				{"type": "thinking_delta", "thinking": block["thinking"]},
				{"type": "signature_delta", "signature": block["signature"]},
			}
		case "tool_use":
			start = map[string]any{"type": "tool_use", "id": block["id"], "name": block["name"], "input": map[string]any{}}
			args, _ := json.Marshal(block["input"])
			half := len(args) / 2
			deltas = []map[string]any{
				{"type": "input_json_delta", "partial_json": ""},
				{"type": "input_json_delta", "partial_json": string(args[:half])},
				{"type": "input_json_delta", "partial_json": string(args[half:])},
			}
		}
		if !send("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": start}) {
			return
		}
		if i == 0 && !send("ping", map[string]string{"type": "ping"}) {
			return
		}
		for j, d := range deltas {
			if !send("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": d}) {
				return
			}
			if j == 0 && model == "break" {
				cut(w) // as a crashed upstream would
				return
			}
			if j == 0 && model == "stream-error" {
				send("error", map[string]any{"type": "error", "error": map[string]string{"type": "overloaded_error", "message": "Overloaded"}})
				return
			}
		}
		if !send("content_block_stop", map[string]any{"type": "content_block_stop", "index": i}) {
			return
		}
	}
	if !send("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": usage["output_tokens"]}}) {
		return
	}
	send("message_stop", map[string]string{"type": "message_stop"})
}

func anthropicErrorType(status int) string {
	switch status {
	case 400:
		return "invalid_request_error"
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 529:
		return "overloaded_error"
	}
	if status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

func writeAnthropicStatus(w http.ResponseWriter, status int, msg string) {
	if status == 529 {
		w.Header().Set("Retry-After", "0")
	}
	WriteAnthropicError(w, status, anthropicErrorType(status), msg)
}

// WriteAnthropicError writes Anthropic's error body.
func WriteAnthropicError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("request-id", "req_fake")
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
}
