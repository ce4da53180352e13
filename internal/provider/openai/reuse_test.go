package openai

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/llm"
)

// A stream read to its [DONE] leaves its connection for the next request:
// a new connection per stream would add a dial to every stream's time to
// first token.
func TestStreamsReuseTheUpstreamConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Event by event, as providers send them: the chunked encoding's
		// last chunk comes after [DONE], in a write of its own.
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range strings.SplitAfter(streamBody, "\n\n") {
			_, _ = io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
		time.Sleep(time.Millisecond)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c := NewClient(ClientOptions{ID: "openai", APIBase: srv.URL, HTTP: &http.Client{Transport: &http.Transport{}}})
	for i := 0; i < 3; i++ {
		s, err := c.ChatStream(context.Background(), &llm.ChatRequest{Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		readToEnd(t, s)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("3 streams used %d connections, want 1", n)
	}
}

// An upstream that keeps the body open after [DONE] costs Close a bounded
// wait, never a hang.
func TestStreamCloseAfterDoneIsBounded(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, streamBody)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	c := NewClient(ClientOptions{ID: "openai", APIBase: srv.URL, HTTP: &http.Client{Transport: &http.Transport{}}})
	s, err := c.ChatStream(context.Background(), &llm.ChatRequest{Model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	readToEnd(t, s)
	closed := make(chan struct{})
	go func() { _ = s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on an upstream that never ends its body")
	}
}

// readToEnd receives a stream's chunks until its clean end.
func readToEnd(t *testing.T, s llm.Stream) {
	t.Helper()
	for {
		if _, err := s.Recv(); err == io.EOF {
			return
		} else if err != nil {
			t.Fatal(err)
		}
	}
}
