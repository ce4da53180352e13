package gemini

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

// streamDecoder translates streamGenerateContent?alt=sse — server-sent
// events whose data is each a GenerateContentResponse — into
// chat.completion.chunks: a role chunk first per candidate, text and
// thought deltas, each functionCall as one complete tool-call delta,
// a finish chunk per candidate, and, at the end, a usage-only chunk from
// the last usageMetadata (Gemini repeats the running totals in events).
type streamDecoder struct {
	r        *sse.Reader
	id       string // provider id, for errors
	meta     upstream.Meta
	mk       upstream.Chunks
	begun    bool
	started  map[int]bool
	calls    map[int]int
	finished int
	usage    *llm.Usage
	done     bool
}

func newStreamDecoder(r io.Reader, providerID string, meta upstream.Meta) *streamDecoder {
	return &streamDecoder{r: sse.NewReader(r), id: providerID, meta: meta, started: map[int]bool{}, calls: map[int]int{}}
}

func (d *streamDecoder) Next() ([]*llm.ChatChunk, error) {
	if d.done {
		return nil, io.EOF
	}
	for {
		ev, err := d.r.Next()
		if err == io.EOF {
			d.done = true
			if d.finished == 0 {
				return nil, upstream.Truncated(d.id)
			}
			if d.usage != nil {
				return []*llm.ChatChunk{d.mk.Usage(*d.usage)}, nil
			}
			return nil, io.EOF
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
		if len(data) == 0 || bytes.Equal(data, []byte("[DONE]")) {
			continue
		}
		var resp generateResponse
		if err := json.Unmarshal(data, &resp); err != nil {
			return nil, upstream.InvalidResponse(d.id, err)
		}
		if resp.Error != nil {
			d.done = true
			return nil, apiErrorToGW(statusBadGateway, resp.Error)
		}
		if out := d.event(&resp); len(out) > 0 {
			return out, nil
		}
	}
}

// event translates one GenerateContentResponse.
func (d *streamDecoder) event(r *generateResponse) []*llm.ChatChunk {
	if !d.begun {
		d.begun = true
		d.mk = upstream.Chunks{ID: responseID(r, d.meta), Created: d.meta.Created, Model: modelName(r, d.meta)}
	}
	if r.UsageMetadata != nil {
		u := usage(r.UsageMetadata)
		d.usage = &u
	}
	var out []*llm.ChatChunk
	for pos, c := range r.Candidates {
		idx := candidateIndex(c, pos)
		var text, thought []byte
		var calls []llm.ToolCall
		if c.Content != nil {
			for _, p := range c.Content.Parts {
				switch {
				case p.FunctionCall != nil:
					n := d.calls[idx]
					tc := toolCall(d.mk.ID, idx, n, p.FunctionCall)
					calls = append(calls, upstream.ToolDelta(n, tc.ID, tc.Function.Name, tc.Function.Arguments))
					d.calls[idx] = n + 1
				case p.Thought:
					thought = append(thought, p.Text...)
				default:
					text = append(text, p.Text...)
				}
			}
		}
		if !d.started[idx] {
			d.started[idx] = true
			out = append(out, d.mk.Delta(idx, llm.Delta{Role: llm.RoleAssistant, Content: upstream.Str("")}))
		}
		if len(thought) > 0 {
			out = append(out, d.mk.Delta(idx, llm.Delta{ReasoningContent: upstream.Str(string(thought))}))
		}
		if len(text) > 0 {
			out = append(out, d.mk.Delta(idx, llm.Delta{Content: upstream.Str(string(text))}))
		}
		if len(calls) > 0 {
			out = append(out, d.mk.Delta(idx, llm.Delta{ToolCalls: calls}))
		}
		if c.FinishReason != "" {
			d.finished++
			out = append(out, d.mk.Finish(idx, finishReason(c.FinishReason, d.calls[idx] > 0)))
		}
	}
	if len(r.Candidates) == 0 && r.PromptFeedback != nil && r.PromptFeedback.BlockReason != "" {
		d.finished++
		if !d.started[0] {
			d.started[0] = true
			out = append(out, d.mk.Delta(0, llm.Delta{Role: llm.RoleAssistant, Content: upstream.Str("")}))
		}
		out = append(out, d.mk.Finish(0, llm.FinishContentFilter))
	}
	return out
}

var _ upstream.ChunkDecoder = (*streamDecoder)(nil)
