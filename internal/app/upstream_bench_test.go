package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// countingConn counts the reads and writes made on a connection.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Read(p)
}

func (c countingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// BenchmarkUpstreamBufferSize compares the upstream connection buffer
// (upstreamBufferSize) with Go's default of 4 KiB in the same run, on what
// the buffer size could slow down: a 100 KB prompt, a small request, and
// a streamed answer of 60 events.
func BenchmarkUpstreamBufferSize(b *testing.B) {
	event := "data: " + `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" word"},"finish_reason":null}]}` + "\n\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Request-Id", strings.Repeat("r", 64))
		if r.URL.Path == "/stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			fl := w.(http.Flusher)
			for range 60 {
				_, _ = io.WriteString(w, event)
				fl.Flush()
			}
			return
		}
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","content":"hi"}}]}`)
	}))
	defer srv.Close()
	large := bytes.Repeat([]byte("lorem ipsum "), 100<<10/12)
	small := []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello."}]}`)
	// the sizes alternate, so that a change in machine load hits both
	for _, tc := range []struct {
		name, path string
		body       []byte
	}{{"prompt100KB", "/chat", large}, {"small", "/chat", small}, {"stream60", "/stream", small}} {
		for _, size := range []int{4 << 10, upstreamBufferSize} {
			client := NewUpstreamClient()
			t := client.Transport.(*http.Transport)
			t.ReadBufferSize, t.WriteBufferSize = size, size
			var calls atomic.Int64 // reads and writes on the connection: syscalls
			dial := t.DialContext
			t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dial(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return countingConn{c, &calls}, nil
			}
			b.Run(fmt.Sprintf("%s/buf%d", tc.name, size), func(b *testing.B) {
				buf := make([]byte, 512)
				calls.Store(0)
				for b.Loop() {
					req, _ := http.NewRequest(http.MethodPost, srv.URL+tc.path, bytes.NewReader(tc.body))
					req.Header.Set("Authorization", "Bearer sk-"+strings.Repeat("k", 160))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					for {
						if _, err := resp.Body.Read(buf); err != nil {
							break
						}
					}
					resp.Body.Close()
				}
				b.ReportMetric(float64(calls.Load())/float64(b.N), "conn-calls/op")
			})
			t.CloseIdleConnections()
		}
	}
}
