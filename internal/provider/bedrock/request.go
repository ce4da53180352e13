package bedrock

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// jsonTool is the tool through which JSON mode is asked for: Converse has
// no response_format, so the model is made to call a tool whose input
// schema is the requested one, and the call's input comes back as the
// message content (see fromConverse).
const jsonTool = "json_response"

// converted is a translated request and what the response translation
// needs to know about it.
type converted struct {
	req *converseRequest
	// jsonMode is set when response_format was translated to jsonTool.
	jsonMode bool
}

// toConverse translates a canonical chat request to a Converse request.
//
// System and developer messages become system blocks; user and assistant
// turns keep their roles, tool calls become toolUse blocks and tool
// results toolResult blocks in a user turn, both under the client's call
// id (Bedrock keeps toolUseId), and consecutive turns of the same role are
// merged, since Converse requires them to alternate. Images must be base64
// data URLs: Converse cannot fetch URLs.
func toConverse(req *llm.ChatRequest) (*converted, error) {
	out := &converseRequest{}
	usedTools := map[string]bool{}
	for i, m := range req.Messages {
		param := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			if t := m.Content.Text(); t != "" {
				out.System = append(out.System, systemBlock{Text: t})
			}
		case llm.RoleUser:
			blocks, err := userBlocks(m.Content, param)
			if err != nil {
				return nil, err
			}
			out.Messages = appendTurn(out.Messages, "user", blocks)
		case llm.RoleAssistant:
			var blocks []contentBlock
			if t := m.Content.Text(); strings.TrimSpace(t) != "" {
				blocks = append(blocks, contentBlock{Text: t})
			}
			for j, tc := range m.ToolCalls {
				args, err := upstream.ArgsObject(tc.Function.Arguments)
				if err != nil {
					return nil, gwerr.BadRequest(fmt.Sprintf("%s.tool_calls[%d].function.arguments", param, j), "%s.tool_calls[%d]: %v", param, j, err)
				}
				if tc.ID == "" {
					return nil, gwerr.BadRequest(fmt.Sprintf("%s.tool_calls[%d].id", param, j), "%s.tool_calls[%d]: id is required", param, j)
				}
				blocks = append(blocks, contentBlock{ToolUse: &toolUse{ToolUseID: tc.ID, Name: tc.Function.Name, Input: args}})
				usedTools[tc.Function.Name] = true
			}
			if len(blocks) == 0 {
				continue
			}
			out.Messages = appendTurn(out.Messages, "assistant", blocks)
		case llm.RoleTool, "function":
			tr := &toolResult{ToolUseID: m.ToolCallID, Content: []toolResultContent{{Text: m.Content.Text()}}}
			if tr.Content[0].Text == "" {
				// Converse rejects empty text blocks; an empty result is
				// still a result.
				tr.Content[0] = toolResultContent{JSON: json.RawMessage("{}")}
			}
			out.Messages = appendTurn(out.Messages, "user", []contentBlock{{ToolResult: tr}})
		default:
			return nil, gwerr.BadRequest(param+".role", "%s: role %q is not supported", param, m.Role)
		}
	}
	if len(out.Messages) == 0 {
		return nil, gwerr.BadRequest("messages", "messages must contain at least one user or assistant message")
	}
	if req.N != nil && *req.N > 1 {
		return nil, gwerr.BadRequest("n", "n > 1 is not supported by aws-bedrock")
	}
	ic := &inferenceCfg{Temperature: req.Temperature, TopP: req.TopP, StopSequences: req.Stop}
	if n := req.MaxOutputTokens(); n > 0 {
		ic.MaxTokens = &n
	}
	if ic.Temperature != nil || ic.TopP != nil || ic.MaxTokens != nil || len(ic.StopSequences) > 0 {
		out.InferenceConfig = ic
	}
	var topK int
	if ok, err := req.Extra.Get("top_k", &topK); err != nil {
		return nil, gwerr.BadRequest("top_k", "top_k must be an integer")
	} else if ok {
		out.AdditionalModelRequestFields, _ = json.Marshal(map[string]int{"top_k": topK})
	}
	c := &converted{req: out}
	if err := setTools(c, req, usedTools); err != nil {
		return nil, err
	}
	return c, nil
}

func appendTurn(ms []message, role string, blocks []contentBlock) []message {
	if n := len(ms); n > 0 && ms[n-1].Role == role {
		ms[n-1].Content = append(ms[n-1].Content, blocks...)
		return ms
	}
	return append(ms, message{Role: role, Content: blocks})
}

func userBlocks(c llm.Content, param string) ([]contentBlock, error) {
	if !c.IsParts() {
		if t := c.Text(); t != "" {
			return []contentBlock{{Text: t}}, nil
		}
		return nil, gwerr.BadRequest(param+".content", "%s: content must not be empty", param)
	}
	var out []contentBlock
	for j, p := range c.Parts() {
		pp := fmt.Sprintf("%s.content[%d]", param, j)
		switch p.Type {
		case llm.PartText:
			if p.Text != "" {
				out = append(out, contentBlock{Text: p.Text})
			}
		case llm.PartImageURL:
			if p.ImageURL == nil {
				return nil, gwerr.BadRequest(pp+".image_url", "%s: image_url is required", pp)
			}
			mt, data, ok := p.ImageURL.DataURL()
			if !ok {
				return nil, gwerr.BadRequest(pp+".image_url.url", "%s: aws-bedrock takes images only as base64 data URLs (data:image/png;base64,…); it cannot fetch URLs", pp)
			}
			format, ok := imageFormats[mt]
			if !ok {
				return nil, gwerr.BadRequest(pp+".image_url.url", "%s: image type %q is not one of png, jpeg, gif, webp", pp, mt)
			}
			out = append(out, contentBlock{Image: &mediaBlock{Format: format, Source: mediaSource{Bytes: data}}})
		case llm.PartFile:
			if p.File == nil || p.File.FileData == "" {
				return nil, gwerr.BadRequest(pp+".file", "%s: only inline files (file.file_data as a data URL) are supported by aws-bedrock", pp)
			}
			mt, data, ok := llm.ImageURL{URL: p.File.FileData}.DataURL()
			format, known := documentFormats[mt]
			if !ok || !known {
				return nil, gwerr.BadRequest(pp+".file.file_data", "%s: file must be a base64 data URL of a pdf, csv, doc(x), xls(x), html, txt or md document", pp)
			}
			out = append(out, contentBlock{Document: &mediaBlock{Format: format, Name: documentName(p.File.Filename, j), Source: mediaSource{Bytes: data}}})
		default:
			return nil, gwerr.BadRequest(pp+".type", "%s: content part type %q is not supported by aws-bedrock", pp, p.Type)
		}
	}
	if len(out) == 0 {
		return nil, gwerr.BadRequest(param+".content", "%s: content must not be empty", param)
	}
	return out, nil
}

var imageFormats = map[string]string{
	"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp",
}

var documentFormats = map[string]string{
	"application/pdf": "pdf", "text/csv": "csv", "application/msword": "doc",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
	"application/vnd.ms-excel": "xls",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
	"text/html": "html", "text/plain": "txt", "text/markdown": "md",
}

// documentName makes a document name Converse accepts: letters, digits,
// single spaces, hyphens, parentheses and brackets only.
func documentName(filename string, j int) string {
	if i := strings.LastIndexByte(filename, '.'); i > 0 {
		filename = filename[:i]
	}
	var b strings.Builder
	space := false
	for _, r := range filename {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-()[]", r)
		switch {
		case ok:
			b.WriteRune(r)
			space = false
		case !space && b.Len() > 0:
			b.WriteByte(' ')
			space = true
		}
	}
	name := strings.TrimSpace(b.String())
	if name == "" {
		name = fmt.Sprintf("document %d", j+1)
	}
	return name
}

// emptySchema is the input schema of a tool declared without parameters.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

func setTools(c *converted, req *llm.ChatRequest, usedTools map[string]bool) error {
	var tools []toolItem
	declared := map[string]bool{}
	for i, t := range req.Tools {
		if t.Type != "" && t.Type != "function" {
			return gwerr.BadRequest(fmt.Sprintf("tools[%d].type", i), "tools[%d]: tool type %q is not supported by aws-bedrock", i, t.Type)
		}
		schema := t.Function.Parameters
		if len(schema) == 0 || string(schema) == "null" {
			schema = emptySchema
		}
		tools = append(tools, toolItem{ToolSpec: toolSpec{Name: t.Function.Name, Description: t.Function.Description, InputSchema: inputSchema{JSON: schema}}})
		declared[t.Function.Name] = true
	}
	var choice *toolChoice
	if tc := req.ToolChoice; tc != nil && len(tools) > 0 {
		switch tc.Mode {
		case llm.ToolChoiceAuto, "":
			choice = &toolChoice{Auto: &empty{}}
		case llm.ToolChoiceRequired:
			choice = &toolChoice{Any: &empty{}}
		case llm.ToolChoiceFunction:
			choice = &toolChoice{Tool: &struct {
				Name string `json:"name"`
			}{Name: tc.Function}}
		case llm.ToolChoiceNone:
			// Converse has no "none": without tool blocks in the history
			// the tools are left out; with them (Converse then needs the
			// declarations) they stay and the model decides.
			if len(usedTools) == 0 {
				tools = nil
			}
		default:
			return gwerr.BadRequest("tool_choice", "tool_choice %q is not one of none, auto, required", tc.Mode)
		}
	}
	// Converse refuses toolUse/toolResult blocks without a toolConfig:
	// declare the tools the history used that the request no longer does.
	var undeclared []string
	for name := range usedTools {
		if !declared[name] {
			undeclared = append(undeclared, name)
		}
	}
	sort.Strings(undeclared)
	for _, name := range undeclared {
		tools = append(tools, toolItem{ToolSpec: toolSpec{Name: name, InputSchema: inputSchema{JSON: emptySchema}}})
	}
	if rf := req.ResponseFormat; rf != nil && rf.Type != llm.FormatText && rf.Type != "" {
		schema := json.RawMessage(`{"type":"object"}`)
		switch rf.Type {
		case llm.FormatJSONObject:
		case llm.FormatJSONSchema:
			if rf.JSONSchema != nil && len(rf.JSONSchema.Schema) > 0 {
				schema = rf.JSONSchema.Schema
			}
		default:
			return gwerr.BadRequest("response_format.type", "response_format.type %q is not supported", rf.Type)
		}
		desc := "Respond with a JSON object by calling this tool; its input is your answer."
		if rf.JSONSchema != nil && rf.JSONSchema.Description != "" {
			desc = rf.JSONSchema.Description
		}
		tools = append(tools, toolItem{ToolSpec: toolSpec{Name: jsonTool, Description: desc, InputSchema: inputSchema{JSON: schema}}})
		if len(req.Tools) == 0 {
			choice = &toolChoice{Tool: &struct {
				Name string `json:"name"`
			}{Name: jsonTool}}
		} else if choice == nil || choice.Auto != nil {
			choice = &toolChoice{Any: &empty{}}
		}
		c.jsonMode = true
	}
	if len(tools) > 0 {
		c.req.ToolConfig = &toolConfig{Tools: tools, ToolChoice: choice}
	}
	return nil
}
