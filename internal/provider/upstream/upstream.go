// Package upstream holds the HTTP plumbing that the native-format adapters
// (anthropic, gemini, workersai, bedrock) share: sending a request and turning a
// non-2xx answer into the provider's error, reading bounded bodies, the
// stream type that drains a native decoder into canonical chunks, ids, and
// embedding vectors in either OpenAI encoding; and the passthrough request
// that every adapter, OpenAI's too, forwards.
//
// Translation itself stays in each adapter's pure converter files; this
// package knows nothing about any provider's wire format.
package upstream

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
)

// MaxResponseBytes bounds a non-streamed upstream body held in memory.
const MaxResponseBytes = 256 << 20

// maxErrorBytes bounds an error body read for its message.
const maxErrorBytes = 64 << 10

// ErrorParser turns a provider's error response (status, headers and at
// most 64 KiB of body) into a gateway error.
type ErrorParser func(status int, h http.Header, body []byte) *gwerr.Error

// Do sends req with client. A 2xx response is returned for the caller to
// read and close; any other status becomes the provider's error through
// parse, with the provider's Retry-After hint. Transport failures are
// classified by gwerr.FromTransport.
func Do(client *http.Client, req *http.Request, id string, parse ErrorParser) (*http.Response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, gwerr.FromTransport(id, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBytes))
	e := parse(resp.StatusCode, resp.Header, body)
	if e == nil {
		e = gwerr.Upstream(resp.StatusCode, "", "", fmt.Sprintf("provider %s returned status %d", id, resp.StatusCode))
	}
	if e.RetryAfter == 0 {
		e.RetryAfter = provider.RetryAfter(resp.Header)
	}
	return nil, e
}

// NativeRequest builds the request that forwards nr to u (the provider's
// base URL and nr.Path) with nr's query, method, headers and body
// unchanged. The adapter then adds its own credential unless
// provider.CallerCredential says the caller brought one.
func NativeRequest(ctx context.Context, u string, nr *provider.NativeRequest) (*http.Request, error) {
	if nr.RawQuery != "" {
		u += "?" + nr.RawQuery
	}
	req, err := http.NewRequestWithContext(ctx, nr.Method, u, nr.BodyReader())
	if err != nil {
		return nil, fmt.Errorf("building native request: %w", err)
	}
	for k, v := range nr.Header {
		req.Header[k] = v
	}
	return req, nil
}

// ReadBody reads a whole response body (bounded) and closes it.
func ReadBody(resp *http.Response, id string) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, gwerr.FromTransport(id, err)
	}
	if len(b) > MaxResponseBytes {
		return nil, InvalidResponse(id, errors.New("response body larger than the limit"))
	}
	return b, nil
}

// InvalidResponse is the error for an upstream answer that does not have
// the expected shape; it is retryable since another attempt (or another
// provider) may well answer properly.
func InvalidResponse(id string, err error) *gwerr.Error {
	return &gwerr.Error{Kind: gwerr.KindProvider, Status: http.StatusBadGateway, Type: gwerr.TypeAPI,
		Code: "invalid_upstream_response", Retryable: true, Cause: err,
		Message: fmt.Sprintf("provider %s returned a response that is not valid JSON of the expected shape", id)}
}

// NewID returns prefix followed by 24 random hex digits (OpenAI-style ids
// such as "chatcmpl-…" for providers that do not name their responses).
func NewID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return prefix + hex.EncodeToString(b[:])
}

// Embedding builds one OpenAI embedding from a float vector in the encoding
// the client asked for: a float array, or with "base64" the little-endian
// float32 bytes in base64 (what OpenAI's SDKs request by default in some
// languages).
func Embedding(index int, v []float64, encoding string) (llm.Embedding, error) {
	if encoding == "base64" {
		buf := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(x)))
		}
		raw, _ := json.Marshal(base64.StdEncoding.EncodeToString(buf))
		return llm.Embedding{Object: "embedding", Index: index, Embedding: raw}, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return llm.Embedding{}, fmt.Errorf("encoding embedding: %w", err)
	}
	return llm.Embedding{Object: "embedding", Index: index, Embedding: raw}, nil
}

// ChunkDecoder yields the canonical chunks of a native stream, a batch at a
// time (one native event may become several chunks, or none). It returns
// io.EOF after the last batch.
type ChunkDecoder interface {
	Next() ([]*llm.ChatChunk, error)
}

// Stream adapts a ChunkDecoder over an upstream body to llm.Stream.
type Stream struct {
	body    io.Closer
	dec     ChunkDecoder
	pending []*llm.ChatChunk
	err     error
	once    sync.Once
	// ended is set when the decoder reached the stream's clean end, so
	// Close may drain what little follows and keep the connection.
	ended atomic.Bool
}

// NewStream returns a stream reading dec; Close closes body.
func NewStream(body io.Closer, dec ChunkDecoder) *Stream {
	return &Stream{body: body, dec: dec}
}

// Recv returns the next chunk, io.EOF at the end, or the stream's error
// (the same one again on every later call).
func (s *Stream) Recv() (*llm.ChatChunk, error) {
	for len(s.pending) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		s.pending, s.err = s.dec.Next()
		if s.err == io.EOF {
			s.ended.Store(true)
		}
	}
	c := s.pending[0]
	s.pending = s.pending[1:]
	return c, nil
}

// Close releases the upstream body; safe to call more than once and
// concurrently with Recv.
func (s *Stream) Close() error {
	var err error
	s.once.Do(func() { err = CloseBody(s.body, s.ended.Load()) })
	return err
}

// Bounds of the drain CloseBody does after a stream's clean end.
const (
	drainMaxBytes = 4 << 10
	drainMaxWait  = 50 * time.Millisecond
)

// CloseBody closes an upstream response body. When the stream ended
// cleanly (its end marker seen), it first reads the little that may follow
// (the chunked encoding's last chunk, a trailing newline): net/http reuses
// a connection only when its body was read to EOF, and a new connection
// per stream costs every stream's time to first token a dial. The drain is
// bounded in bytes and in time (closing the body unblocks the read), so an
// upstream that keeps talking after its end marker costs at most
// drainMaxWait and the connection.
func CloseBody(body io.Closer, ended bool) error {
	r, ok := body.(io.Reader)
	if !ended || !ok {
		return body.Close()
	}
	stop := time.AfterFunc(drainMaxWait, func() { _ = body.Close() })
	_, _ = io.CopyN(io.Discard, r, drainMaxBytes)
	stop.Stop()
	return body.Close()
}

// Collect drains dec into a slice; tests and usage readers use it.
func Collect(dec ChunkDecoder) ([]*llm.ChatChunk, error) {
	var out []*llm.ChatChunk
	for {
		batch, err := dec.Next()
		out = append(out, batch...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

var _ llm.Stream = (*Stream)(nil)

// Chunks stamps stream chunks with the stream's id, creation time and model.
type Chunks struct {
	ID      string
	Created int64
	Model   string
}

func (m Chunks) chunk(choices []llm.ChunkChoice) *llm.ChatChunk {
	return &llm.ChatChunk{ID: m.ID, Object: "chat.completion.chunk", Created: m.Created, Model: m.Model, Choices: choices}
}

// Delta is a chunk carrying d for choice index.
func (m Chunks) Delta(index int, d llm.Delta) *llm.ChatChunk {
	return m.chunk([]llm.ChunkChoice{{Index: index, Delta: d}})
}

// Finish is the chunk that ends choice index with reason.
func (m Chunks) Finish(index int, reason string) *llm.ChatChunk {
	r := reason
	return m.chunk([]llm.ChunkChoice{{Index: index, FinishReason: &r}})
}

// Usage is the final usage-only chunk (choices empty), which the OpenAI
// ingress passes on when the client asked for stream_options.include_usage.
func (m Chunks) Usage(u llm.Usage) *llm.ChatChunk {
	c := m.chunk([]llm.ChunkChoice{})
	c.Usage = &u
	return c
}

// ToolDelta is a stream tool-call fragment: the first one of a call carries
// id and name, later ones only argument text.
func ToolDelta(index int, id, name, args string) llm.ToolCall {
	i := index
	tc := llm.ToolCall{Index: &i, ID: id, Function: llm.FunctionCall{Name: name, Arguments: args}}
	if id != "" || name != "" {
		tc.Type = "function"
	}
	return tc
}

// Str returns a pointer to s (for optional string members of deltas).
func Str(s string) *string { return &s }

// ArgsObject parses tool-call arguments (a JSON text) as the JSON object that
// providers with structured arguments need; empty arguments are {}.
func ArgsObject(args string) (json.RawMessage, error) {
	b := []byte(args)
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	if i == len(b) {
		return json.RawMessage("{}"), nil
	}
	if b[i] != '{' || !json.Valid(b) {
		return nil, errors.New("tool call arguments must be a JSON object")
	}
	return json.RawMessage(b), nil
}

// Meta is what a converter needs to stamp a response that the provider
// leaves out. Adapters fill it (random id, current time) so converters stay
// free of clocks and randomness.
type Meta struct {
	// ID is the response id to use when the provider gives none.
	ID string
	// Created is the Unix time to stamp on the response.
	Created int64
	// Model is the model the request named, used when the provider does
	// not report the one that served it.
	Model string
}

// NewMeta is the Meta of an answer to a request for model received now,
// under a random chat.completion id.
func NewMeta(model string) Meta {
	return Meta{ID: NewID("chatcmpl-"), Created: time.Now().Unix(), Model: model}
}

// Truncated is the error for a stream that ended before the provider said
// it was complete: a cut connection, not an answer. It is retryable (before
// the first chunk reached the client, routing may still try again).
func Truncated(id string) *gwerr.Error {
	return &gwerr.Error{Kind: gwerr.KindProvider, Status: http.StatusBadGateway, Type: gwerr.TypeAPI,
		Code: "upstream_stream_truncated", Retryable: true,
		Message: fmt.Sprintf("provider %s ended the stream before the answer was complete", id)}
}

// CompactJSON returns raw without insignificant whitespace (raw itself when
// it is not valid JSON), so the same arguments look the same streamed or not.
func CompactJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
