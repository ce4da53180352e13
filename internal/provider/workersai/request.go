package workersai

import (
	"encoding/json"
	"fmt"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
)

// toRun translates a canonical chat request to a /run text-generation
// input. Messages keep OpenAI's roles (the models' chat templates use
// them); text-only content becomes a plain string, which every model
// accepts, and content with images stays an array of parts for the vision
// models. Tool results also carry the function name, which the older
// function-calling models read instead of the call id.
//
// The native API has no stop sequences, n, or forced tool choice: stop and
// n are refused rather than dropped; tool_choice "none" leaves the tools
// out, other choices are left to the model (use the OpenAI-compatible
// endpoint, api_path /v1, for exact OpenAI semantics).
func toRun(req *llm.ChatRequest, stream bool) (*runRequest, error) {
	out := &runRequest{
		Stream: stream, Temperature: req.Temperature, TopP: req.TopP, Seed: req.Seed,
		FrequencyPenalty: req.FrequencyPenalty, PresencePenalty: req.PresencePenalty,
	}
	if n := req.MaxOutputTokens(); n > 0 {
		out.MaxTokens = &n
	}
	if len(req.Stop) > 0 {
		return nil, gwerr.BadRequest("stop", "stop is not supported by workers-ai's native API (configure api_path: /v1 to use its OpenAI-compatible endpoint)")
	}
	if req.N != nil && *req.N > 1 {
		return nil, gwerr.BadRequest("n", "n > 1 is not supported by workers-ai")
	}
	for _, k := range []string{"top_k", "repetition_penalty"} {
		if _, ok := req.Extra[k]; !ok {
			continue
		}
		var err error
		if k == "top_k" {
			out.TopK = new(int)
			_, err = req.Extra.Get(k, out.TopK)
		} else {
			out.RepetitionPenalty = new(float64)
			_, err = req.Extra.Get(k, out.RepetitionPenalty)
		}
		if err != nil {
			return nil, gwerr.BadRequest(k, "%s must be a number", k)
		}
	}
	names := map[string]string{}
	for i, m := range req.Messages {
		param := fmt.Sprintf("messages[%d]", i)
		rm := runMessage{Role: m.Role, ToolCallID: m.ToolCallID, Name: m.Name}
		switch m.Role {
		case llm.RoleDeveloper:
			rm.Role = llm.RoleSystem
		case llm.RoleAssistant:
			for _, tc := range m.ToolCalls {
				tc.Index = nil
				rm.ToolCalls = append(rm.ToolCalls, tc)
				names[tc.ID] = tc.Function.Name
			}
		case llm.RoleTool, "function":
			rm.Role = llm.RoleTool
			if rm.Name == "" {
				rm.Name = names[m.ToolCallID]
			}
		}
		c, err := runContent(m.Content, param)
		if err != nil {
			return nil, err
		}
		rm.Content = c
		out.Messages = append(out.Messages, rm)
	}
	if len(req.Tools) > 0 && (req.ToolChoice == nil || req.ToolChoice.Mode != llm.ToolChoiceNone) {
		for i, t := range req.Tools {
			if t.Type != "" && t.Type != "function" {
				return nil, gwerr.BadRequest(fmt.Sprintf("tools[%d].type", i), "tools[%d]: tool type %q is not supported by workers-ai", i, t.Type)
			}
			t.Type = "function"
			if len(t.Function.Parameters) == 0 {
				t.Function.Parameters = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			t.Function.Strict = nil
			out.Tools = append(out.Tools, t)
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case llm.FormatJSONObject:
			out.ResponseFormat = &runResponseFormat{Type: "json_object"}
		case llm.FormatJSONSchema:
			out.ResponseFormat = &runResponseFormat{Type: "json_schema"}
			if rf.JSONSchema != nil && len(rf.JSONSchema.Schema) > 0 {
				out.ResponseFormat.JSONSchema = rf.JSONSchema.Schema
			} else {
				out.ResponseFormat = &runResponseFormat{Type: "json_object"}
			}
		case llm.FormatText, "":
		default:
			return nil, gwerr.BadRequest("response_format.type", "response_format.type %q is not supported", rf.Type)
		}
	}
	return out, nil
}

// runContent renders content as a string when it is text only, else as
// OpenAI parts (images as URLs or data URLs, which the vision models take).
func runContent(c llm.Content, param string) (json.RawMessage, error) {
	if !c.IsParts() {
		b, _ := json.Marshal(c.Text())
		return b, nil
	}
	textOnly := true
	for j, p := range c.Parts() {
		switch p.Type {
		case llm.PartText:
		case llm.PartImageURL:
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, gwerr.BadRequest(fmt.Sprintf("%s.content[%d].image_url", param, j), "%s.content[%d]: image_url.url is required", param, j)
			}
			textOnly = false
		default:
			return nil, gwerr.BadRequest(fmt.Sprintf("%s.content[%d].type", param, j), "%s.content[%d]: content part type %q is not supported by workers-ai", param, j, p.Type)
		}
	}
	if textOnly {
		b, _ := json.Marshal(c.Text())
		return b, nil
	}
	return json.Marshal(c.Parts())
}
