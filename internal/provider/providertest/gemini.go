package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Gemini is a fake Gemini API (generativelanguage.googleapis.com): it
// serves /v1beta/models/{model}:generateContent, :streamGenerateContent
// (alt=sse), :embedContent, :batchEmbedContents and GET /v1beta/models,
// authenticated by x-goog-api-key (or ?key=).
//
// It validates requests as strictly as the real API where the gateway
// could get it wrong: roles must be user or model, every part must hold
// exactly one kind of data, function parameter schemas must not use JSON
// Schema keywords Gemini rejects, and a functionResponse must name a
// declared function. Besides the shared faults (error-NNN, hang, slow-N)
// the model names mean:
//
//	break   a stream cut after its first event
//	tools   calls get_weather({"city":"Paris"}); once the last user turn
//	        holds a functionResponse, answers FakeWeather(its output)
type Gemini struct {
	recorder
	opts Options
}

// NewGemini returns a fake Gemini API.
func NewGemini(o Options) *Gemini { return &Gemini{opts: o} }

// WriteGeminiError writes a Google API error body.
func WriteGeminiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": status, "message": msg, "status": googleStatus(status),
	}})
}

func googleStatus(status int) string {
	switch status {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	return "INTERNAL"
}

func (f *Gemini) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, b := f.record(r)
	if f.opts.APIKey != "" && r.Header.Get("x-goog-api-key") != f.opts.APIKey && r.URL.Query().Get("key") != f.opts.APIKey {
		WriteGeminiError(w, http.StatusBadRequest, "API key not valid. Please pass a valid API key.")
		return
	}
	if b != nil && b(w, r, body) {
		return
	}
	if f.opts.Latency > 0 && !sleepCtx(r, f.opts.Latency) {
		f.Cancelled.Add(1)
		return
	}
	path := r.URL.Path
	if r.Method == http.MethodGet && path == "/v1beta/models" {
		writeJSON(w, http.StatusOK, map[string]any{"models": []any{
			map[string]any{"name": "models/gemini-2.5-flash", "supportedGenerationMethods": []string{"generateContent", "countTokens"}},
			map[string]any{"name": "models/text-embedding-004", "supportedGenerationMethods": []string{"embedContent"}},
			map[string]any{"name": "models/aqa", "supportedGenerationMethods": []string{"generateAnswer"}},
		}})
		f.Served.Add(1)
		return
	}
	rest, ok := strings.CutPrefix(path, "/v1beta/models/")
	model, method, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || r.Method != http.MethodPost {
		WriteGeminiError(w, http.StatusNotFound, "Requested entity was not found: "+r.Method+" "+path)
		return
	}
	if f.fault(w, r, model, WriteGeminiError) {
		return
	}
	switch method {
	case "generateContent":
		f.generate(w, r, model, body, false)
	case "streamGenerateContent":
		if r.URL.Query().Get("alt") != "sse" {
			WriteGeminiError(w, http.StatusBadRequest, "the fake only streams with alt=sse")
			return
		}
		f.generate(w, r, model, body, true)
	case "embedContent", "batchEmbedContents":
		f.embed(w, model, method, body)
	default:
		WriteGeminiError(w, http.StatusNotFound, "Method not found: "+method)
		return
	}
	f.Served.Add(1)
}

type geminiPart struct {
	Text             *string         `json:"text"`
	Thought          bool            `json:"thought"`
	ThoughtSignature string          `json:"thoughtSignature"`
	InlineData       json.RawMessage `json:"inlineData"`
	FileData         json.RawMessage `json:"fileData"`
	FunctionCall     *struct {
		Name string          `json:"name"`
		Args json.RawMessage `json:"args"`
	} `json:"functionCall"`
	FunctionResponse *struct {
		Name     string          `json:"name"`
		Response json.RawMessage `json:"response"`
	} `json:"functionResponse"`
}

type geminiContent struct {
	Role  string       `json:"role"`
	Parts []geminiPart `json:"parts"`
}

type geminiRequest struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction"`
	Tools             []struct {
		FunctionDeclarations []struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"functionDeclarations"`
	} `json:"tools"`
	GenerationConfig *struct {
		CandidateCount *int `json:"candidateCount"`
	} `json:"generationConfig"`
}

// validate checks what the real API rejects; "" when the request is fine.
func (req *geminiRequest) validate() string {
	if len(req.Contents) == 0 {
		return "* GenerateContentRequest.contents: contents is not specified"
	}
	declared := map[string]bool{}
	for _, t := range req.Tools {
		for _, d := range t.FunctionDeclarations {
			declared[d.Name] = true
			if bad := rejectedSchemaKey(d.Parameters); bad != "" {
				return fmt.Sprintf("Invalid JSON payload received. Unknown name %q at 'tools[0].function_declarations': Cannot find field.", bad)
			}
		}
	}
	for i, c := range req.Contents {
		if c.Role != "user" && c.Role != "model" {
			return fmt.Sprintf("* GenerateContentRequest.contents[%d].role: must be user or model, got %q", i, c.Role)
		}
		if len(c.Parts) == 0 {
			return fmt.Sprintf("* GenerateContentRequest.contents[%d].parts: contents.parts must not be empty.", i)
		}
		for j, p := range c.Parts {
			n := 0
			for _, set := range []bool{p.Text != nil, p.InlineData != nil, p.FileData != nil, p.FunctionCall != nil, p.FunctionResponse != nil} {
				if set {
					n++
				}
			}
			if n != 1 {
				return fmt.Sprintf("* GenerateContentRequest.contents[%d].parts[%d].data: required oneof field 'data' must have one initialized field", i, j)
			}
			if fr := p.FunctionResponse; fr != nil {
				if !declared[fr.Name] {
					return fmt.Sprintf("* GenerateContentRequest.contents[%d].parts[%d].function_response.name: function %q is not declared", i, j, fr.Name)
				}
				if len(fr.Response) == 0 || fr.Response[0] != '{' {
					return fmt.Sprintf("* GenerateContentRequest.contents[%d].parts[%d].function_response.response: must be an object", i, j)
				}
			}
			if fc := p.FunctionCall; fc != nil && c.Role != "model" {
				return fmt.Sprintf("* GenerateContentRequest.contents[%d].parts[%d]: functionCall only in model turns", i, j)
			}
		}
	}
	return ""
}

// rejectedSchemaKey returns a JSON Schema keyword in schema that Gemini's
// Schema type does not have, or "".
func rejectedSchemaKey(schema json.RawMessage) string {
	if len(schema) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(schema, &v) != nil {
		return "(invalid json)"
	}
	var walk func(v any, inProps bool) string
	walk = func(v any, inProps bool) string {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		for k, sub := range m {
			if !inProps {
				switch k {
				case "additionalProperties", "$schema", "$ref", "$defs", "strict", "const", "oneOf":
					return k
				}
			}
			switch k {
			case "properties":
				if props, ok := sub.(map[string]any); ok {
					for _, p := range props {
						if bad := walk(p, false); bad != "" {
							return bad
						}
					}
				}
			case "items":
				if bad := walk(sub, false); bad != "" {
					return bad
				}
			case "anyOf":
				if list, ok := sub.([]any); ok {
					for _, x := range list {
						if bad := walk(x, false); bad != "" {
							return bad
						}
					}
				}
			}
		}
		return ""
	}
	return walk(v, false)
}

func (req *geminiRequest) lastUser() (text string, toolOutput *string) {
	for i := len(req.Contents) - 1; i >= 0; i-- {
		c := req.Contents[i]
		if c.Role != "user" {
			continue
		}
		var b strings.Builder
		for _, p := range c.Parts {
			if p.FunctionResponse != nil {
				var resp map[string]any
				_ = json.Unmarshal(p.FunctionResponse.Response, &resp)
				out := fmt.Sprint(resp["output"])
				if resp["output"] == nil {
					out = string(p.FunctionResponse.Response)
				}
				return "", &out
			}
			if p.Text != nil {
				b.WriteString(*p.Text)
			}
		}
		return b.String(), nil
	}
	return "", nil
}

func (f *Gemini) generate(w http.ResponseWriter, r *http.Request, model string, body []byte, stream bool) {
	var req geminiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		WriteGeminiError(w, http.StatusBadRequest, "Invalid JSON payload received. "+err.Error())
		return
	}
	if msg := req.validate(); msg != "" {
		WriteGeminiError(w, http.StatusBadRequest, msg)
		return
	}
	text, toolOut := req.lastUser()
	reply := f.opts.Reply
	if reply == "" {
		reply = "Hello from fake: " + text
	}
	var call map[string]any
	if model == "tools" {
		if toolOut != nil {
			reply = FakeWeather(*toolOut)
		} else {
			call = map[string]any{"name": "get_weather", "args": map[string]any{"city": "Paris"}}
			reply = ""
		}
	}
	n := 1
	if req.GenerationConfig != nil && req.GenerationConfig.CandidateCount != nil && *req.GenerationConfig.CandidateCount > 1 {
		n = *req.GenerationConfig.CandidateCount
	}
	prompt := 0
	for _, c := range req.Contents {
		for _, p := range c.Parts {
			if p.Text != nil {
				prompt += words(*p.Text) + 1
			} else {
				prompt += 5
			}
		}
	}
	out := words(reply) * n
	if call != nil {
		out = 7
	}
	usageAt := func(completion int) map[string]any {
		return map[string]any{"promptTokenCount": prompt, "candidatesTokenCount": completion, "totalTokenCount": prompt + completion}
	}
	candidates := func(parts []any, finish string) []any {
		cs := make([]any, n)
		for i := range cs {
			c := map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "index": i}
			if finish != "" {
				c["finishReason"] = finish
			}
			cs[i] = c
		}
		return cs
	}
	if !stream {
		parts := []any{map[string]any{"text": reply}}
		if call != nil {
			parts = []any{map[string]any{"functionCall": call, "thoughtSignature": "c2lnbmF0dXJl"}}
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"candidates": candidates(parts, "STOP"), "usageMetadata": usageAt(out),
			"modelVersion": model, "responseId": "fake-gemini-response",
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	sent := 0
	send := func(v map[string]any) bool {
		if sent > 0 && f.opts.ChunkDelay > 0 && !sleepCtx(r, f.opts.ChunkDelay) {
			f.Cancelled.Add(1)
			return false
		}
		sent++
		v["modelVersion"] = model
		v["responseId"] = "fake-gemini-response"
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\r\n\r\n", b); err != nil {
			f.Cancelled.Add(1)
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	if call != nil {
		send(map[string]any{"candidates": candidates([]any{map[string]any{"functionCall": call}}, "STOP"), "usageMetadata": usageAt(out)})
		return
	}
	ws := strings.SplitAfter(reply, " ")
	done := 0
	for i, word := range ws {
		if model == "break" && i == 1 {
			cut(w)
			return
		}
		done += words(word)
		ev := map[string]any{"usageMetadata": usageAt(done * n)}
		finish := ""
		if i == len(ws)-1 {
			finish = "STOP"
		}
		ev["candidates"] = candidates([]any{map[string]any{"text": word}}, finish)
		if !send(ev) {
			return
		}
	}
}

func (f *Gemini) embed(w http.ResponseWriter, model, method string, body []byte) {
	type one struct {
		Model   string `json:"model"`
		Content struct {
			Parts []struct {
				Text string `json:"text"`
			} `json:"parts"`
		} `json:"content"`
		OutputDimensionality int `json:"outputDimensionality"`
	}
	vector := func(o one) map[string]any {
		var b strings.Builder
		for _, p := range o.Content.Parts {
			b.WriteString(p.Text)
		}
		dims := o.OutputDimensionality
		if dims <= 0 {
			dims = 8
		}
		return map[string]any{"values": Vector(b.String(), dims)}
	}
	if method == "embedContent" {
		var o one
		if err := json.Unmarshal(body, &o); err != nil || len(o.Content.Parts) == 0 {
			WriteGeminiError(w, http.StatusBadRequest, "* EmbedContentRequest.content: content is not specified")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"embedding": vector(o)})
		return
	}
	var batch struct {
		Requests []one `json:"requests"`
	}
	if err := json.Unmarshal(body, &batch); err != nil || len(batch.Requests) == 0 {
		WriteGeminiError(w, http.StatusBadRequest, "* BatchEmbedContentsRequest.requests: requests is not specified")
		return
	}
	out := make([]any, len(batch.Requests))
	for i, o := range batch.Requests {
		if o.Model != "models/"+model {
			WriteGeminiError(w, http.StatusBadRequest, fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].model: model %q does not match the request's %q", i, o.Model, "models/"+model))
			return
		}
		out[i] = vector(o)
	}
	writeJSON(w, http.StatusOK, map[string]any{"embeddings": out})
}
