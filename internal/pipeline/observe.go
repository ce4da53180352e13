package pipeline

import (
	"errors"
	"io"
	"sync"

	"github.com/aigateway/aigateway/internal/llm"
)

// ErrClosedEarly is passed to a stream's done hook when the consumer closed
// it before the end (typically: the client went away).
var ErrClosedEarly = errors.New("stream closed before its end")

// StreamHooks observe a stream without changing it.
type StreamHooks struct {
	// OnChunk sees every chunk, in order, before the consumer does.
	OnChunk func(*llm.ChatChunk)
	// OnDone is called exactly once: with nil at the end of the stream, with
	// the error that broke it, or with ErrClosedEarly.
	OnDone func(err error)
}

// WrapStream returns s with hooks attached.
func WrapStream(s llm.Stream, h StreamHooks) llm.Stream {
	return &hookedStream{Stream: s, hooks: h}
}

type hookedStream struct {
	llm.Stream
	hooks StreamHooks
	once  sync.Once
}

func (s *hookedStream) Recv() (*llm.ChatChunk, error) {
	c, err := s.Stream.Recv()
	if err != nil {
		if err == io.EOF {
			s.done(nil)
		} else {
			s.done(err)
		}
		return nil, err
	}
	if s.hooks.OnChunk != nil {
		s.hooks.OnChunk(c)
	}
	return c, nil
}

func (s *hookedStream) Close() error {
	err := s.Stream.Close()
	s.done(ErrClosedEarly)
	return err
}

func (s *hookedStream) done(err error) {
	s.once.Do(func() {
		if s.hooks.OnDone != nil {
			s.hooks.OnDone(err)
		}
	})
}

// BodyHooks observe a response body without changing it.
type BodyHooks struct {
	// OnRead sees every chunk of bytes read, in order.
	OnRead func(p []byte)
	// OnDone is called exactly once, like StreamHooks.OnDone.
	OnDone func(err error)
}

// WrapBody returns rc with hooks attached.
func WrapBody(rc io.ReadCloser, h BodyHooks) io.ReadCloser {
	return &hookedBody{rc: rc, hooks: h}
}

type hookedBody struct {
	rc    io.ReadCloser
	hooks BodyHooks
	once  sync.Once
}

func (b *hookedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 && b.hooks.OnRead != nil {
		b.hooks.OnRead(p[:n])
	}
	if err == io.EOF {
		b.done(nil)
	} else if err != nil {
		b.done(err)
	}
	return n, err
}

func (b *hookedBody) Close() error {
	err := b.rc.Close()
	b.done(ErrClosedEarly)
	return err
}

func (b *hookedBody) done(err error) {
	b.once.Do(func() {
		if b.hooks.OnDone != nil {
			b.hooks.OnDone(err)
		}
	})
}
