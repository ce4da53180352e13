package llm

import (
	"sort"
	"strings"
)

// Accumulator folds stream chunks into the complete response they describe.
// The zero value is ready to use.
type Accumulator struct {
	resp    ChatResponse
	choices map[int]*choiceAcc
}

type choiceAcc struct {
	role      string
	content   strings.Builder
	reasoning strings.Builder
	refusal   strings.Builder
	hasText   bool
	hasRefuse bool
	finish    string
	tools     []ToolCall
	toolIdx   map[int]int // stream tool index → position in tools
	args      []strings.Builder
}

// Add folds one chunk in.
func (a *Accumulator) Add(c *ChatChunk) {
	if a.resp.ID == "" {
		a.resp.ID = c.ID
	}
	if a.resp.Created == 0 {
		a.resp.Created = c.Created
	}
	if c.Model != "" {
		a.resp.Model = c.Model
	}
	if c.SystemFingerprint != "" {
		a.resp.SystemFingerprint = c.SystemFingerprint
	}
	if c.ServiceTier != "" {
		a.resp.ServiceTier = c.ServiceTier
	}
	if c.Usage != nil {
		u := *c.Usage
		a.resp.Usage = &u
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		acc := a.choice(ch.Index)
		d := &ch.Delta
		if d.Role != "" {
			acc.role = d.Role
		}
		if d.Content != nil {
			acc.hasText = true
			acc.content.WriteString(*d.Content)
		}
		if d.ReasoningContent != nil {
			acc.reasoning.WriteString(*d.ReasoningContent)
		}
		if d.Refusal != nil {
			acc.hasRefuse = true
			acc.refusal.WriteString(*d.Refusal)
		}
		for _, tc := range d.ToolCalls {
			idx := len(acc.tools)
			if tc.Index != nil {
				idx = *tc.Index
			}
			pos, ok := acc.toolIdx[idx]
			if !ok {
				pos = len(acc.tools)
				acc.toolIdx[idx] = pos
				acc.tools = append(acc.tools, ToolCall{Type: "function"})
				acc.args = append(acc.args, strings.Builder{})
			}
			t := &acc.tools[pos]
			if tc.ID != "" {
				t.ID = tc.ID
			}
			if tc.Type != "" {
				t.Type = tc.Type
			}
			if tc.Function.Name != "" {
				t.Function.Name = tc.Function.Name
			}
			acc.args[pos].WriteString(tc.Function.Arguments)
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			acc.finish = *ch.FinishReason
		}
	}
}

func (a *Accumulator) choice(i int) *choiceAcc {
	if a.choices == nil {
		a.choices = make(map[int]*choiceAcc, 1)
	}
	acc, ok := a.choices[i]
	if !ok {
		acc = &choiceAcc{toolIdx: map[int]int{}}
		a.choices[i] = acc
	}
	return acc
}

// Response returns the folded response as a chat.completion.
func (a *Accumulator) Response() *ChatResponse {
	r := a.resp
	r.Object = "chat.completion"
	idx := make([]int, 0, len(a.choices))
	for i := range a.choices {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	r.Choices = make([]Choice, 0, len(idx))
	for _, i := range idx {
		acc := a.choices[i]
		m := Message{Role: acc.role}
		if m.Role == "" {
			m.Role = RoleAssistant
		}
		if acc.hasText || len(acc.tools) == 0 {
			m.Content = TextContent(acc.content.String())
		}
		m.ReasoningContent = acc.reasoning.String()
		if acc.hasRefuse {
			s := acc.refusal.String()
			m.Refusal = &s
		}
		for p := range acc.tools {
			t := acc.tools[p]
			t.Function.Arguments = acc.args[p].String()
			m.ToolCalls = append(m.ToolCalls, t)
		}
		r.Choices = append(r.Choices, Choice{Index: i, Message: m, FinishReason: acc.finish})
	}
	return &r
}

// ResponseChunks splits a complete response into the chunks a stream of it
// would carry: a role chunk, content, tool calls, the finish reason, and a
// final usage chunk (choices empty) when usage is known.
func ResponseChunks(r *ChatResponse) []*ChatChunk {
	base := ChatChunk{ID: r.ID, Object: "chat.completion.chunk", Created: r.Created, Model: r.Model, SystemFingerprint: r.SystemFingerprint}
	var out []*ChatChunk
	for _, ch := range r.Choices {
		m := ch.Message
		first := base
		empty := ""
		first.Choices = []ChunkChoice{{Index: ch.Index, Delta: Delta{Role: RoleAssistant, Content: &empty}}}
		out = append(out, &first)
		if m.ReasoningContent != "" {
			c := base
			s := m.ReasoningContent
			c.Choices = []ChunkChoice{{Index: ch.Index, Delta: Delta{ReasoningContent: &s}}}
			out = append(out, &c)
		}
		if text := m.Content.Text(); text != "" {
			c := base
			c.Choices = []ChunkChoice{{Index: ch.Index, Delta: Delta{Content: &text}}}
			out = append(out, &c)
		}
		if m.Refusal != nil {
			c := base
			s := *m.Refusal
			c.Choices = []ChunkChoice{{Index: ch.Index, Delta: Delta{Refusal: &s}}}
			out = append(out, &c)
		}
		for i, tc := range m.ToolCalls {
			c := base
			i := i
			tc.Index = &i
			c.Choices = []ChunkChoice{{Index: ch.Index, Delta: Delta{ToolCalls: []ToolCall{tc}}}}
			out = append(out, &c)
		}
		fin := ch.FinishReason
		if fin == "" {
			fin = FinishStop
		}
		last := base
		last.Choices = []ChunkChoice{{Index: ch.Index, Delta: Delta{}, FinishReason: &fin}}
		out = append(out, &last)
	}
	if r.Usage != nil {
		u := *r.Usage
		c := base
		c.Choices = []ChunkChoice{}
		c.Usage = &u
		out = append(out, &c)
	}
	return out
}
