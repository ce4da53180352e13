// Package openai serves the unified OpenAI-format API: chat completions
// (streamed and not), embeddings and the model list, also under /compat.
// Handlers decode, call the pipeline and encode; policy lives in stages.
package openai

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/sse"
)

// ChatIngress decodes OpenAI chat completion bodies.
type ChatIngress struct{}

// Name implements pipeline.Ingress.
func (ChatIngress) Name() string { return "openai" }

// Decode implements pipeline.Ingress.
func (ChatIngress) Decode(c *pipeline.Call) error {
	req, err := DecodeChat(c.Body)
	if err != nil {
		return err
	}
	c.Chat, c.Model = req, req.Model
	return nil
}

var validRoles = map[string]bool{
	llm.RoleSystem: true, llm.RoleDeveloper: true, llm.RoleUser: true,
	llm.RoleAssistant: true, llm.RoleTool: true, "function": true,
}

// DecodeChat parses and validates a chat completion request body.
func DecodeChat(body []byte) (*llm.ChatRequest, error) {
	var req llm.ChatRequest
	if len(body) == 0 {
		return nil, httpx.DecodeJSON(body, &req) // the empty-body error
	}
	// ChatRequest.UnmarshalJSON validates its input itself, so calling it
	// directly saves json.Unmarshal's own two passes over the body (checking
	// it, finding the value's end) with the same errors at the same offsets.
	if err := req.UnmarshalJSON(body); err != nil {
		return nil, httpx.BadJSON(err)
	}
	if req.Model == "" {
		return nil, gwerr.BadRequest("model", "you must provide a model parameter")
	}
	if len(req.Messages) == 0 {
		return nil, gwerr.BadRequest("messages", "messages must be a non-empty array")
	}
	for i, m := range req.Messages {
		if !validRoles[m.Role] {
			return nil, gwerr.BadRequest(fmt.Sprintf("messages[%d].role", i),
				"messages[%d].role must be one of system, developer, user, assistant, tool; got %q", i, m.Role)
		}
		if m.Role == llm.RoleTool && m.ToolCallID == "" {
			return nil, gwerr.BadRequest(fmt.Sprintf("messages[%d].tool_call_id", i),
				"messages[%d] has role tool and needs a tool_call_id", i)
		}
	}
	for i, t := range req.Tools {
		if t.Function.Name == "" {
			return nil, gwerr.BadRequest(fmt.Sprintf("tools[%d].function.name", i), "tools[%d].function.name is required", i)
		}
	}
	return &req, nil
}

// Chat handles POST /v1/chat/completions.
type Chat struct {
	Source httpx.Source
	Log    *slog.Logger
}

func (h *Chat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, res, ok := httpx.Serve(w, r, h.Source, h.Log, ChatIngress{}, pipeline.KindChat, httpx.FormatOpenAI)
	if !ok {
		return
	}
	if res.Stream != nil {
		// this frame stays on the stack for the whole stream: keep it small
		WriteStream(w, c, res.Stream, c.Chat.WantsUsageInStream())
		return
	}
	writeChat(w, c, res)
}

// writeChat writes a non-streamed answer.
func writeChat(w http.ResponseWriter, c *pipeline.Call, res *pipeline.Result) {
	if res.Chat == nil {
		httpx.WriteError(w, c, gwerr.Internal(fmt.Errorf("pipeline returned no chat result")), httpx.FormatOpenAI)
		return
	}
	// MarshalJSON gives json.Marshal's bytes without its second pass
	body, err := res.Chat.MarshalJSON()
	if err != nil {
		httpx.WriteError(w, c, gwerr.Internal(fmt.Errorf("encoding chat response: %w", err)), httpx.FormatOpenAI)
		return
	}
	httpx.WriteBody(w, c, http.StatusOK, body)
}

// WriteStream sends chunks as OpenAI server-sent events, flushing each one
// as it arrives. The final usage-only chunk is passed on only when the
// client asked for it. A failure after the headers are sent becomes an
// error event, never a silent cut.
//
// The handler goroutine waits for every next event inside this loop, so
// its frame, and those of the handler above it, are on the stack of every
// open stream for the stream's whole life: the Go runtime halves a
// goroutine's stack only while less than a quarter of it is in use, and a
// few hundred bytes more here keep 8 KiB more per stream. The rarer work
// lives in functions of its own.
func WriteStream(w http.ResponseWriter, c *pipeline.Call, s llm.Stream, includeUsage bool) {
	defer s.Close()
	ew := startStream(w, c)
	for {
		ch, err := s.Recv()
		if err != nil {
			ew.end(err)
			return
		}
		if len(ch.Choices) == 0 && ch.Usage != nil && !includeUsage {
			continue
		}
		if !ew.write(ch) {
			return
		}
	}
}

// eventWriter writes one call's event stream.
type eventWriter struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	c   *pipeline.Call
	buf []byte
}

// startStream sends the headers of an event stream.
func startStream(w http.ResponseWriter, c *pipeline.Call) *eventWriter {
	httpx.StartEventStream(w, c)
	return &eventWriter{w: w, rc: http.NewResponseController(w), c: c}
}

// write sends one chunk as an event and flushes it; a failure is the
// call's error, and false.
func (ew *eventWriter) write(ch *llm.ChatChunk) bool {
	data := ch.Raw
	if data == nil {
		var err error
		if data, err = ch.MarshalJSON(); err != nil {
			ew.c.Outcome.Err = gwerr.Internal(err)
			_, _ = ew.w.Write(sse.AppendEvent(ew.buf[:0], "", gwerr.OpenAIJSON(gwerr.Internal(err))))
			return false
		}
	}
	ew.buf = sse.AppendEvent(ew.buf[:0], "", data)
	if _, err := ew.w.Write(ew.buf); err != nil {
		ew.c.Outcome.Err = err
		return false
	}
	if err := ew.rc.Flush(); err != nil {
		ew.c.Outcome.Err = err
		return false
	}
	return true
}

// end ends an event stream: [DONE] at its end, an error event when it
// broke (none when the client has gone).
func (ew *eventWriter) end(err error) {
	if err == io.EOF {
		ew.buf = append(ew.buf[:0], "data: [DONE]\n\n"...)
		if _, err := ew.w.Write(ew.buf); err == nil {
			_ = ew.rc.Flush()
		}
		return
	}
	ge := gwerr.As(err)
	ew.c.Outcome.Err = ge
	if ge.Status != gwerr.StatusClientClosed {
		_, _ = ew.w.Write(sse.AppendEvent(ew.buf[:0], "", gwerr.OpenAIJSON(ge)))
		_ = ew.rc.Flush()
	}
}
