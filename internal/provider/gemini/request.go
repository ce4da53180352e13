package gemini

import (
	"encoding/json"
	"fmt"
	"mime"
	"path"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// skipSignature is the value the Gemini API documents for function-call
// parts whose thought signature was not kept (history from an OpenAI
// client has none): it tells Gemini 3 models to skip signature validation
// instead of failing the request with 400.
const skipSignature = "skip_thought_signature_validator"

// toGenerate translates a canonical chat request to a GenerateContentRequest.
//
// System and developer messages become systemInstruction; assistant turns
// use role "model"; tool calls become functionCall parts and tool results
// functionResponse parts in a user turn. Gemini has no call ids, so a tool
// result is matched to its call by the tool_call_id → function name map
// built from the assistant turns before it. Consecutive messages of the
// same role are merged, since Gemini expects user and model turns to
// alternate.
func toGenerate(req *llm.ChatRequest) (*generateRequest, error) {
	out := &generateRequest{}
	callNames := map[string]string{}
	signatures := needsSignature(req.Model)
	for i, m := range req.Messages {
		param := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			if out.SystemInstruction == nil {
				out.SystemInstruction = &content{}
			}
			if t := m.Content.Text(); t != "" {
				out.SystemInstruction.Parts = append(out.SystemInstruction.Parts, part{Text: t})
			}
		case llm.RoleUser:
			parts, err := userParts(m.Content, param)
			if err != nil {
				return nil, err
			}
			out.Contents = appendTurn(out.Contents, "user", parts)
		case llm.RoleAssistant:
			var parts []part
			if t := m.Content.Text(); t != "" {
				parts = append(parts, part{Text: t})
			}
			for j, tc := range m.ToolCalls {
				args, err := upstream.ArgsObject(tc.Function.Arguments)
				if err != nil {
					return nil, gwerr.BadRequest(fmt.Sprintf("%s.tool_calls[%d].function.arguments", param, j), "%s.tool_calls[%d]: %v", param, j, err)
				}
				p := part{FunctionCall: &functionCall{Name: tc.Function.Name, Args: args}}
				if signatures {
					p.ThoughtSignature = skipSignature
				}
				parts = append(parts, p)
				if tc.ID != "" {
					callNames[tc.ID] = tc.Function.Name
				}
			}
			if len(parts) == 0 {
				continue // an empty assistant turn carries nothing Gemini accepts
			}
			out.Contents = appendTurn(out.Contents, "model", parts)
		case llm.RoleTool, "function":
			name := callNames[m.ToolCallID]
			if name == "" {
				name = m.Name
			}
			if name == "" {
				return nil, gwerr.BadRequest(param+".tool_call_id",
					"%s: tool_call_id %q matches no tool call of an earlier assistant message (Gemini needs the function name)", param, m.ToolCallID)
			}
			p := part{FunctionResponse: &functionResponse{Name: name, Response: toolResponse(m.Content.Text())}}
			out.Contents = appendTurn(out.Contents, "user", []part{p})
		default:
			return nil, gwerr.BadRequest(param+".role", "%s: role %q is not supported", param, m.Role)
		}
	}
	if out.SystemInstruction != nil && len(out.SystemInstruction.Parts) == 0 {
		out.SystemInstruction = nil
	}
	if len(out.Contents) == 0 {
		return nil, gwerr.BadRequest("messages", "messages must contain at least one user or assistant message")
	}
	if err := setTools(out, req); err != nil {
		return nil, err
	}
	gc, err := genConfig(req)
	if err != nil {
		return nil, err
	}
	out.GenerationConfig = gc
	// Gemini-specific members a client may send through the OpenAI API.
	if raw, ok := req.Extra["safety_settings"]; ok {
		out.SafetySettings = raw
	}
	if _, err := req.Extra.Get("cached_content", &out.CachedContent); err != nil {
		return nil, gwerr.BadRequest("cached_content", "cached_content must be a string")
	}
	return out, nil
}

// needsSignature reports whether model is of a generation that validates
// thought signatures on replayed function calls (Gemini 3 and later).
func needsSignature(model string) bool {
	m := strings.TrimPrefix(model, "models/")
	for _, old := range []string{"gemini-1.", "gemini-2.", "gemini-pro", "gemma-", "learnlm-"} {
		if strings.HasPrefix(m, old) {
			return false
		}
	}
	return true
}

func appendTurn(cs []content, role string, parts []part) []content {
	if n := len(cs); n > 0 && cs[n-1].Role == role {
		cs[n-1].Parts = append(cs[n-1].Parts, parts...)
		return cs
	}
	return append(cs, content{Role: role, Parts: parts})
}

// toolResponse wraps a tool result as the JSON object functionResponse
// needs: an object result is sent as is, anything else as {"output": …}
// (the key the Gemini docs name for a function's output).
func toolResponse(text string) json.RawMessage {
	t := strings.TrimSpace(text)
	if strings.HasPrefix(t, "{") && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	var v any = text
	if t != "" && json.Valid([]byte(t)) {
		v = json.RawMessage(t)
	}
	b, _ := json.Marshal(map[string]any{"output": v})
	return b
}

// userParts translates user content. Images and files in data URLs are
// sent inline (base64); http(s) URLs as fileData, which the Gemini API
// fetches itself for the URLs it supports (File API uploads, YouTube, and
// public URLs on current models).
func userParts(c llm.Content, param string) ([]part, error) {
	if !c.IsParts() {
		if t := c.Text(); t != "" {
			return []part{{Text: t}}, nil
		}
		return nil, gwerr.BadRequest(param+".content", "%s: content must not be empty", param)
	}
	var out []part
	for j, p := range c.Parts() {
		pp := fmt.Sprintf("%s.content[%d]", param, j)
		switch p.Type {
		case llm.PartText:
			if p.Text != "" {
				out = append(out, part{Text: p.Text})
			}
		case llm.PartImageURL:
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, gwerr.BadRequest(pp+".image_url", "%s: image_url.url is required", pp)
			}
			pt, err := mediaPart(p.ImageURL.URL, pp)
			if err != nil {
				return nil, err
			}
			out = append(out, pt)
		case llm.PartInputAudio:
			if p.InputAudio == nil || p.InputAudio.Data == "" {
				return nil, gwerr.BadRequest(pp+".input_audio", "%s: input_audio.data is required", pp)
			}
			out = append(out, part{InlineData: &blob{MimeType: "audio/" + p.InputAudio.Format, Data: p.InputAudio.Data}})
		case llm.PartFile:
			if p.File == nil || p.File.FileData == "" {
				return nil, gwerr.BadRequest(pp+".file", "%s: only inline files (file.file_data as a data URL) are supported by google-ai-studio", pp)
			}
			pt, err := mediaPart(p.File.FileData, pp)
			if err != nil {
				return nil, err
			}
			out = append(out, pt)
		default:
			return nil, gwerr.BadRequest(pp+".type", "%s: content part type %q is not supported by google-ai-studio", pp, p.Type)
		}
	}
	if len(out) == 0 {
		return nil, gwerr.BadRequest(param+".content", "%s: content must not be empty", param)
	}
	return out, nil
}

func mediaPart(u, param string) (part, error) {
	img := llm.ImageURL{URL: u}
	if mt, data, ok := img.DataURL(); ok {
		if mt == "" {
			mt = "application/octet-stream"
		}
		return part{InlineData: &blob{MimeType: mt, Data: data}}, nil
	}
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "gs://") {
		return part{FileData: &fileData{MimeType: guessMime(u), FileURI: u}}, nil
	}
	return part{}, gwerr.BadRequest(param, "%s: URL must be a base64 data URL or an http(s) URL", param)
}

// guessMime guesses a media type from a URL's extension; Gemini requires
// one on fileData. Images are the common case, so JPEG is the fallback.
func guessMime(u string) string {
	p := u
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if strings.Contains(p, "youtube.com/") || strings.Contains(p, "youtu.be/") {
		return "video/mp4"
	}
	if t := mime.TypeByExtension(strings.ToLower(path.Ext(p))); t != "" {
		t, _, _ = strings.Cut(t, ";")
		return t
	}
	return "image/jpeg"
}

func setTools(out *generateRequest, req *llm.ChatRequest) error {
	if len(req.Tools) > 0 {
		decls := make([]functionDeclaration, 0, len(req.Tools))
		for i, t := range req.Tools {
			if t.Type != "" && t.Type != "function" {
				return gwerr.BadRequest(fmt.Sprintf("tools[%d].type", i), "tools[%d]: tool type %q is not supported by google-ai-studio", i, t.Type)
			}
			d := functionDeclaration{Name: t.Function.Name, Description: t.Function.Description}
			if len(t.Function.Parameters) > 0 {
				params, err := cleanSchema(t.Function.Parameters)
				if err != nil {
					return gwerr.BadRequest(fmt.Sprintf("tools[%d].function.parameters", i), "tools[%d].function.parameters: %v", i, err)
				}
				if !emptyObjectSchema(params) {
					d.Parameters = params
				}
			}
			decls = append(decls, d)
		}
		out.Tools = []tool{{FunctionDeclarations: decls}}
	}
	if tc := req.ToolChoice; tc != nil {
		cfg := functionCallingConfig{}
		switch tc.Mode {
		case llm.ToolChoiceNone:
			cfg.Mode = "NONE"
		case llm.ToolChoiceAuto, "":
			cfg.Mode = "AUTO"
		case llm.ToolChoiceRequired:
			cfg.Mode = "ANY"
		case llm.ToolChoiceFunction:
			cfg.Mode, cfg.AllowedFunctionNames = "ANY", []string{tc.Function}
		default:
			return gwerr.BadRequest("tool_choice", "tool_choice %q is not one of none, auto, required", tc.Mode)
		}
		if len(req.Tools) > 0 {
			out.ToolConfig = &toolConfig{FunctionCallingConfig: cfg}
		}
	}
	return nil
}

func genConfig(req *llm.ChatRequest) (*generationConfig, error) {
	gc := &generationConfig{
		StopSequences:    req.Stop,
		Temperature:      req.Temperature,
		TopP:             req.TopP,
		CandidateCount:   req.N,
		Seed:             req.Seed,
		PresencePenalty:  req.PresencePenalty,
		FrequencyPenalty: req.FrequencyPenalty,
	}
	if n := req.MaxOutputTokens(); n > 0 {
		gc.MaxOutputTokens = &n
	}
	var topK int
	if ok, err := req.Extra.Get("top_k", &topK); err != nil {
		return nil, gwerr.BadRequest("top_k", "top_k must be an integer")
	} else if ok {
		gc.TopK = &topK
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case llm.FormatJSONObject:
			gc.ResponseMimeType = "application/json"
		case llm.FormatJSONSchema:
			gc.ResponseMimeType = "application/json"
			if rf.JSONSchema != nil && len(rf.JSONSchema.Schema) > 0 {
				s, err := cleanSchema(rf.JSONSchema.Schema)
				if err != nil {
					return nil, gwerr.BadRequest("response_format.json_schema.schema", "response_format.json_schema.schema: %v", err)
				}
				gc.ResponseSchema = s
			}
		case llm.FormatText, "":
		default:
			return nil, gwerr.BadRequest("response_format.type", "response_format.type %q is not supported", rf.Type)
		}
	}
	if gc.isZero() {
		return nil, nil
	}
	return gc, nil
}
