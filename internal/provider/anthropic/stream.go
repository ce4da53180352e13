package anthropic

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/sse"
)

// Stream reads a Messages event stream as chat chunks.
type Stream struct {
	id, key string
	body    io.ReadCloser
	r       *sse.Reader
	dec     StreamDecoder
	pending []*llm.ChatChunk
	once    sync.Once
	err     error
}

// NewStream returns a Stream over body. id names the provider in errors;
// key is redacted from error messages.
func NewStream(body io.ReadCloser, id, key string, created int64) *Stream {
	return &Stream{id: id, key: key, body: body, r: sse.NewReader(body), dec: StreamDecoder{Created: created, Provider: id}}
}

// Recv returns the next chunk; io.EOF after message_stop. A stream that
// ends before message_stop is an error, never a silent truncation.
func (s *Stream) Recv() (*llm.ChatChunk, error) {
	for {
		if len(s.pending) > 0 {
			c := s.pending[0]
			s.pending = s.pending[1:]
			return c, nil
		}
		if s.err != nil {
			return nil, s.err
		}
		if s.dec.Done() {
			s.err = io.EOF
			return nil, io.EOF
		}
		ev, err := s.r.Next()
		if err == io.EOF {
			s.err = &gwerr.Error{Kind: gwerr.KindProvider, Status: 502, Type: gwerr.TypeAPI,
				Code: "upstream_stream_truncated", Retryable: true, Cause: ErrStreamTruncated,
				Message: fmt.Sprintf("provider %s ended the stream before message_stop", s.id)}
			return nil, s.err
		}
		if err != nil {
			s.err = gwerr.FromTransport(s.id, fmt.Errorf("reading stream: %w", err))
			return nil, s.err
		}
		chunks, err := s.dec.Event(ev.Name, ev.Data)
		if err != nil {
			var ge *gwerr.Error
			if errors.As(err, &ge) {
				ge.Message = provider.RedactSecret(ge.Message, s.key)
				s.err = ge
			} else {
				s.err = invalidResponse(s.id, err)
			}
			return nil, s.err
		}
		s.pending = chunks
	}
}

// Close releases the connection; safe to call more than once and while
// Recv is blocked.
func (s *Stream) Close() error {
	var err error
	s.once.Do(func() { err = s.body.Close() })
	return err
}

func invalidResponse(id string, err error) *gwerr.Error {
	return &gwerr.Error{Kind: gwerr.KindProvider, Status: 502, Type: gwerr.TypeAPI,
		Code: "invalid_upstream_response", Retryable: true, Cause: err,
		Message: fmt.Sprintf("provider %s returned a response that is not valid JSON of the expected shape", id)}
}

var _ llm.Stream = (*Stream)(nil)
