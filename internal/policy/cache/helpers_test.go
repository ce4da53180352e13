package cache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/store"
	"github.com/aigateway/aigateway/internal/store/memory"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

// upstream is the rest of the pipeline as the stage sees it: it answers
// chat by echoing the last user message, streamed when asked, and counts
// its calls.
type upstream struct {
	calls atomic.Int64
	// gate, when set, is waited on before answering (to hold misses open).
	gate chan struct{}
	// fail makes every call fail with it.
	fail error
	// breakStream makes streams fail after their first chunk.
	breakStream bool
	// reply overrides the echo.
	reply string
}

func (u *upstream) Serve(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
	n := u.calls.Add(1)
	if u.gate != nil {
		select {
		case <-u.gate:
		case <-ctx.Done():
			return nil, gwerr.As(ctx.Err())
		}
	}
	if u.fail != nil {
		return nil, u.fail
	}
	c.Outcome.Provider, c.Outcome.ServedModel = "fake", "fake-model"
	switch c.Kind {
	case pipeline.KindModels:
		return &pipeline.Result{Models: []llm.Model{{ID: "openai/gpt-4o"}}}, nil
	case pipeline.KindEmbed:
		e, _ := llm.FloatEmbedding(0, []float32{float32(n), 1})
		return &pipeline.Result{Embed: &llm.EmbedResponse{Object: "list", Model: "fake-model", Data: []llm.Embedding{e}}}, nil
	case pipeline.KindNative:
		return &pipeline.Result{Native: &pipeline.NativeResponse{Status: 200,
			Header: map[string][]string{"Content-Type": {"application/json"}, "X-Request-Id": {"req-1"}},
			Body:   io.NopCloser(strings.NewReader(`{"answer":` + itoa(n) + `}`))}}, nil
	}
	text := u.reply
	if text == "" {
		text = "echo: " + c.Chat.Messages[len(c.Chat.Messages)-1].Content.Text() + " #" + itoa(n)
	}
	resp := &llm.ChatResponse{ID: "chatcmpl-" + itoa(n), Object: "chat.completion", Created: 1700000000, Model: "fake-model",
		Choices: []llm.Choice{{Index: 0, Message: llm.Message{Role: "assistant", Content: llm.TextContent(text)}, FinishReason: "stop"}},
		Usage:   &llm.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}}
	if !c.Chat.Stream {
		return &pipeline.Result{Chat: resp}, nil
	}
	// a stream of one word per chunk, as providers send
	var chunks []*llm.ChatChunk
	base := llm.ChatChunk{ID: resp.ID, Object: "chat.completion.chunk", Created: resp.Created, Model: resp.Model}
	first := base
	empty := ""
	first.Choices = []llm.ChunkChoice{{Delta: llm.Delta{Role: "assistant", Content: &empty}}}
	chunks = append(chunks, &first)
	for _, w := range strings.SplitAfter(text, " ") {
		ch := base
		w := w
		ch.Choices = []llm.ChunkChoice{{Delta: llm.Delta{Content: &w}}}
		chunks = append(chunks, &ch)
	}
	last := base
	stop := "stop"
	last.Choices = []llm.ChunkChoice{{Delta: llm.Delta{}, FinishReason: &stop}}
	usage := base
	usage.Choices = []llm.ChunkChoice{}
	usage.Usage = resp.Usage
	chunks = append(chunks, &last, &usage)
	var s llm.Stream = llm.NewSliceStream(chunks)
	if u.breakStream {
		s = &brokenStream{Stream: s}
	}
	return &pipeline.Result{Stream: s}, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// brokenStream fails after its first chunk.
type brokenStream struct {
	llm.Stream
	n int
}

func (s *brokenStream) Recv() (*llm.ChatChunk, error) {
	if s.n++; s.n > 1 {
		return nil, errors.New("connection reset")
	}
	return s.Stream.Recv()
}

type env struct {
	clock  *storetest.FakeClock
	mem    *memory.Cache
	engine *Engine
	up     *upstream
	h      pipeline.Handler
}

// newEnv returns the stage with policy p (rules default to caching every
// model for a minute) on a memory backend with a fake clock.
func newEnv(t *testing.T, p Policy) *env {
	t.Helper()
	clock := storetest.NewFakeClock()
	mem, err := memory.NewCache(memory.CacheOptions{MaxBytes: 8 << 20, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mem.Close() })
	idx, err := memory.NewVectorIndex(memory.VectorOptions{MaxPerScope: 100, MaxTotal: 1000, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, p, mem, idx, clock)
}

func newEnvOn(t *testing.T, p Policy, backend store.Cache, idx store.VectorIndex, clock *storetest.FakeClock) *env {
	t.Helper()
	if p.Rules == nil {
		p.Rules = []Rule{{Match: "*"}}
	}
	if p.DefaultTTL == 0 {
		p.DefaultTTL = time.Minute
	}
	if p.MaxTTL == 0 {
		p.MaxTTL = time.Hour
	}
	if p.Semantic.Threshold == 0 {
		p.Semantic.Threshold = 0.9
	}
	e := &env{clock: clock, up: &upstream{}}
	e.mem, _ = backend.(*memory.Cache)
	e.engine = NewEngine(EngineOptions{Backend: backend, Index: idx, Name: "memory", Now: clock.Now})
	e.h = pipeline.Chain(e.up, e.engine.Stage(p))
	return e
}

type callOpt func(*pipeline.Call)

func tenant(name string) callOpt      { return func(c *pipeline.Call) { c.Identity.Tenant = name } }
func streamed() callOpt               { return func(c *pipeline.Call) { c.Chat.Stream = true } }
func model(m string) callOpt          { return func(c *pipeline.Call) { c.Model, c.Chat.Model = m, m } }
func temp(t float64) callOpt          { return func(c *pipeline.Call) { c.Chat.Temperature = &t } }
func opts(o pipeline.Options) callOpt { return func(c *pipeline.Call) { c.Options = o } }

func chatCall(text string, o ...callOpt) *pipeline.Call {
	c := &pipeline.Call{
		ID: "test", Kind: pipeline.KindChat, Model: "openai/gpt-4o",
		HTTP: httptest.NewRequest("POST", "/v1/chat/completions", nil),
		Chat: &llm.ChatRequest{Model: "openai/gpt-4o", Messages: []llm.Message{{Role: "user", Content: llm.TextContent(text)}}},
	}
	for _, f := range o {
		f(c)
	}
	return c
}

// serve runs a call through the stage and returns the answer's text (a
// stream read to its end) and the cache status.
func (e *env) serve(t *testing.T, c *pipeline.Call) (string, string) {
	t.Helper()
	res, err := e.h.Serve(context.Background(), c)
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	text := resultText(t, res)
	e.engine.Wait()
	if got := c.RespHeader.Get(HeaderStatus); got != c.Outcome.CacheStatus {
		t.Fatalf("header %q and outcome %q disagree", got, c.Outcome.CacheStatus)
	}
	return text, c.Outcome.CacheStatus
}

func resultText(t *testing.T, res *pipeline.Result) string {
	t.Helper()
	switch {
	case res.Chat != nil:
		return res.Chat.Choices[0].Message.Content.Text()
	case res.Stream != nil:
		var acc llm.Accumulator
		defer res.Stream.Close()
		for {
			ch, err := res.Stream.Recv()
			if err == io.EOF {
				return acc.Response().Choices[0].Message.Content.Text()
			}
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			acc.Add(ch)
		}
	case res.Embed != nil:
		return string(res.Embed.Data[0].Embedding)
	case res.Native != nil:
		b, _ := io.ReadAll(res.Native.Body)
		res.Native.Body.Close()
		return string(b)
	}
	t.Fatal("empty result")
	return ""
}

// failingCache is a backend whose every operation fails, like an
// unreachable Redis.
type failingCache struct{ calls atomic.Int64 }

var errDown = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

func (f *failingCache) Get(context.Context, string) ([]byte, error) {
	f.calls.Add(1)
	return nil, errDown
}
func (f *failingCache) Set(context.Context, string, []byte, time.Duration) error {
	f.calls.Add(1)
	return errDown
}
func (f *failingCache) Delete(context.Context, ...string) (int, error) { return 0, errDown }
func (f *failingCache) DeletePrefix(context.Context, string) (int, error) {
	return 0, errDown
}
func (f *failingCache) Stats(context.Context) (store.CacheStats, error) {
	return store.CacheStats{}, errDown
}

func embedReq(text string) *llm.EmbedRequest {
	return &llm.EmbedRequest{Model: "text-embedding-3-small", Input: []byte(strconv.Quote(text))}
}

func nativeCall(method, path, body string) *pipeline.Call {
	return &pipeline.Call{
		Kind: pipeline.KindNative, Model: "openai/gpt-4o",
		Native:  &provider.NativeRequest{Method: method, Path: path, Header: http.Header{}, Body: []byte(body)},
		Targets: []pipeline.Target{{ProviderID: "openai"}},
	}
}
