package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
)

// streamEvent is any event of a Messages stream; Type says which members
// are set.
type streamEvent struct {
	Type         string       `json:"type"`
	Message      *Response    `json:"message"`
	Index        int          `json:"index"`
	ContentBlock *Block       `json:"content_block"`
	Delta        *eventDelta  `json:"delta"`
	Usage        *deltaUsage  `json:"usage"`
	Error        *ErrorDetail `json:"error"`
}

// eventDelta is the delta of content_block_delta and message_delta.
type eventDelta struct {
	Type         string  `json:"type"`
	Text         string  `json:"text"`
	PartialJSON  string  `json:"partial_json"`
	Thinking     string  `json:"thinking"`
	StopReason   *string `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}

// deltaUsage is message_delta's usage: counts are cumulative totals, and a
// member that is absent keeps the value message_start gave.
type deltaUsage struct {
	InputTokens              *int                 `json:"input_tokens"`
	OutputTokens             *int                 `json:"output_tokens"`
	CacheCreationInputTokens *int                 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     *int                 `json:"cache_read_input_tokens"`
	OutputTokensDetails      *OutputTokensDetails `json:"output_tokens_details"`
}

func (d *deltaUsage) applyTo(u *Usage) {
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	set(&u.InputTokens, d.InputTokens)
	set(&u.OutputTokens, d.OutputTokens)
	set(&u.CacheCreationInputTokens, d.CacheCreationInputTokens)
	set(&u.CacheReadInputTokens, d.CacheReadInputTokens)
	if d.OutputTokensDetails != nil {
		u.OutputTokensDetails = d.OutputTokensDetails
	}
}

// StreamDecoder turns the events of a Messages stream into chat chunks: a
// role chunk at message_start, text, reasoning and tool-call deltas (the
// first of each call with index, id and name, then argument fragments), a
// finish chunk at message_delta and a usage-only chunk (no choices) at
// message_stop. It is a pure state machine; the zero value is ready.
type StreamDecoder struct {
	// Created stamps the chunks (Anthropic's events carry no time).
	Created int64
	// Provider names the provider in errors (default "anthropic").
	Provider string

	id, model string
	usage     Usage
	blocks    map[int]*openBlock
	tools     int
	started   bool
	stopped   bool
}

type openBlock struct {
	typ     string
	tool    int  // canonical tool-call index of a tool_use block
	hasArgs bool // a non-empty argument fragment was sent
}

// Done reports whether message_stop was seen.
func (d *StreamDecoder) Done() bool { return d.stopped }

// Usage returns the usage seen so far.
func (d *StreamDecoder) Usage() Usage { return d.usage }

// Event decodes one event (its SSE event name and data) into zero or more
// chunks. An error event is returned as the provider error it reports.
func (d *StreamDecoder) Event(name string, data []byte) ([]*llm.ChatChunk, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	var ev streamEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("decoding %s event: %w", name, err)
	}
	typ := ev.Type
	if typ == "" {
		typ = name
	}
	switch typ {
	case "message_start":
		if ev.Message == nil {
			return nil, errors.New("message_start event without message")
		}
		d.id, d.model = ev.Message.ID, ev.Message.Model
		d.usage = ev.Message.Usage
		d.started = true
		empty := ""
		return d.one(llm.Delta{Role: llm.RoleAssistant, Content: &empty}, nil), nil
	case "content_block_start":
		if ev.ContentBlock == nil {
			return nil, errors.New("content_block_start event without content_block")
		}
		return d.blockStart(ev.Index, ev.ContentBlock), nil
	case "content_block_delta":
		if ev.Delta == nil {
			return nil, errors.New("content_block_delta event without delta")
		}
		return d.blockDelta(ev.Index, ev.Delta), nil
	case "content_block_stop":
		b := d.blocks[ev.Index]
		if b == nil {
			return nil, nil
		}
		delete(d.blocks, ev.Index)
		if b.typ == BlockToolUse && !b.hasArgs {
			// a call without input: send "{}" so the arguments parse
			return d.toolDelta(llm.ToolCall{Index: intp(b.tool), Function: llm.FunctionCall{Arguments: "{}"}}), nil
		}
		return nil, nil
	case "message_delta":
		if ev.Usage != nil {
			ev.Usage.applyTo(&d.usage)
		}
		if ev.Delta == nil || ev.Delta.StopReason == nil {
			return nil, nil
		}
		finish := FinishReason(*ev.Delta.StopReason)
		return d.one(llm.Delta{}, &finish), nil
	case "message_stop":
		d.stopped = true
		u := CanonicalUsage(d.usage)
		c := d.chunk()
		c.Choices = []llm.ChunkChoice{}
		c.Usage = &u
		return []*llm.ChatChunk{c}, nil
	case "error":
		if ev.Error == nil {
			return nil, gwerr.Upstream(502, "", "", "provider sent an error event without details")
		}
		p := d.Provider
		if p == "" {
			p = "anthropic"
		}
		return nil, UpstreamError(0, data, p)
	}
	// ping, and event types added after this was written
	return nil, nil
}

func (d *StreamDecoder) blockStart(index int, b *Block) []*llm.ChatChunk {
	if d.blocks == nil {
		d.blocks = make(map[int]*openBlock, 2)
	}
	ob := &openBlock{typ: b.Type}
	d.blocks[index] = ob
	switch b.Type {
	case BlockText:
		if b.Text != "" {
			t := b.Text
			return d.one(llm.Delta{Content: &t}, nil)
		}
	case BlockThinking:
		if b.Thinking != "" {
			t := b.Thinking
			return d.one(llm.Delta{ReasoningContent: &t}, nil)
		}
	case BlockToolUse:
		ob.tool = d.tools
		d.tools++
		tc := llm.ToolCall{Index: intp(ob.tool), ID: b.ID, Type: "function", Function: llm.FunctionCall{Name: b.Name}}
		if in := compact(b.Input); len(in) > 0 && string(in) != "{}" && string(in) != "null" {
			tc.Function.Arguments = string(in)
			ob.hasArgs = true
		}
		return d.toolDelta(tc)
	}
	return nil
}

func (d *StreamDecoder) blockDelta(index int, delta *eventDelta) []*llm.ChatChunk {
	b := d.blocks[index]
	if b == nil {
		return nil
	}
	switch delta.Type {
	case "text_delta":
		if delta.Text == "" {
			return nil
		}
		t := delta.Text
		return d.one(llm.Delta{Content: &t}, nil)
	case "thinking_delta":
		if delta.Thinking == "" {
			return nil
		}
		t := delta.Thinking
		return d.one(llm.Delta{ReasoningContent: &t}, nil)
	case "input_json_delta":
		if b.typ != BlockToolUse || delta.PartialJSON == "" {
			return nil
		}
		b.hasArgs = true
		return d.toolDelta(llm.ToolCall{Index: intp(b.tool), Function: llm.FunctionCall{Arguments: delta.PartialJSON}})
	}
	// signature_delta, citations_delta: no canonical form
	return nil
}

func (d *StreamDecoder) chunk() *llm.ChatChunk {
	return &llm.ChatChunk{ID: d.id, Object: "chat.completion.chunk", Created: d.Created, Model: d.model}
}

func (d *StreamDecoder) one(delta llm.Delta, finish *string) []*llm.ChatChunk {
	c := d.chunk()
	c.Choices = []llm.ChunkChoice{{Index: 0, Delta: delta, FinishReason: finish}}
	return []*llm.ChatChunk{c}
}

func (d *StreamDecoder) toolDelta(tc llm.ToolCall) []*llm.ChatChunk {
	return d.one(llm.Delta{ToolCalls: []llm.ToolCall{tc}}, nil)
}

func intp(i int) *int { return &i }
