package pipeline

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"

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

// WrapStream returns s with hooks attached. Stages wrap a stream one after
// another, inner first; wrapping a stream WrapStream returned, before
// anything has read from it, gives one wrapper that runs both sets of
// hooks (the inner's first, as nesting would) rather than a wrapper
// around a wrapper: a stream waits for its next event through every
// layer, so each layer would be one more stack frame held for the
// stream's whole life, on every open stream.
func WrapStream(s llm.Stream, h StreamHooks) llm.Stream {
	if in, ok := s.(*hookedStream); ok && !in.wrapped && !in.finished.Load() {
		in.wrapped = true
		return &hookedStream{Stream: in.Stream, first: in.first, eof: in.eof, hooks: append(in.hooks, h)}
	}
	return &hookedStream{Stream: s, hooks: []StreamHooks{h}}
}

type hookedStream struct {
	llm.Stream
	hooks []StreamHooks // innermost first
	// first is a chunk already received from Stream, to deliver before
	// reading on; eof says Stream ended right after it.
	first *llm.ChatChunk
	eof   bool
	once  sync.Once
	// finished is set when the done hooks have run, wrapped when another
	// wrapper took the hooks over: such a stream is only ever nested, so
	// that no hook runs twice.
	finished atomic.Bool
	wrapped  bool
}

func (s *hookedStream) Recv() (*llm.ChatChunk, error) {
	var c *llm.ChatChunk
	var err error
	switch {
	case s.first != nil:
		c, s.first = s.first, nil
	case s.eof:
		err = io.EOF
	default:
		c, err = s.Stream.Recv()
	}
	if err != nil {
		if err == io.EOF {
			s.done(nil)
		} else {
			s.done(err)
		}
		return nil, err
	}
	for i := range s.hooks {
		if f := s.hooks[i].OnChunk; f != nil {
			f(c)
		}
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
		s.finished.Store(true)
		for i := range s.hooks {
			if f := s.hooks[i].OnDone; f != nil {
				f(err)
			}
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
