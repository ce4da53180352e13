package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// WorkersAI is a fake Workers AI REST API for one account, rooted where
// .../accounts/{account}/ai is: POST /run/{model} with the native
// text-generation input (messages), its {"result":…,"success":true}
// envelope and its own SSE lines ending in "data: [DONE]"; text-embedding
// models (names containing "bge" or "embed") taking {"text":[…]}; and the
// OpenAI-compatible endpoints under /v1/ (served by an OpenAI Fake).
// Requests need Authorization: Bearer with the API key.
//
// Like the real input schemas, it rejects members a model does not take
// and messages of an unknown shape. Besides the shared faults (error-NNN,
// hang, slow-N) the last segment of the model name means:
//
//	break   a stream cut after its first event
//	llama-guard…  answers as Llama Guard does (see moderation.go)
//	tools   calls get_weather({"city":"Paris"}) in the traditional format
//	        ({"name","arguments":{…}}); once the last message is a tool
//	        result, answers FakeWeather(its content)
type WorkersAI struct {
	recorder
	opts   Options
	compat *Fake
}

// NewWorkersAI returns a fake Workers AI account.
func NewWorkersAI(o Options) *WorkersAI {
	return &WorkersAI{opts: o, compat: NewFake(o)}
}

// Compat is the fake behind the OpenAI-compatible endpoints.
func (f *WorkersAI) Compat() *Fake { return f.compat }

// WriteWorkersAIError writes a Cloudflare API v4 error envelope.
func WriteWorkersAIError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{
		"result": nil, "success": false, "messages": []any{},
		"errors": []any{map[string]any{"code": 7000 + status, "message": msg}},
	})
}

func (f *WorkersAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		f.compat.ServeHTTP(w, r)
		return
	}
	body, b := f.record(r)
	if f.opts.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+f.opts.APIKey {
		WriteWorkersAIError(w, http.StatusUnauthorized, "Authentication error")
		return
	}
	if f.intercept(w, r, body, b, f.opts.Latency) {
		return
	}
	model, ok := strings.CutPrefix(r.URL.Path, "/run/")
	if !ok || r.Method != http.MethodPost || !(strings.HasPrefix(model, "@cf/") || strings.HasPrefix(model, "@hf/")) {
		WriteWorkersAIError(w, http.StatusNotFound, "No route for that URI")
		return
	}
	behaviour := model[strings.LastIndex(model, "/")+1:]
	if f.fault(w, r, behaviour, WriteWorkersAIError) {
		return
	}
	if strings.Contains(model, "bge") || strings.Contains(model, "embed") {
		f.embed(w, body)
	} else {
		f.generate(w, r, behaviour, body)
	}
	f.Served.Add(1)
}

type workersMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []struct {
		ID       string `json:"id"`
		Type     string `json:"type"`
		Function struct {
			Name      string `json:"name"`
			Arguments string `json:"arguments"`
		} `json:"function"`
	} `json:"tool_calls"`
}

// workersInputKeys are the members of the text-generation input schema.
var workersInputKeys = map[string]bool{
	"messages": true, "stream": true, "max_tokens": true, "temperature": true, "top_p": true,
	"top_k": true, "seed": true, "repetition_penalty": true, "frequency_penalty": true,
	"presence_penalty": true, "tools": true, "functions": true, "response_format": true, "raw": true,
}

func (f *WorkersAI) generate(w http.ResponseWriter, r *http.Request, behaviour string, body []byte) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		WriteWorkersAIError(w, http.StatusBadRequest, "Type mismatch of '/', 'object' not in 'string'")
		return
	}
	for k := range raw {
		if !workersInputKeys[k] {
			WriteWorkersAIError(w, http.StatusBadRequest, fmt.Sprintf("Unexpected property '/%s'", k))
			return
		}
	}
	var req struct {
		Messages []workersMessage `json:"messages"`
		Stream   bool             `json:"stream"`
		Tools    []struct {
			Type     string `json:"type"`
			Function *struct {
				Name string `json:"name"`
			} `json:"function"`
			Name string `json:"name"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
		WriteWorkersAIError(w, http.StatusBadRequest, "Required properties at '/' are 'messages'")
		return
	}
	for i, t := range req.Tools {
		if (t.Function == nil || t.Function.Name == "") && t.Name == "" {
			WriteWorkersAIError(w, http.StatusBadRequest, fmt.Sprintf("Type mismatch of '/tools/%d'", i))
			return
		}
	}
	var lastText, lastAny string
	var toolResult *string
	prompt := 0
	for i, m := range req.Messages {
		switch m.Role {
		case "system", "user", "assistant", "tool":
		default:
			WriteWorkersAIError(w, http.StatusBadRequest, fmt.Sprintf("Type mismatch of '/messages/%d/role'", i))
			return
		}
		c := bytes.TrimSpace(m.Content)
		text := ""
		switch {
		case len(c) > 0 && c[0] == '"':
			_ = json.Unmarshal(c, &text)
		case len(c) > 0 && c[0] == '[':
			var parts []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			if json.Unmarshal(c, &parts) != nil {
				WriteWorkersAIError(w, http.StatusBadRequest, fmt.Sprintf("Type mismatch of '/messages/%d/content'", i))
				return
			}
			for _, p := range parts {
				text += p.Text
			}
		case m.Role == "assistant" && len(m.ToolCalls) > 0:
		default:
			WriteWorkersAIError(w, http.StatusBadRequest, fmt.Sprintf("Type mismatch of '/messages/%d/content', 'null' not in 'string'", i))
			return
		}
		if m.Role == "tool" && m.ToolCallID == "" && m.Name == "" {
			WriteWorkersAIError(w, http.StatusBadRequest, fmt.Sprintf("'/messages/%d' needs tool_call_id or name", i))
			return
		}
		prompt += words(text) + 3
		if i == len(req.Messages)-1 {
			lastAny = text
			if m.Role == "tool" {
				toolResult = &text
			}
		}
		if m.Role == "user" {
			lastText = text
		}
	}
	reply := f.opts.Reply
	if reply == "" {
		reply = "Hello from fake: " + lastText
	}
	if strings.Contains(behaviour, "llama-guard") && f.opts.Reply == "" {
		reply = LlamaGuardVerdict(lastAny)
	}
	var calls []any
	if behaviour == "tools" {
		if toolResult != nil {
			reply = FakeWeather(*toolResult)
		} else {
			reply = ""
			calls = []any{map[string]any{"name": "get_weather", "arguments": map[string]any{"city": "Paris"}}}
		}
	}
	completion := words(reply)
	if calls != nil {
		completion = 9
	}
	usage := map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
	if !req.Stream {
		result := map[string]any{"response": reply, "usage": usage}
		if calls != nil {
			result["tool_calls"] = calls
		}
		writeJSON(w, http.StatusOK, map[string]any{"result": result, "success": true, "errors": []any{}, "messages": []any{}})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	n := 0
	send := func(data []byte) bool {
		if n > 0 && f.opts.ChunkDelay > 0 && !sleepCtx(r, f.opts.ChunkDelay) {
			f.Cancelled.Add(1)
			return false
		}
		n++
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			f.Cancelled.Add(1)
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	event := func(v map[string]any) []byte {
		v["p"] = "abcdefgh" // Workers AI pads events with a random "p"
		b, _ := json.Marshal(v)
		return b
	}
	if calls != nil {
		if !send(event(map[string]any{"response": "", "tool_calls": calls})) {
			return
		}
	} else {
		for i, word := range strings.SplitAfter(reply, " ") {
			if behaviour == "break" && i == 1 {
				cut(w)
				return
			}
			if !send(event(map[string]any{"response": word})) {
				return
			}
		}
	}
	if send(event(map[string]any{"response": "", "usage": usage})) {
		send([]byte("[DONE]"))
	}
}

func (f *WorkersAI) embed(w http.ResponseWriter, body []byte) {
	var req struct {
		Text json.RawMessage `json:"text"`
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Text) == 0 {
		WriteWorkersAIError(w, http.StatusBadRequest, "Required properties at '/' are 'text'")
		return
	}
	var texts []string
	var one string
	if json.Unmarshal(req.Text, &one) == nil {
		texts = []string{one}
	} else if json.Unmarshal(req.Text, &texts) != nil {
		WriteWorkersAIError(w, http.StatusBadRequest, "Type mismatch of '/text'")
		return
	}
	const dims = 8
	data := make([]any, len(texts))
	for i, t := range texts {
		data[i] = Vector(t, dims)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"result":  map[string]any{"shape": []int{len(texts), dims}, "data": data, "pooling": "mean"},
		"success": true, "errors": []any{}, "messages": []any{},
	})
}
