// Package providertest holds fake upstream providers that speak each
// provider's real wire format, for handler tests, end-to-end tests and the
// benchmark harness. No test reaches a real provider.
//
// The OpenAI fake answers deterministically (it echoes the last user
// message) and takes its behaviour from the model name, so tests that drive
// the real binary through an SDK can still inject faults:
//
//	error-429, error-500 …   an OpenAI error with that status
//	hang                     never answers (until the request is cancelled)
//	slow-250                 waits 250 ms before answering
//	break                    a stream that is cut after two events
//	tools                    answers with a tool call (or, when the last
//	                         message is a tool result, FakeWeather of it)
//	noise                    a stream with comments and empty events
//	…llama-guard…            answers as Llama Guard does (see moderation.go)
//
// Tests can also queue behaviours with Fake.Enqueue.
package providertest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Options tune a fake upstream.
type Options struct {
	// APIKey, when set, is required as a Bearer token or api-key header.
	APIKey string
	// Latency is waited before every answer (time to first byte).
	Latency time.Duration
	// ChunkDelay is waited between stream events.
	ChunkDelay time.Duration
	// Reply, when set, is the answer text instead of the echo.
	Reply string
	// NoRecord keeps no copy of the requests (Requests and Last return
	// nothing), so a long benchmark does not grow the fake's memory.
	NoRecord bool
}

// Recorded is one request the fake received.
type Recorded struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Behaviour answers one request in place of the default; queued with
// Enqueue. It returns true when it handled the request.
type Behaviour func(w http.ResponseWriter, r *http.Request, body []byte) bool

// Fake is an OpenAI-format upstream.
type Fake struct {
	opts Options
	recorder
}

// NewFake returns a fake with the given options.
func NewFake(o Options) *Fake { return &Fake{opts: o, recorder: recorder{noRecord: o.NoRecord}} }

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, b := f.record(r)
	if f.opts.APIKey != "" && !f.authorized(r) {
		WriteOpenAIError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
		return
	}
	if f.intercept(w, r, body, b, f.opts.Latency) {
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/chat/completions") && r.Method == http.MethodPost:
		f.chat(w, r, body)
	case strings.HasSuffix(path, "/embeddings") && r.Method == http.MethodPost:
		f.embeddings(w, body)
	case strings.HasSuffix(path, "/models") && r.Method == http.MethodGet:
		f.models(w)
	case strings.HasSuffix(path, "/moderations") && r.Method == http.MethodPost:
		f.moderations(w, body)
	default:
		WriteOpenAIError(w, http.StatusNotFound, "invalid_request_error", "unknown_url", "Unknown request URL: "+r.Method+" "+path)
		return
	}
	f.Served.Add(1)
}

func (f *Fake) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bearer "+f.opts.APIKey || r.Header.Get("api-key") == f.opts.APIKey
}

// chatRequest is the part of a chat request the fake looks at.
type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools []json.RawMessage `json:"tools"`
}

func (f *Fake) chat(w http.ResponseWriter, r *http.Request, body []byte) {
	var req chatRequest
	if err := json.Unmarshal(body, &req); err != nil {
		WriteOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	model := req.Model
	if f.fault(w, r, model, writeFakeOpenAIError) {
		return
	}
	reply := f.opts.Reply
	if reply == "" {
		reply = "Hello from fake: " + lastUserText(req)
	}
	if strings.Contains(model, "llama-guard") && f.opts.Reply == "" {
		reply = LlamaGuardVerdict(lastText(req))
	}
	promptTokens := 0
	for _, m := range req.Messages {
		promptTokens += len(strings.Fields(string(m.Content))) + 3
	}
	u := usage{PromptTokens: promptTokens, CompletionTokens: len(strings.Fields(reply))}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	withTools := model == "tools"
	if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == "tool" && f.opts.Reply == "" {
		// the second half of a tool round trip: answer with the result
		var s string
		_ = json.Unmarshal(req.Messages[n-1].Content, &s)
		reply, withTools = FakeWeather(s), false
		u.CompletionTokens = len(strings.Fields(reply))
		u.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	if !req.Stream {
		writeChatResponse(w, model, reply, withTools, u)
		return
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	f.stream(w, r, model, reply, withTools, includeUsage, u)
}

// writeFakeOpenAIError is the answer of an error-NNN model: an OpenAI error
// whose type follows the status and whose code is fake_NNN.
func writeFakeOpenAIError(w http.ResponseWriter, status int, msg string) {
	WriteOpenAIError(w, status, typeFor(status), fmt.Sprintf("fake_%d", status), msg)
}

func typeFor(status int) string {
	switch status {
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 429:
		return "rate_limit_error"
	}
	if status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

func lastUserText(req chatRequest) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		m := req.Messages[i]
		if m.Role != "user" {
			continue
		}
		var s string
		if json.Unmarshal(m.Content, &s) == nil {
			return s
		}
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(m.Content, &parts) == nil {
			var b strings.Builder
			for _, p := range parts {
				b.WriteString(p.Text)
			}
			return b.String()
		}
	}
	return ""
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// FakeToolCall is the tool call the "tools" model makes.
var FakeToolCall = map[string]any{
	"id": "call_fake_1", "type": "function",
	"function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`},
}

func writeChatResponse(w http.ResponseWriter, model, reply string, withTools bool, u usage) {
	msg := map[string]any{"role": "assistant", "content": reply}
	finish := "stop"
	if withTools {
		msg["content"] = nil
		msg["tool_calls"] = []any{FakeToolCall}
		finish = "tool_calls"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": model,
		"choices":            []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish, "logprobs": nil}},
		"usage":              u,
		"system_fingerprint": "fp_fake",
	})
}

func (f *Fake) stream(w http.ResponseWriter, r *http.Request, model, reply string, withTools, includeUsage bool, u usage) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	n := 0
	send := func(v any) bool {
		if n > 0 && f.opts.ChunkDelay > 0 && !sleepCtx(r, f.opts.ChunkDelay) {
			f.Cancelled.Add(1)
			return false
		}
		n++
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			f.Cancelled.Add(1)
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	chunk := func(delta map[string]any, finish any) map[string]any {
		c := map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
		}
		if includeUsage {
			c["usage"] = nil
		}
		return c
	}
	if model == "noise" {
		fmt.Fprint(w, ": keep-alive\n\n")
	}
	if !send(chunk(map[string]any{"role": "assistant", "content": ""}, nil)) {
		return
	}
	finish := "stop"
	if withTools {
		finish = "tool_calls"
		fn := FakeToolCall["function"].(map[string]any)
		args := fn["arguments"].(string)
		first := map[string]any{"index": 0, "id": FakeToolCall["id"], "type": "function",
			"function": map[string]any{"name": fn["name"], "arguments": ""}}
		if !send(chunk(map[string]any{"tool_calls": []any{first}}, nil)) {
			return
		}
		half := len(args) / 2
		for _, part := range []string{args[:half], args[half:]} {
			d := map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": part}}}}
			if !send(chunk(d, nil)) {
				return
			}
		}
	} else {
		words := strings.SplitAfter(reply, " ")
		for i, word := range words {
			if model == "break" && i == 1 {
				// cut the connection mid-stream, as a crashed upstream would
				if hj, ok := w.(http.Hijacker); ok {
					if conn, _, err := hj.Hijack(); err == nil {
						conn.Close()
					}
				}
				return
			}
			if !send(chunk(map[string]any{"content": word}, nil)) {
				return
			}
		}
	}
	if !send(chunk(map[string]any{}, finish)) {
		return
	}
	if includeUsage {
		if !send(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"choices": []any{}, "usage": u,
		}) {
			return
		}
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}

// inputTexts reads an OpenAI "input" of embeddings or moderations: one
// string or an array of strings.
func inputTexts(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return nil, false
	}
	return many, true
}

func (f *Fake) embeddings(w http.ResponseWriter, body []byte) {
	var req struct {
		Model      string          `json:"model"`
		Input      json.RawMessage `json:"input"`
		Dimensions int             `json:"dimensions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		WriteOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "We could not parse the JSON body of your request.")
		return
	}
	inputs, ok := inputTexts(req.Input)
	if !ok {
		WriteOpenAIError(w, http.StatusBadRequest, "invalid_request_error", "", "'input' must be a string or an array of strings")
		return
	}
	dims := req.Dimensions
	if dims <= 0 {
		dims = 8
	}
	data := make([]any, len(inputs))
	tokens := 0
	for i, in := range inputs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": Vector(in, dims)}
		tokens += len(strings.Fields(in))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

// Vector is the fake's deterministic unit-length embedding of s.
func Vector(s string, dims int) []float32 {
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		h := sha256.Sum256([]byte(fmt.Sprintf("%d:%s", i, s)))
		x := float64(binary.BigEndian.Uint32(h[:4]))/math.MaxUint32*2 - 1
		v[i] = float32(x)
		norm += x * x
	}
	norm = math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) / norm)
	}
	return v
}

func (f *Fake) models(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data": []any{
			map[string]any{"id": "gpt-4o-mini", "object": "model", "created": 1700000000, "owned_by": "fake"},
			map[string]any{"id": "text-embedding-3-small", "object": "model", "created": 1700000000, "owned_by": "fake"},
		},
	})
}

// WriteOpenAIError writes an OpenAI error body.
func WriteOpenAIError(w http.ResponseWriter, status int, typ, code, msg string) {
	e := map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}
	if code != "" {
		e["code"] = code
	}
	writeJSON(w, status, map[string]any{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// sleepCtx waits d or until the request is cancelled; false if cancelled.
func sleepCtx(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
