// Package anthropic serves POST /v1/messages, Anthropic's Messages API, for
// every provider: the request is decoded into the canonical form, run
// through the pipeline like any chat call, and the answer encoded back as
// an Anthropic message or event stream, so Anthropic SDKs and tools built
// on them can use any model.
//
// When an attempt goes to a provider that speaks Anthropic's format
// itself, the client's request is forwarded unchanged (but for the model
// name and credentials) and the provider's response is returned unchanged:
// the call stays a chat call for every stage (limits, cache, logs, usage),
// and only its innermost attempt is native. Targets with alias parameter
// overrides are translated instead, since the overrides are written in
// canonical (OpenAI) names.
package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/httpapi/httpx"
	"github.com/aigateway/aigateway/internal/httpapi/passthrough"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
	wire "github.com/aigateway/aigateway/internal/provider/anthropic"
	"github.com/aigateway/aigateway/internal/sse"
)

// MessagesIngress decodes Anthropic Messages bodies.
type MessagesIngress struct{}

// Name implements pipeline.Ingress.
func (MessagesIngress) Name() string { return "anthropic" }

// Decode implements pipeline.Ingress.
func (MessagesIngress) Decode(c *pipeline.Call) error {
	req, err := DecodeMessages(c.Body)
	if err != nil {
		return err
	}
	c.Chat, c.Model = req, req.Model
	body, header := c.Body, c.HTTP.Header
	c.NativeChat = func(t *pipeline.Target) *provider.NativeRequest {
		a, ok := t.Provider.(*wire.Adapter)
		if !ok || len(t.Params) > 0 {
			return nil
		}
		return &provider.NativeRequest{
			Method: http.MethodPost,
			Path:   a.MessagesPath(),
			Header: nativeHeaders(header),
			Body:   SetModel(body, t.Model),
		}
	}
	return nil
}

// DecodeMessages parses, validates and translates a Messages request body.
func DecodeMessages(body []byte) (*llm.ChatRequest, error) {
	r, err := wire.DecodeRequest(body)
	if err != nil {
		return nil, err
	}
	return wire.ToChat(r), nil
}

// nativeHeaders are the client headers forwarded with a native request:
// the end-to-end ones (anthropic-version and anthropic-beta among them)
// without credentials, since on /v1/messages x-api-key and Authorization
// carry the gateway key, and the provider's key is the gateway's to add.
func nativeHeaders(in http.Header) http.Header {
	h := passthrough.ForwardHeaders(in)
	h.Del("Authorization")
	h.Del("X-Api-Key")
	return h
}

// SetModel returns body with its top-level "model" string replaced, every
// other byte unchanged. The client wrote "provider/model"; the provider
// wants its own name. Duplicate "model" members are all replaced, so the
// provider cannot read a model other than the one the gateway routed
// (and applied its policies) by.
func SetModel(body []byte, model string) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return body
	}
	var spans [][2]int
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return body
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return body
		}
		if key, _ := tok.(string); key == "model" {
			end := int(dec.InputOffset())
			spans = append(spans, [2]int{end - len(v), end})
		}
	}
	if len(spans) == 0 {
		return body
	}
	name, _ := json.Marshal(model)
	out := make([]byte, 0, len(body)+len(name))
	prev := 0
	for _, sp := range spans {
		out = append(out, body[prev:sp[0]]...)
		out = append(out, name...)
		prev = sp[1]
	}
	return append(out, body[prev:]...)
}

// Messages handles POST /v1/messages.
type Messages struct {
	Source httpx.Source
	Log    *slog.Logger
}

func (h *Messages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, res, ok := httpx.Serve(w, r, h.Source, h.Log, MessagesIngress{}, pipeline.KindChat, httpx.FormatAnthropic)
	if !ok {
		return
	}
	switch {
	case res.Native != nil:
		httpx.WriteNative(w, c, res.Native)
	case res.Stream != nil:
		WriteStream(w, c, res.Stream)
	case res.Chat != nil:
		httpx.WriteJSON(w, c, http.StatusOK, wire.FromChatResponse(res.Chat, "msg_"+c.ID))
	default:
		httpx.WriteError(w, c, gwerr.Internal(fmt.Errorf("pipeline returned no chat result")), httpx.FormatAnthropic)
	}
}

// WriteStream sends a chat stream as Anthropic's event sequence, flushing
// as each upstream chunk's events are written. A failure after the
// headers are sent becomes an error event, never a silent cut.
func WriteStream(w http.ResponseWriter, c *pipeline.Call, s llm.Stream) {
	defer s.Close()
	httpx.StartEventStream(w, c)
	rc := http.NewResponseController(w)
	enc := wire.StreamEncoder{ID: "msg_" + c.ID, Model: c.Outcome.ServedModel}
	var buf []byte
	write := func(events []wire.Event) bool {
		if len(events) == 0 {
			return true
		}
		buf = buf[:0]
		for _, ev := range events {
			buf = sse.AppendEvent(buf, ev.Name, ev.Data)
		}
		if _, err := w.Write(buf); err != nil {
			c.Outcome.Err = err
			return false
		}
		if err := rc.Flush(); err != nil {
			c.Outcome.Err = err
			return false
		}
		return true
	}
	for {
		ch, err := s.Recv()
		if err == io.EOF {
			write(enc.End())
			return
		}
		if err != nil {
			ge := gwerr.As(err)
			c.Outcome.Err = ge
			if ge.Status != gwerr.StatusClientClosed {
				write([]wire.Event{enc.Error(gwerr.AnthropicType(ge.Status), ge.Message)})
			}
			return
		}
		if !write(enc.Chunk(ch)) {
			return
		}
	}
}
