package app

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// fakeCollector is an OTLP/HTTP trace receiver.
type fakeCollector struct {
	mu      sync.Mutex
	spans   []*tracepb.Span
	headers http.Header
}

func (c *fakeCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "unexpected export", http.StatusBadRequest)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.headers = r.Header.Clone()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Write(out)
}

func attrs(s *tracepb.Span) map[string]*commonpb.AnyValue {
	m := map[string]*commonpb.AnyValue{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestTracesCarryGenAIAttributesAndPropagateToTheProvider(t *testing.T) {
	col := &fakeCollector{}
	cs := httptest.NewServer(col)
	t.Cleanup(cs.Close)
	g := newTestGateway(t, logsConfig("otel: {enabled: true, endpoint: \""+cs.URL+"\", headers: {x-collector-key: k1}}\n"))

	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	const clientSpan = "00f067aa0ba902b7"
	resp := g.do(t, "POST", "/v1/chat/completions",
		chatBody("openai/gpt-4o-mini", "trace me", `"max_tokens":50,"temperature":0.2`),
		"traceparent", "00-"+clientTrace+"-"+clientSpan+"-01")
	readBody(t, resp)
	resp = g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "and stream", `"stream":true`))
	readBody(t, resp)

	up := g.fake.Requests()[0].Header.Get("traceparent")
	if !strings.HasPrefix(up, "00-"+clientTrace+"-") || strings.Contains(up, clientSpan) {
		t.Fatalf("provider got traceparent %q: want the client's trace with the gateway's span", up)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.gw.Observability().Tracing.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if col.headers.Get("x-collector-key") != "k1" {
		t.Error("configured export headers not sent")
	}
	var server, client *tracepb.Span
	for _, s := range col.spans {
		if hex.EncodeToString(s.TraceId) != clientTrace {
			continue
		}
		switch s.Kind {
		case tracepb.Span_SPAN_KIND_SERVER:
			server = s
		case tracepb.Span_SPAN_KIND_CLIENT:
			client = s
		}
	}
	if server == nil || client == nil {
		t.Fatalf("spans of the client's trace: %v", col.spans)
	}
	if hex.EncodeToString(server.ParentSpanId) != clientSpan || string(client.ParentSpanId) != string(server.SpanId) {
		t.Error("span parentage: client → gateway request → upstream attempt")
	}
	if !strings.Contains(up, hex.EncodeToString(client.SpanId)) {
		t.Error("the provider's traceparent must name the attempt's span")
	}
	if server.Name != "chat openai/gpt-4o-mini" {
		t.Errorf("span name %q", server.Name)
	}
	a := attrs(server)
	for k, want := range map[string]string{
		"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.system": "openai",
		"gen_ai.request.model": "openai/gpt-4o-mini", "gen_ai.response.model": "gpt-4o-mini",
		"gen_ai.response.id": "chatcmpl-fake",
	} {
		if got := a[k].GetStringValue(); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if a["gen_ai.usage.input_tokens"].GetIntValue() == 0 || a["gen_ai.usage.output_tokens"].GetIntValue() != 5 ||
		a["gen_ai.request.max_tokens"].GetIntValue() != 50 || a["gen_ai.request.temperature"].GetDoubleValue() != 0.2 ||
		a["http.response.status_code"].GetIntValue() != 200 || a["aigateway.log_id"].GetStringValue() == "" {
		t.Errorf("attributes: %v", a)
	}
	if fr := a["gen_ai.response.finish_reasons"].GetArrayValue(); fr == nil || fr.Values[0].GetStringValue() != "stop" {
		t.Errorf("finish reasons: %v", fr)
	}
	streamed := 0
	for _, s := range col.spans {
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER && hex.EncodeToString(s.TraceId) != clientTrace {
			streamed++
			if fr := attrs(s)["gen_ai.response.finish_reasons"].GetArrayValue(); fr == nil {
				t.Error("a streamed answer's finish reason is on its span")
			}
		}
	}
	if streamed != 1 {
		t.Errorf("%d spans for the streamed request", streamed)
	}
}

func TestTracingOffSendsNoTraceparent(t *testing.T) {
	g := newTestGateway(t, logsConfig(""))
	readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x")))
	if tp := g.fake.Last().Header.Get("traceparent"); tp != "" {
		t.Fatalf("traceparent %q sent with tracing off", tp)
	}
}
