package anthropic

import (
	"encoding/json"

	"github.com/aigateway/aigateway/internal/llm"
)

// Event is one server-sent event of a Messages stream, encoded.
type Event struct {
	Name string
	Data []byte
}

// StreamEncoder turns chat chunks into the event sequence of a Messages
// stream: message_start, then per content block content_block_start, its
// deltas and content_block_stop (with one ping after the first start),
// then message_delta with the stop reason and usage, and message_stop.
// Blocks are numbered from 0 without gaps and never interleave, as
// Anthropic's own streams do. It is a pure state machine; set ID and Model
// (fallbacks for chunks that carry none) before the first call.
type StreamEncoder struct {
	ID, Model string

	started, pinged, ended bool
	next                   int // index of the next block
	open                   int // index of the open block, -1 if none
	openType               string
	toolBlock              map[int]int // canonical tool index → block index
	finish                 string
	usage                  *llm.Usage
}

// Chunk encodes one chunk as zero or more events.
func (e *StreamEncoder) Chunk(c *llm.ChatChunk) []Event {
	var out []Event
	if !e.started {
		if c.ID != "" {
			e.ID = c.ID
		}
		if c.Model != "" {
			e.Model = c.Model
		}
		out = e.start(out)
	}
	if c.Usage != nil {
		u := *c.Usage
		e.usage = &u
	}
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index != 0 {
			continue // Anthropic has one answer per message; n > 1 is refused upstream of here
		}
		d := &ch.Delta
		if d.ReasoningContent != nil && *d.ReasoningContent != "" {
			out = e.ensure(out, BlockThinking)
			out = append(out, e.delta(thinkingDelta{"thinking_delta", *d.ReasoningContent}))
		}
		if d.Content != nil && *d.Content != "" {
			out = e.ensure(out, BlockText)
			out = append(out, e.delta(textDelta{"text_delta", *d.Content}))
		}
		if d.Refusal != nil && *d.Refusal != "" {
			out = e.ensure(out, BlockText)
			out = append(out, e.delta(textDelta{"text_delta", *d.Refusal}))
			if e.finish == "" {
				e.finish = llm.FinishContentFilter
			}
		}
		for j, tc := range d.ToolCalls {
			idx := j
			if tc.Index != nil {
				idx = *tc.Index
			}
			out = e.tool(out, idx, tc)
		}
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			e.finish = *ch.FinishReason
		}
	}
	return out
}

// Error encodes an error event: {"type":"error","error":{type,message}}.
func (e *StreamEncoder) Error(typ, message string) Event {
	e.ended = true
	return encodeEvent("error", ErrorBody{Type: "error", Error: ErrorDetail{Type: typ, Message: message}})
}

// End closes the open block and encodes message_delta and message_stop.
func (e *StreamEncoder) End() []Event {
	if e.ended {
		return nil
	}
	e.ended = true
	var out []Event
	if !e.started {
		out = e.start(out)
	}
	if e.next == 0 {
		// an empty answer is one empty text block, as in the JSON form
		out = e.ensure(out, BlockText)
	}
	out = e.closeOpen(out)
	u := NativeUsage(e.usage)
	out = append(out, encodeEvent("message_delta", messageDeltaEvent{Type: "message_delta",
		Delta: stopDelta{StopReason: StopReason(e.finish)}, Usage: u}))
	return append(out, encodeEvent("message_stop", typeOnly{"message_stop"}))
}

func (e *StreamEncoder) start(out []Event) []Event {
	e.started = true
	e.open = -1
	return append(out, encodeEvent("message_start", messageStartEvent{Type: "message_start",
		Message: Response{ID: e.ID, Type: "message", Role: "assistant", Content: []Block{}, Model: e.Model}}))
}

// ensure opens a block of typ unless one is open.
func (e *StreamEncoder) ensure(out []Event, typ string) []Event {
	if e.open >= 0 && e.openType == typ {
		return out
	}
	var b Block
	switch typ {
	case BlockText:
		b = Block{Type: BlockText}
	case BlockThinking:
		b = Block{Type: BlockThinking}
	}
	return e.startBlock(out, b)
}

func (e *StreamEncoder) startBlock(out []Event, b Block) []Event {
	out = e.closeOpen(out)
	e.open, e.openType = e.next, b.Type
	e.next++
	out = append(out, encodeEvent("content_block_start", blockStartEvent{"content_block_start", e.open, b}))
	if !e.pinged {
		e.pinged = true
		out = append(out, encodeEvent("ping", typeOnly{"ping"}))
	}
	return out
}

func (e *StreamEncoder) closeOpen(out []Event) []Event {
	if e.open < 0 {
		return out
	}
	out = append(out, encodeEvent("content_block_stop", blockStopEvent{"content_block_stop", e.open}))
	e.open, e.openType = -1, ""
	return out
}

// tool handles a tool-call fragment: the first fragment of a call (or one
// with an id) starts a tool_use block; arguments become input_json_delta.
// A fragment for a call whose block is already closed is dropped: blocks
// do not reopen, and OpenAI-format providers stream calls one by one.
func (e *StreamEncoder) tool(out []Event, idx int, tc llm.ToolCall) []Event {
	if e.toolBlock == nil {
		e.toolBlock = make(map[int]int, 2)
	}
	bi, seen := e.toolBlock[idx]
	if !seen {
		out = e.startBlock(out, Block{Type: BlockToolUse, ID: tc.ID, Name: tc.Function.Name, Input: json.RawMessage("{}")})
		bi = e.open
		e.toolBlock[idx] = bi
	}
	if tc.Function.Arguments == "" || bi != e.open {
		return out
	}
	return append(out, encodeEvent("content_block_delta", blockDeltaEvent{"content_block_delta", bi,
		jsonDelta{"input_json_delta", tc.Function.Arguments}}))
}

func (e *StreamEncoder) delta(d any) Event {
	return encodeEvent("content_block_delta", blockDeltaEvent{"content_block_delta", e.open, d})
}

// The events' JSON shapes, members in Anthropic's order.
type (
	typeOnly struct {
		Type string `json:"type"`
	}
	messageStartEvent struct {
		Type    string   `json:"type"`
		Message Response `json:"message"`
	}
	blockStartEvent struct {
		Type         string `json:"type"`
		Index        int    `json:"index"`
		ContentBlock Block  `json:"content_block"`
	}
	blockDeltaEvent struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
		Delta any    `json:"delta"`
	}
	blockStopEvent struct {
		Type  string `json:"type"`
		Index int    `json:"index"`
	}
	textDelta struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	thinkingDelta struct {
		Type     string `json:"type"`
		Thinking string `json:"thinking"`
	}
	jsonDelta struct {
		Type        string `json:"type"`
		PartialJSON string `json:"partial_json"`
	}
	messageDeltaEvent struct {
		Type  string    `json:"type"`
		Delta stopDelta `json:"delta"`
		Usage Usage     `json:"usage"`
	}
	stopDelta struct {
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
	}
)

func encodeEvent(name string, v any) Event {
	b, err := json.Marshal(v)
	if err != nil {
		// only strings, numbers and raw JSON that was valid when stored
		b = []byte(`{"type":"` + name + `"}`)
	}
	return Event{Name: name, Data: b}
}
