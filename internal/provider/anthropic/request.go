package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
)

// JSONObjectInstruction is appended to the system prompt for
// response_format json_object: Anthropic has no JSON mode without a schema,
// so the model is told instead.
const JSONObjectInstruction = "Respond only with a single valid JSON object. Do not add any text, explanation or markdown code fences before or after it."

// passExtra are canonical extra members that mean the same in Anthropic's
// format and are passed through: sampling's top_k and extended thinking.
var passExtra = []string{"top_k", "thinking"}

// FromChat translates a canonical chat request into a Messages request.
// Input that Anthropic cannot express is a 400 naming the parameter.
func FromChat(req *llm.ChatRequest) (*Request, error) {
	out := &Request{Model: req.Model, Stream: req.Stream, Temperature: req.Temperature, TopP: req.TopP}
	if req.N != nil && *req.N > 1 {
		return nil, gwerr.BadRequest("n", "n must be 1: Anthropic models return one choice per request")
	}
	var system []Block
	for i := range req.Messages {
		m := &req.Messages[i]
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			blocks, err := userBlocks(m.Content, fmt.Sprintf("messages[%d]", i), true)
			if err != nil {
				return nil, err
			}
			system = append(system, blocks...)
		case llm.RoleUser:
			blocks, err := userBlocks(m.Content, fmt.Sprintf("messages[%d]", i), false)
			if err != nil {
				return nil, err
			}
			out.Messages = appendTurn(out.Messages, "user", m.Content.IsParts(), blocks)
		case llm.RoleAssistant:
			blocks, err := assistantBlocks(m, i)
			if err != nil {
				return nil, err
			}
			if len(blocks) == 0 {
				continue // Anthropic refuses empty turns; an empty turn says nothing
			}
			out.Messages = appendTurn(out.Messages, "assistant", len(m.ToolCalls) > 0 || m.Content.IsParts(), blocks)
		case llm.RoleTool:
			b, err := toolResult(m, i)
			if err != nil {
				return nil, err
			}
			out.Messages = appendTurn(out.Messages, "user", true, []Block{b})
		default:
			return nil, gwerr.BadRequest(fmt.Sprintf("messages[%d].role", i),
				"messages[%d].role %q cannot be sent to an Anthropic model; use system, user, assistant or tool", i, m.Role)
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case llm.FormatJSONObject:
			system = append(system, Block{Type: BlockText, Text: JSONObjectInstruction})
		case llm.FormatJSONSchema:
			if rf.JSONSchema == nil || len(rf.JSONSchema.Schema) == 0 {
				return nil, gwerr.BadRequest("response_format.json_schema.schema", "response_format json_schema needs a schema")
			}
			out.OutputConfig = &OutputConfig{Format: &OutputFormat{Type: "json_schema", Schema: rf.JSONSchema.Schema}}
		}
	}
	if len(system) > 0 {
		out.System = &Content{Blocks: system, String: len(system) == 1 && system[0].CacheControl == nil}
	}
	if err := convertTools(req, out); err != nil {
		return nil, err
	}
	if len(req.Stop) > 0 {
		out.StopSequences = req.Stop
	}
	if req.User != "" {
		out.Metadata = &Metadata{UserID: req.User}
	}
	for _, k := range passExtra {
		raw, ok := req.Extra[k]
		if !ok {
			continue
		}
		switch k {
		case "top_k":
			var n int
			if err := json.Unmarshal(raw, &n); err != nil {
				return nil, gwerr.BadRequest("top_k", "top_k must be an integer")
			}
			out.TopK = &n
		case "thinking":
			out.Thinking = raw
		}
	}
	max := req.MaxOutputTokens()
	if max <= 0 {
		max = DefaultMaxTokens
		if b := thinkingBudget(out.Thinking); b >= max {
			max = b + DefaultMaxTokens // the budget is part of max_tokens
		}
	}
	out.MaxTokens = &max
	return out, nil
}

func thinkingBudget(raw json.RawMessage) int {
	var t struct {
		BudgetTokens int `json:"budget_tokens"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &t) != nil {
		return 0
	}
	return t.BudgetTokens
}

// appendTurn adds blocks as a turn of role, merged into the previous turn
// when it has the same role: Anthropic alternates user and assistant, and
// several tool results answer one assistant turn in one user turn.
func appendTurn(msgs []Message, role string, asBlocks bool, blocks []Block) []Message {
	if n := len(msgs); n > 0 && msgs[n-1].Role == role {
		last := &msgs[n-1]
		last.Content.String = false
		last.Content.Blocks = append(last.Content.Blocks, blocks...)
		return msgs
	}
	c := Content{Blocks: blocks}
	if !asBlocks && len(blocks) == 1 && blocks[0].Type == BlockText {
		c.String = true
	}
	return append(msgs, Message{Role: role, Content: c})
}

// userBlocks converts user (or system) content. Empty text parts are
// dropped: Anthropic refuses empty text blocks.
func userBlocks(c llm.Content, path string, textOnly bool) ([]Block, error) {
	if !c.IsParts() {
		if c.IsNull() {
			return nil, nil
		}
		return []Block{{Type: BlockText, Text: c.Text()}}, nil
	}
	var out []Block
	for j, p := range c.Parts() {
		ppath := fmt.Sprintf("%s.content[%d]", path, j)
		switch p.Type {
		case llm.PartText:
			if p.Text != "" {
				out = append(out, Block{Type: BlockText, Text: p.Text})
			}
		case llm.PartImageURL:
			if textOnly {
				return nil, gwerr.BadRequest(ppath, "%s: system messages sent to an Anthropic model can hold only text", ppath)
			}
			if p.ImageURL == nil || p.ImageURL.URL == "" {
				return nil, gwerr.BadRequest(ppath+".image_url.url", "%s.image_url.url is required", ppath)
			}
			out = append(out, Block{Type: BlockImage, Source: imageSource(p.ImageURL)})
		case llm.PartFile:
			if textOnly {
				return nil, gwerr.BadRequest(ppath, "%s: system messages sent to an Anthropic model can hold only text", ppath)
			}
			b, err := fileBlock(p.File, ppath)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		default:
			return nil, gwerr.BadRequest(ppath+".type", "%s: content parts of type %q cannot be sent to an Anthropic model", ppath, p.Type)
		}
	}
	return out, nil
}

// imageSource turns an image URL into a url source, or a data: URL into a
// base64 source.
func imageSource(u *llm.ImageURL) *Source {
	if mt, data, ok := u.DataURL(); ok {
		return &Source{Type: "base64", MediaType: mt, Data: data}
	}
	return &Source{Type: "url", URL: u.URL}
}

// fileBlock turns an inline file (a data: URL, as OpenAI sends PDFs) into
// a document block.
func fileBlock(f *llm.File, path string) (Block, error) {
	if f == nil {
		return Block{}, gwerr.BadRequest(path+".file", "%s.file is required", path)
	}
	if f.FileData == "" {
		return Block{}, gwerr.BadRequest(path+".file.file_data", "%s: uploaded file ids cannot be sent to an Anthropic model; send file_data", path)
	}
	mt, data, ok := llm.ImageURL{URL: f.FileData}.DataURL()
	if !ok {
		return Block{}, gwerr.BadRequest(path+".file.file_data", "%s.file.file_data must be a base64 data: URL", path)
	}
	return Block{Type: BlockDocument, Source: &Source{Type: "base64", MediaType: mt, Data: data}, Title: f.Filename}, nil
}

// assistantBlocks converts an assistant turn: its text, then its tool calls
// as tool_use blocks with their ids. Visible reasoning is not sent back:
// Anthropic accepts prior thinking only with the signature it issued.
func assistantBlocks(m *llm.Message, i int) ([]Block, error) {
	var out []Block
	for _, p := range m.Content.Parts() {
		switch {
		case p.Type == llm.PartText && p.Text != "":
			out = append(out, Block{Type: BlockText, Text: p.Text})
		case p.Type == llm.PartRefusal && p.Refusal != "":
			out = append(out, Block{Type: BlockText, Text: p.Refusal})
		}
	}
	for j, tc := range m.ToolCalls {
		path := fmt.Sprintf("messages[%d].tool_calls[%d]", i, j)
		if tc.ID == "" || tc.Function.Name == "" {
			return nil, gwerr.BadRequest(path, "%s needs an id and a function name", path)
		}
		input := json.RawMessage(strings.TrimSpace(tc.Function.Arguments))
		if len(input) == 0 {
			input = json.RawMessage("{}")
		}
		if !json.Valid(input) || input[0] != '{' {
			return nil, gwerr.BadRequest(path+".function.arguments", "%s.function.arguments must be a JSON object to be sent to an Anthropic model", path)
		}
		out = append(out, Block{Type: BlockToolUse, ID: tc.ID, Name: tc.Function.Name, Input: compact(input)})
	}
	return out, nil
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// toolResult turns a tool message into a tool_result block.
func toolResult(m *llm.Message, i int) (Block, error) {
	if m.ToolCallID == "" {
		return Block{}, gwerr.BadRequest(fmt.Sprintf("messages[%d].tool_call_id", i), "messages[%d] has role tool and needs a tool_call_id", i)
	}
	b := Block{Type: BlockToolResult, ToolUseID: m.ToolCallID}
	if !m.Content.IsParts() {
		if s := m.Content.Text(); s != "" {
			c := TextContent(s)
			b.Content = &c
		}
		return b, nil
	}
	blocks, err := userBlocks(m.Content, fmt.Sprintf("messages[%d]", i), false)
	if err != nil {
		return Block{}, err
	}
	if len(blocks) > 0 {
		b.Content = &Content{Blocks: blocks}
	}
	return b, nil
}

// convertTools translates tools, tool_choice and parallel_tool_calls.
func convertTools(req *llm.ChatRequest, out *Request) error {
	for i, t := range req.Tools {
		if t.Type != "" && t.Type != "function" {
			return gwerr.BadRequest(fmt.Sprintf("tools[%d].type", i), "tools[%d]: tools of type %q cannot be sent to an Anthropic model", i, t.Type)
		}
		schema := t.Function.Parameters
		if len(bytes.TrimSpace(schema)) == 0 || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		out.Tools = append(out.Tools, Tool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema, Strict: t.Function.Strict})
	}
	if len(out.Tools) == 0 {
		return nil // tool_choice without tools is an error at Anthropic
	}
	var tc *ToolChoice
	if req.ToolChoice != nil {
		switch req.ToolChoice.Mode {
		case llm.ToolChoiceAuto:
			tc = &ToolChoice{Type: "auto"}
		case llm.ToolChoiceRequired:
			tc = &ToolChoice{Type: "any"}
		case llm.ToolChoiceNone:
			tc = &ToolChoice{Type: "none"}
		case llm.ToolChoiceFunction:
			tc = &ToolChoice{Type: "tool", Name: req.ToolChoice.Function}
		default:
			return gwerr.BadRequest("tool_choice", "tool_choice %q is not one of none, auto, required or a function", req.ToolChoice.Mode)
		}
	}
	if req.ParallelToolCalls != nil && !*req.ParallelToolCalls {
		if tc == nil {
			tc = &ToolChoice{Type: "auto"}
		}
		if tc.Type != "none" {
			t := true
			tc.DisableParallelToolUse = &t
		}
	}
	out.ToolChoice = tc
	return nil
}
