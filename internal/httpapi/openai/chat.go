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
	switch {
	case res.Stream != nil:
		WriteStream(w, c, res.Stream, c.Chat.WantsUsageInStream())
	case res.Chat != nil:
		// MarshalJSON gives json.Marshal's bytes without its second pass
		body, err := res.Chat.MarshalJSON()
		if err != nil {
			httpx.WriteError(w, c, gwerr.Internal(fmt.Errorf("encoding chat response: %w", err)), httpx.FormatOpenAI)
			return
		}
		httpx.WriteBody(w, c, http.StatusOK, body)
	default:
		httpx.WriteError(w, c, gwerr.Internal(fmt.Errorf("pipeline returned no chat result")), httpx.FormatOpenAI)
	}
}

// WriteStream sends chunks as OpenAI server-sent events, flushing each one
// as it arrives. The final usage-only chunk is passed on only when the
// client asked for it. A failure after the headers are sent becomes an
// error event, never a silent cut.
func WriteStream(w http.ResponseWriter, c *pipeline.Call, s llm.Stream, includeUsage bool) {
	defer s.Close()
	h := w.Header()
	httpx.WriteOutcomeHeaders(h, c)
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Outcome.Status = http.StatusOK
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	var buf []byte
	for {
		ch, err := s.Recv()
		if err == io.EOF {
			buf = append(buf[:0], "data: [DONE]\n\n"...)
			if _, err := w.Write(buf); err == nil {
				_ = rc.Flush()
			}
			return
		}
		if err != nil {
			ge := gwerr.As(err)
			c.Outcome.Err = ge
			if ge.Status != gwerr.StatusClientClosed {
				_, _ = w.Write(sse.AppendEvent(buf[:0], "", gwerr.OpenAIJSON(ge)))
				_ = rc.Flush()
			}
			return
		}
		if len(ch.Choices) == 0 && ch.Usage != nil && !includeUsage {
			continue
		}
		data := ch.Raw
		if data == nil {
			if data, err = ch.MarshalJSON(); err != nil {
				c.Outcome.Err = gwerr.Internal(err)
				_, _ = w.Write(sse.AppendEvent(buf[:0], "", gwerr.OpenAIJSON(gwerr.Internal(err))))
				return
			}
		}
		buf = sse.AppendEvent(buf[:0], "", data)
		if _, err := w.Write(buf); err != nil {
			c.Outcome.Err = err
			return
		}
		if err := rc.Flush(); err != nil {
			c.Outcome.Err = err
			return
		}
	}
}
