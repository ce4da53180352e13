package usage

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

type sliceSink struct {
	mu   sync.Mutex
	recs []*Record
}

func (s *sliceSink) Enqueue(r *Record) {
	s.mu.Lock()
	s.recs = append(s.recs, r)
	s.mu.Unlock()
}

type discardSink struct{}

func (discardSink) Enqueue(*Record) {}

type testIngress struct{}

func (testIngress) Name() string                { return "openai" }
func (testIngress) Decode(*pipeline.Call) error { return nil }

func chatCall(stream bool) *pipeline.Call {
	req := &llm.ChatRequest{Model: "openai/gpt-4o-mini", Stream: stream,
		Messages: []llm.Message{{Role: "user", Content: llm.TextContent("hello there")}}}
	body, _ := json.Marshal(req)
	return &pipeline.Call{ID: "log-1", Start: time.Now(), Kind: pipeline.KindChat, Ingress: testIngress{},
		HTTP: httptest.NewRequest("POST", "/v1/chat/completions", nil), Body: body, Chat: req, Model: req.Model}
}

func chatAnswer() *llm.ChatResponse {
	return &llm.ChatResponse{ID: "c1", Object: "chat.completion", Model: "gpt-4o-mini",
		Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", Content: llm.TextContent("general kenobi")}, FinishReason: "stop"}}}
}

// served simulates the router and the provider: the outcome they leave.
func served(res *pipeline.Result, usage *llm.Usage) pipeline.Handler {
	return pipeline.HandlerFunc(func(_ context.Context, c *pipeline.Call) (*pipeline.Result, error) {
		c.Outcome.Provider, c.Outcome.ServedModel, c.Outcome.Attempts = "openai", "gpt-4o-mini", 1
		c.Outcome.UpstreamStart, c.Outcome.FirstByte = time.Now(), time.Now()
		if usage != nil {
			c.Outcome.Usage, c.Outcome.UsageKnown = *usage, true
		}
		return res, nil
	})
}

func stages(sink Sink, final pipeline.Handler) pipeline.Handler {
	return pipeline.Chain(final,
		RequestLog(LogOptions{Sink: sink, Payloads: true}),
		Meter(MeterOptions{Pricer: &Pricer{Table: MustBuiltinTable()}, Estimator: NewEstimator()}))
}

func TestRequestLogWaitsForTheEndOfAStream(t *testing.T) {
	sink := &sliceSink{}
	chunks := llm.ResponseChunks(chatAnswer())
	h := stages(sink, served(&pipeline.Result{Stream: llm.NewSliceStream(chunks)}, nil))
	c := chatCall(true)
	res, err := h.Serve(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != 0 {
		t.Fatal("record written before the stream ended")
	}
	for {
		if _, err := res.Stream.Recv(); err == io.EOF {
			break
		}
	}
	res.Stream.Close()
	if len(sink.recs) != 1 {
		t.Fatalf("%d records after the stream ended", len(sink.recs))
	}
	r := sink.recs[0]
	r.Finalize()
	if !r.Estimated || r.OutputTokens == 0 || r.CostUSD == 0 || r.Status != 200 || !strings.Contains(r.ResponseBody, "general kenobi") {
		t.Fatalf("record %+v", r)
	}
}

func TestRequestLogOfAStreamTheClientLeft(t *testing.T) {
	sink := &sliceSink{}
	h := stages(sink, served(&pipeline.Result{Stream: llm.NewSliceStream(llm.ResponseChunks(chatAnswer()))}, nil))
	c := chatCall(true)
	res, _ := h.Serve(context.Background(), c)
	res.Stream.Recv()
	c.Outcome.Status = 200 // the HTTP layer sent the headers
	res.Stream.Close()
	if len(sink.recs) != 1 || sink.recs[0].Error != "client closed the stream before its end" || sink.recs[0].Status != 200 {
		t.Fatalf("records %+v", sink.recs)
	}
}

func TestRequestLogOfAFailure(t *testing.T) {
	sink := &sliceSink{}
	h := stages(sink, pipeline.HandlerFunc(func(context.Context, *pipeline.Call) (*pipeline.Result, error) {
		return nil, gwerr.RateLimited("rpm", time.Second, "slow down")
	}))
	c := chatCall(false)
	if _, err := h.Serve(context.Background(), c); err == nil {
		t.Fatal("error lost")
	}
	if len(sink.recs) != 1 || sink.recs[0].Status != 429 || sink.recs[0].Error != "slow down" || sink.recs[0].CostUSD != 0 {
		t.Fatalf("records %+v", sink.recs)
	}
	if !errors.Is(c.Outcome.Err, c.Outcome.Err) || c.Outcome.Status != 429 {
		t.Fatalf("outcome not settled: %+v", c.Outcome)
	}
}

// BenchmarkRequestLogStage is the request-path cost of the log stage: the
// same call through the pipeline with and without it (the sink discards,
// as the writer's enqueue costs BenchmarkWriterEnqueue).
func BenchmarkRequestLogStage(b *testing.B) {
	u := &llm.Usage{PromptTokens: 10, CompletionTokens: 3}
	answer := chatAnswer()
	meter := Meter(MeterOptions{Pricer: &Pricer{Table: MustBuiltinTable()}})
	for _, v := range []struct {
		name string
		h    pipeline.Handler
	}{
		{"without", pipeline.Chain(served(&pipeline.Result{Chat: answer}, u), meter)},
		{"with", pipeline.Chain(served(&pipeline.Result{Chat: answer}, u), RequestLog(LogOptions{Sink: discardSink{}, Payloads: true}), meter)},
		{"with,payloads=off", pipeline.Chain(served(&pipeline.Result{Chat: answer}, u), RequestLog(LogOptions{Sink: discardSink{}}), meter)},
	} {
		b.Run(v.name, func(b *testing.B) {
			base := chatCall(false)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c := new(pipeline.Call)
				*c = *base
				if _, err := v.h.Serve(context.Background(), c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The writer encodes a response with its own MarshalJSON; the bytes must
// be json.Marshal's.
func TestEncodeJSONMatchesMarshal(t *testing.T) {
	answer := chatAnswer()
	answer.Choices[0].Message.Content = llm.TextContent("a <b> & \"c\"")
	var nilAnswer *llm.ChatResponse
	for _, v := range []any{answer, *answer, nilAnswer, map[string]any{"x": 1}} {
		got, err := encodeJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		if string(got) != string(want) {
			t.Fatalf("encodeJSON(%T)\n got %s\nwant %s", v, got, want)
		}
	}
}
