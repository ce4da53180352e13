package openai

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/upstream"
	"github.com/aigateway/aigateway/internal/sse"
)

// Chat sends a non-streamed chat completion.
func (c *Client) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	body, err := EncodeChat(req, false, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, OpChat, req.Model, body, false)
	if err != nil {
		return nil, err
	}
	var out llm.ChatResponse
	if err := c.readJSON(resp, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ChatStream starts a streamed chat completion.
func (c *Client) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	body, err := EncodeChat(req, true, c.o.StreamUsage)
	if err != nil {
		return nil, err
	}
	resp, err := c.post(ctx, OpChat, req.Model, body, true)
	if err != nil {
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		// Some compatible servers ignore "stream" and answer in one piece;
		// replay the answer as the stream the client asked for.
		var out llm.ChatResponse
		if err := c.readJSON(resp, &out); err != nil {
			return nil, err
		}
		return llm.NewSliceStream(llm.ResponseChunks(&out)), nil
	}
	return &stream{id: c.o.ID, key: c.o.APIKey, body: resp.Body, r: sse.NewReader(resp.Body)}, nil
}

// EncodeChat is the canonical→native converter: the request body for an
// OpenAI-format upstream. A streamed request asks for the usage chunk when
// streamUsage is set (the gateway needs exact token counts); a non-streamed
// one drops the stream members.
func EncodeChat(req *llm.ChatRequest, stream, streamUsage bool) ([]byte, error) {
	r := *req
	r.Stream = stream
	switch {
	case !stream:
		r.StreamOptions = nil
	case streamUsage:
		r.StreamOptions = &llm.StreamOptions{IncludeUsage: true}
	}
	// MarshalJSON writes exactly what json.Marshal would, without
	// json.Marshal's second pass over the whole body.
	body, err := r.MarshalJSON()
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding chat request: %w", err))
	}
	return body, nil
}

// stream decodes an OpenAI chat.completion.chunk event stream.
type stream struct {
	id, key string
	body    io.ReadCloser
	r       *sse.Reader
	once    sync.Once
	done    bool
	// ended mirrors done for Close, which may run concurrently with Recv.
	ended atomic.Bool
}

var doneMarker = []byte("[DONE]")

// Recv waits for the next event with a small frame: a stream waits in it
// for its whole life, on the stack of the handler goroutine; decoding the
// event happens in a call of its own.
func (s *stream) Recv() (*llm.ChatChunk, error) {
	for !s.done {
		data, err := s.r.NextData()
		if err != nil {
			return nil, s.readFailed(err)
		}
		if ch, err := s.decode(data); ch != nil || err != nil {
			return ch, err
		}
	}
	return nil, io.EOF
}

func (s *stream) readFailed(err error) error {
	if err == io.EOF {
		// A stream that ends without [DONE] has still delivered all it
		// had; providers differ here, so end cleanly.
		s.done = true
		return io.EOF
	}
	return gwerr.FromTransport(s.id, fmt.Errorf("reading stream: %w", err))
}

// decode turns one event into a chunk; neither a chunk nor an error means
// there is none in it (an empty event, or [DONE], which ends the stream).
func (s *stream) decode(data []byte) (*llm.ChatChunk, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, nil
	}
	if bytes.Equal(data, doneMarker) {
		s.done = true
		s.ended.Store(true)
		return nil, nil
	}
	// A chunk, or an error object that some providers send mid-stream
	// instead; UnmarshalJSON validates data itself and decodes the common
	// shapes in one scan, so it is called directly.
	var ce llm.StreamEvent
	if err := ce.UnmarshalJSON(data); err != nil {
		return nil, invalidResponse(s.id, err)
	}
	if len(ce.Error) > 0 && string(ce.Error) != "null" {
		typ, code, param, msg := ParseError(data)
		e := gwerr.Upstream(http.StatusBadGateway, typ, code, provider.RedactSecret(msg, s.key))
		e.Param = param
		return nil, e
	}
	ch := ce.ChatChunk
	ch.Raw = bytes.Clone(data)
	return &ch, nil
}

func (s *stream) Close() error {
	var err error
	s.once.Do(func() { err = upstream.CloseBody(s.body, s.ended.Load()) })
	return err
}

var _ llm.Stream = (*stream)(nil)
