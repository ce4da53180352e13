package pipeline

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aigateway/aigateway/internal/llm"
)

// sliceStream yields its chunks, then io.EOF (or err).
type sliceStream struct {
	chunks []*llm.ChatChunk
	err    error
	closed int
}

func (s *sliceStream) Recv() (*llm.ChatChunk, error) {
	if len(s.chunks) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		return nil, io.EOF
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	return c, nil
}

func (s *sliceStream) Close() error { s.closed++; return nil }

// wrapThree wraps s the way three stages would, recording hook calls.
func wrapThree(s llm.Stream, log *[]string) llm.Stream {
	for _, name := range []string{"inner", "middle", "outer"} {
		s = WrapStream(s, StreamHooks{
			OnChunk: func(*llm.ChatChunk) { *log = append(*log, name+" chunk") },
			OnDone: func(err error) {
				msg := "nil"
				if err != nil {
					msg = err.Error()
				}
				*log = append(*log, name+" done "+msg)
			},
		})
	}
	return s
}

// TestWrapStreamMergesLayers: stages wrapping one after another get one
// wrapper, whose hooks run as nested wrappers' would: inner first, each
// done hook exactly once, at the end, on a break, or on an early close.
func TestWrapStreamMergesLayers(t *testing.T) {
	t.Run("end", func(t *testing.T) {
		var log []string
		src := &sliceStream{chunks: []*llm.ChatChunk{{}}}
		s := wrapThree(src, &log)
		if hs, ok := s.(*hookedStream); !ok || hs.Stream != llm.Stream(src) || len(hs.hooks) != 3 {
			t.Fatalf("not one wrapper around the source: %#v", s)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != io.EOF {
			t.Fatalf("err = %v", err)
		}
		_ = s.Close()
		want := []string{"inner chunk", "middle chunk", "outer chunk", "inner done nil", "middle done nil", "outer done nil"}
		if !reflect.DeepEqual(log, want) {
			t.Fatalf("hooks ran %q\nwant %q", log, want)
		}
		if src.closed != 1 {
			t.Fatalf("source closed %d times", src.closed)
		}
	})
	t.Run("break", func(t *testing.T) {
		var log []string
		boom := errors.New("boom")
		s := wrapThree(&sliceStream{err: boom}, &log)
		if _, err := s.Recv(); err != boom {
			t.Fatalf("err = %v", err)
		}
		_ = s.Close()
		want := []string{"inner done boom", "middle done boom", "outer done boom"}
		if !reflect.DeepEqual(log, want) {
			t.Fatalf("hooks ran %q\nwant %q", log, want)
		}
	})
	t.Run("closed early", func(t *testing.T) {
		var log []string
		s := wrapThree(&sliceStream{chunks: []*llm.ChatChunk{{}, {}}}, &log)
		_ = s.Close()
		_ = s.Close()
		msg := ErrClosedEarly.Error()
		want := []string{"inner done " + msg, "middle done " + msg, "outer done " + msg}
		if !reflect.DeepEqual(log, want) {
			t.Fatalf("hooks ran %q\nwant %q", log, want)
		}
	})
}

// TestWrapStreamReplaysFirstChunk: a stream whose first chunk was read
// ahead (to fail over before anything reached the client) delivers it
// first, through every stage's hooks, also when wrapped afterwards.
func TestWrapStreamReplaysFirstChunk(t *testing.T) {
	first, second := &llm.ChatChunk{ID: "1"}, &llm.ChatChunk{ID: "2"}
	var seen []string
	s := llm.Stream(&hookedStream{Stream: &sliceStream{chunks: []*llm.ChatChunk{second}}, first: first,
		hooks: []StreamHooks{{OnChunk: func(c *llm.ChatChunk) { seen = append(seen, "a"+c.ID) }}}})
	s = WrapStream(s, StreamHooks{OnChunk: func(c *llm.ChatChunk) { seen = append(seen, "b"+c.ID) }})
	for {
		if _, err := s.Recv(); err != nil {
			break
		}
	}
	if want := []string{"a1", "b1", "a2", "b2"}; !reflect.DeepEqual(seen, want) {
		t.Fatalf("hooks saw %q, want %q", seen, want)
	}
}

// TestWrapStreamNestsAFinishedStream: a stream whose hooks have run is
// nested, not merged, so that they do not run again.
func TestWrapStreamNestsAFinishedStream(t *testing.T) {
	var inner, outer int
	s := WrapStream(&sliceStream{}, StreamHooks{OnDone: func(error) { inner++ }})
	if _, err := s.Recv(); err != io.EOF {
		t.Fatalf("err = %v", err)
	}
	s2 := WrapStream(s, StreamHooks{OnDone: func(error) { outer++ }})
	if _, err := s2.Recv(); err != io.EOF {
		t.Fatalf("err = %v", err)
	}
	if inner != 1 || outer != 1 {
		t.Fatalf("done hooks ran inner %d, outer %d times; want once each", inner, outer)
	}
}

// TestReadBody: bodies are read whole whatever their declared length, and
// one of the declared length fills a buffer of exactly that size.
func TestReadBody(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     string
		declared int64
	}{
		{"exact", "hello world", 11},
		{"unknown length", strings.Repeat("x", 3000), -1},
		{"longer than declared", strings.Repeat("y", 2000), 10},
		{"empty", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "/", iotest.OneByteReader(strings.NewReader(tc.body)))
			r.ContentLength = tc.declared
			got, err := ReadBody(r, 1<<20)
			if err != nil || string(got) != tc.body {
				t.Fatalf("ReadBody = %d bytes, %v", len(got), err)
			}
			if tc.name == "exact" && cap(got) != len(tc.body) {
				t.Fatalf("cap %d, want %d", cap(got), len(tc.body))
			}
		})
	}
	r, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(strings.Repeat("z", 100)))
	r.ContentLength = -1
	if _, err := ReadBody(r, 50); err == nil {
		t.Fatal("a body over the bound was accepted")
	}
}
