package workersai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
	"github.com/aigateway/aigateway/internal/sse"
)

// streamDecoder translates a /run stream — "data: {"response":"…"}" lines,
// the last ones with tool_calls and usage, then "data: [DONE]" — into
// chat.completion.chunks: a role chunk, text deltas, tool-call deltas, at
// [DONE] the finish chunk (tool_calls when the model called tools, stop
// otherwise; the native stream has no finish reason) and the usage chunk.
// Models that stream OpenAI-format chunks instead are passed through.
type streamDecoder struct {
	r      *sse.Reader
	id     string
	mk     upstream.Chunks
	native bool // a native event was seen (not OpenAI-format chunks)
	// calls maps a stream's tool-call index to the position given to it;
	// traditional calls (no index) each take the next position.
	calls  map[int]int
	ncalls int
	usage  *llm.Usage
	done   bool
}

func newStreamDecoder(r io.Reader, providerID string, meta upstream.Meta) *streamDecoder {
	return &streamDecoder{r: sse.NewReader(r), id: providerID, calls: map[int]int{},
		mk: upstream.Chunks(meta)}
}

func (d *streamDecoder) Next() ([]*llm.ChatChunk, error) {
	if d.done {
		return nil, io.EOF
	}
	for {
		ev, err := d.r.Next()
		if err == io.EOF {
			d.done = true
			return nil, upstream.Truncated(d.id)
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			// the connection broke inside the response body
			d.done = true
			return nil, upstream.Truncated(d.id)
		}
		if err != nil {
			return nil, gwerr.FromTransport(d.id, fmt.Errorf("reading stream: %w", err))
		}
		data := bytes.TrimSpace(ev.Data)
		if len(data) == 0 {
			continue
		}
		if bytes.Equal(data, []byte("[DONE]")) {
			d.done = true
			return d.finish(), nil
		}
		var e streamEvent
		if err := json.Unmarshal(data, &e); err != nil {
			return nil, upstream.InvalidResponse(d.id, err)
		}
		if ge := streamError(&e, data); ge != nil {
			d.done = true
			return nil, ge
		}
		if len(e.Choices) > 0 && string(e.Choices) != "null" {
			var c llm.ChatChunk
			// UnmarshalJSON validates data itself: called directly, it
			// spares encoding/json's validation pass.
			if err := c.UnmarshalJSON(data); err != nil {
				return nil, upstream.InvalidResponse(d.id, err)
			}
			d.stamp(&c)
			return []*llm.ChatChunk{&c}, nil
		}
		if out, err := d.event(&e); err != nil || len(out) > 0 {
			return out, err
		}
	}
}

// stamp fills what a passed-through OpenAI chunk may lack.
func (d *streamDecoder) stamp(c *llm.ChatChunk) {
	if c.ID == "" {
		c.ID = d.mk.ID
	}
	if c.Model == "" {
		c.Model = d.mk.Model
	}
	if c.Created == 0 {
		c.Created = d.mk.Created
	}
	c.Object = "chat.completion.chunk"
}

func (d *streamDecoder) event(e *streamEvent) ([]*llm.ChatChunk, error) {
	var out []*llm.ChatChunk
	if !d.native {
		d.native = true
		out = append(out, d.mk.Delta(0, llm.Delta{Role: llm.RoleAssistant, Content: upstream.Str("")}))
	}
	text, err := responseText(e.Response)
	if err != nil {
		return nil, upstream.InvalidResponse(d.id, err)
	}
	if text != "" {
		out = append(out, d.mk.Delta(0, llm.Delta{Content: upstream.Str(text)}))
	}
	var calls []llm.ToolCall
	for _, tc := range e.ToolCalls {
		calls = append(calls, d.toolDelta(tc))
	}
	if len(calls) > 0 {
		out = append(out, d.mk.Delta(0, llm.Delta{ToolCalls: calls}))
	}
	if e.Usage != nil {
		u := usage(e.Usage)
		d.usage = &u
	}
	return out, nil
}

func (d *streamDecoder) toolDelta(tc runToolCall) llm.ToolCall {
	if tc.Index != nil {
		pos, seen := d.calls[*tc.Index]
		if seen {
			// a later fragment: only argument text
			name := ""
			if tc.Function != nil {
				name = tc.Function.Name
			}
			return upstream.ToolDelta(pos, "", name, argsText(fragmentArgs(tc)))
		}
		pos = d.ncalls
		d.ncalls++
		d.calls[*tc.Index] = pos
		full := toolCall(d.mk.ID, pos, tc)
		return upstream.ToolDelta(pos, full.ID, full.Function.Name, full.Function.Arguments)
	}
	pos := d.ncalls
	d.ncalls++
	full := toolCall(d.mk.ID, pos, tc)
	if full.Function.Arguments == "" {
		full.Function.Arguments = "{}"
	}
	return upstream.ToolDelta(pos, full.ID, full.Function.Name, full.Function.Arguments)
}

func fragmentArgs(tc runToolCall) json.RawMessage {
	if tc.Function != nil {
		return tc.Function.Arguments
	}
	return tc.Arguments
}

// finish ends a native stream at [DONE]. OpenAI-format streams carry
// their own finish reasons and usage, and an empty stream has nothing to
// finish.
func (d *streamDecoder) finish() []*llm.ChatChunk {
	if !d.native {
		return nil
	}
	reason := llm.FinishStop
	if d.ncalls > 0 {
		reason = llm.FinishToolCalls
	}
	out := []*llm.ChatChunk{d.mk.Finish(0, reason)}
	if d.usage != nil {
		out = append(out, d.mk.Usage(*d.usage))
	}
	return out
}

// streamError returns the error an event reports, if any.
func streamError(e *streamEvent, raw []byte) *gwerr.Error {
	if len(e.Errors) > 0 {
		return cfErrorsToGW(statusBadGateway, e.Errors)
	}
	if len(e.Error) > 0 && string(e.Error) != "null" {
		return parseError(statusBadGateway, raw)
	}
	return nil
}

var _ upstream.ChunkDecoder = (*streamDecoder)(nil)
