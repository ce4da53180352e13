package llm

import (
	"io"
	"sync"
)

// Stream is a sequence of chat chunks from a provider. Recv returns io.EOF
// after the last chunk. Close releases the upstream connection and may be
// called at any time, also concurrently with a blocked Recv.
type Stream interface {
	Recv() (*ChatChunk, error)
	Close() error
}

// SliceStream replays fixed chunks; used by caches and tests.
type SliceStream struct {
	chunks []*ChatChunk
	next   int
	mu     sync.Mutex
	closed bool
}

// NewSliceStream returns a Stream over chunks.
func NewSliceStream(chunks []*ChatChunk) *SliceStream {
	return &SliceStream{chunks: chunks}
}

// Recv returns the next chunk or io.EOF.
func (s *SliceStream) Recv() (*ChatChunk, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.next >= len(s.chunks) {
		return nil, io.EOF
	}
	c := s.chunks[s.next]
	s.next++
	return c, nil
}

// Close ends the stream.
func (s *SliceStream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

var _ Stream = (*SliceStream)(nil)
