package bedrock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/upstream"
)

// streamDecoder translates ConverseStream events into
// chat.completion.chunks: messageStart → the role chunk; contentBlockStart
// of a toolUse → the tool call's first delta (id, name); contentBlockDelta
// → text, reasoning or tool-argument deltas; messageStop → the finish
// chunk; metadata → the usage chunk. Exception messages become errors.
type streamDecoder struct {
	frames   *frameReader
	id       string
	mk       upstream.Chunks
	jsonMode bool
	started  bool
	tools    map[int]int  // contentBlockIndex → tool-call position
	jsonBody map[int]bool // blocks that are the JSON-mode answer
	ntools   int
	stopped  bool
	done     bool
}

func newStreamDecoder(r io.Reader, providerID string, meta upstream.Meta, jsonMode bool) *streamDecoder {
	return &streamDecoder{frames: newFrameReader(r), id: providerID, jsonMode: jsonMode,
		mk:    upstream.Chunks(meta),
		tools: map[int]int{}, jsonBody: map[int]bool{}}
}

func (d *streamDecoder) Next() ([]*llm.ChatChunk, error) {
	if d.done {
		return nil, io.EOF
	}
	for {
		msg, err := d.frames.next()
		switch {
		case err == io.EOF:
			d.done = true
			if !d.stopped {
				return nil, upstream.Truncated(d.id)
			}
			return nil, io.EOF
		case errors.Is(err, io.ErrUnexpectedEOF):
			d.done = true
			return nil, upstream.Truncated(d.id)
		case errors.Is(err, errFrame):
			d.done = true
			return nil, upstream.InvalidResponse(d.id, err)
		case err != nil:
			d.done = true
			return nil, gwerr.FromTransport(d.id, fmt.Errorf("reading stream: %w", err))
		}
		switch header(msg, ":message-type") {
		case "exception":
			d.done = true
			return nil, exceptionError(header(msg, ":exception-type"), msg.Payload)
		case "error":
			d.done = true
			return nil, exceptionError(header(msg, ":error-code"), []byte(`{"message":`+quote(header(msg, ":error-message"))+`}`))
		case "event", "":
		default:
			continue
		}
		var p streamPayload
		if len(msg.Payload) > 0 {
			if err := json.Unmarshal(msg.Payload, &p); err != nil {
				d.done = true
				return nil, upstream.InvalidResponse(d.id, err)
			}
		}
		if out := d.event(header(msg, ":event-type"), &p); len(out) > 0 {
			return out, nil
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (d *streamDecoder) event(typ string, p *streamPayload) []*llm.ChatChunk {
	var out []*llm.ChatChunk
	if !d.started && typ != "metadata" {
		d.started = true
		out = append(out, d.mk.Delta(0, llm.Delta{Role: llm.RoleAssistant, Content: upstream.Str("")}))
	}
	switch typ {
	case "contentBlockStart":
		if p.Start == nil || p.Start.ToolUse == nil {
			break
		}
		tu := p.Start.ToolUse
		if d.jsonMode && tu.Name == jsonTool {
			d.jsonBody[p.ContentBlockIndex] = true
			break
		}
		pos := d.ntools
		d.ntools++
		d.tools[p.ContentBlockIndex] = pos
		out = append(out, d.mk.Delta(0, llm.Delta{ToolCalls: []llm.ToolCall{upstream.ToolDelta(pos, tu.ToolUseID, tu.Name, "")}}))
	case "contentBlockDelta":
		if p.Delta == nil {
			break
		}
		switch {
		case p.Delta.Text != nil && *p.Delta.Text != "":
			out = append(out, d.mk.Delta(0, llm.Delta{Content: upstream.Str(*p.Delta.Text)}))
		case p.Delta.ToolUse != nil && p.Delta.ToolUse.Input != "":
			if d.jsonBody[p.ContentBlockIndex] {
				out = append(out, d.mk.Delta(0, llm.Delta{Content: upstream.Str(p.Delta.ToolUse.Input)}))
			} else if pos, ok := d.tools[p.ContentBlockIndex]; ok {
				out = append(out, d.mk.Delta(0, llm.Delta{ToolCalls: []llm.ToolCall{upstream.ToolDelta(pos, "", "", p.Delta.ToolUse.Input)}}))
			}
		case p.Delta.ReasoningContent != nil && p.Delta.ReasoningContent.Text != nil && *p.Delta.ReasoningContent.Text != "":
			out = append(out, d.mk.Delta(0, llm.Delta{ReasoningContent: upstream.Str(*p.Delta.ReasoningContent.Text)}))
		}
	case "messageStop":
		d.stopped = true
		reason := finishReason(p.StopReason)
		if reason == llm.FinishToolCalls && d.ntools == 0 && len(d.jsonBody) > 0 {
			reason = llm.FinishStop // the JSON-mode tool call was the answer
		}
		out = append(out, d.mk.Finish(0, reason))
	case "metadata":
		if p.Usage != nil {
			out = append(out, d.mk.Usage(usage(p.Usage)))
		}
	}
	return out
}

var _ upstream.ChunkDecoder = (*streamDecoder)(nil)
