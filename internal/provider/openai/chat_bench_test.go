package openai

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/sse"
)

func decodeBench(b *testing.B, body []byte) *llm.ChatRequest {
	b.Helper()
	var req llm.ChatRequest
	if err := req.UnmarshalJSON(body); err != nil {
		b.Fatal(err)
	}
	return &req
}

// BenchmarkEncodeChat is the canonical→native converter: a decoded
// request to the upstream body.
func BenchmarkEncodeChat(b *testing.B) {
	for _, tc := range []struct {
		name   string
		prompt int
		stream bool
	}{{"small", 0, false}, {"small-stream", 0, true}, {"100KB", 100 << 10, false}} {
		b.Run(tc.name, func(b *testing.B) {
			req := decodeBench(b, providertest.ChatBody("gpt-4o-mini", tc.prompt, tc.stream))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeChat(req, tc.stream, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// fakeAnswer returns what the fake upstream answers to body.
func fakeAnswer(b *testing.B, body []byte) []byte {
	b.Helper()
	f := providertest.NewFake(providertest.Options{Reply: strings.TrimSpace(strings.Repeat("word ", 20)), NoRecord: true})
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/chat/completions", bytes.NewReader(body)))
	if rec.Code != 200 {
		b.Fatalf("fake answered %d", rec.Code)
	}
	return rec.Body.Bytes()
}

// BenchmarkDecodeChatResponse is native→canonical for a non-streamed
// answer.
func BenchmarkDecodeChatResponse(b *testing.B) {
	body := fakeAnswer(b, providertest.ChatBody("gpt-4o-mini", 0, false))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var out llm.ChatResponse
		if err := out.UnmarshalJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamRecv is native→canonical for a stream: SSE framing and
// chunk decoding of a whole 24-event answer, per stream.
func BenchmarkStreamRecv(b *testing.B) {
	body := fakeAnswer(b, []byte(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`))
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		s := &stream{id: "openai", body: io.NopCloser(rd), r: sse.NewReader(rd)}
		n := 0
		for {
			_, err := s.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n < 20 {
			b.Fatalf("%d chunks", n)
		}
	}
}

// BenchmarkClientChat is one non-streamed call through the client against
// a canned upstream (no network): encode, request building, decode.
func BenchmarkClientChat(b *testing.B) {
	answer := fakeAnswer(b, providertest.ChatBody("gpt-4o-mini", 0, false))
	c := NewClient(ClientOptions{ID: "openai", APIBase: "http://upstream/v1", APIKey: "sk", HTTP: &http.Client{Transport: canned(answer)}})
	req := decodeBench(b, providertest.ChatBody("gpt-4o-mini", 0, false))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Chat(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// canned answers every request with the same body.
type canned []byte

func (c canned) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(c)), ContentLength: int64(len(c)), Request: r}, nil
}
