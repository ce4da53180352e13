package anthropic

import (
	"errors"
	"fmt"
	"io"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/upstream"
	"github.com/aigateway/aigateway/internal/sse"
)

// eventReader reads a Messages event stream from an upstream body and
// feeds it to a StreamDecoder (upstream.ChunkDecoder).
type eventReader struct {
	id, key string
	r       *sse.Reader
	dec     StreamDecoder
}

// NewStream returns the chat stream of a Messages event stream. id names
// the provider in errors; key is redacted from error messages. The stream
// ends with io.EOF after message_stop; one that stops before it, or whose
// connection breaks, ends with an error, never a silent truncation.
func NewStream(body io.ReadCloser, id, key string, created int64) llm.Stream {
	er := &eventReader{id: id, key: key, r: sse.NewReader(body), dec: StreamDecoder{Created: created, Provider: id}}
	return upstream.NewStream(body, er)
}

// Next implements upstream.ChunkDecoder.
func (e *eventReader) Next() ([]*llm.ChatChunk, error) {
	for {
		if e.dec.Done() {
			return nil, io.EOF
		}
		ev, err := e.r.Next()
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, upstream.Truncated(e.id)
		}
		if err != nil {
			return nil, gwerr.FromTransport(e.id, fmt.Errorf("reading stream: %w", err))
		}
		chunks, err := e.dec.Event(ev.Name, ev.Data)
		if err != nil {
			var ge *gwerr.Error
			if errors.As(err, &ge) {
				ge.Message = provider.RedactSecret(ge.Message, e.key)
				return nil, ge
			}
			return nil, upstream.InvalidResponse(e.id, err)
		}
		if len(chunks) > 0 {
			return chunks, nil
		}
	}
}
