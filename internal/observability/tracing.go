package observability

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// TracingOptions configure OpenTelemetry tracing.
type TracingOptions struct {
	// Endpoint is the OTLP/HTTP collector base URL; spans go to
	// Endpoint/v1/traces.
	Endpoint string
	Headers  map[string]string
	// ServiceName and Version describe the process (service.name,
	// service.version).
	ServiceName string
	Version     string
	// SampleRatio is the fraction of new traces recorded; a caller's
	// sampled traceparent is always followed.
	SampleRatio float64
	// Exporter replaces the OTLP exporter (tests).
	Exporter sdktrace.SpanExporter
}

// Tracing produces a span per request (GenAI semantic conventions) and a
// client span per upstream attempt, and propagates W3C trace context to
// providers. The zero value — tracing off — does nothing and costs
// nothing.
type Tracing struct {
	tp     *sdktrace.TracerProvider
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// NewTracing starts a tracer provider exporting over OTLP/HTTP.
func NewTracing(ctx context.Context, o TracingOptions) (*Tracing, error) {
	exp := o.Exporter
	if exp == nil {
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(strings.TrimSuffix(o.Endpoint, "/") + "/v1/traces")}
		if len(o.Headers) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(o.Headers))
		}
		var err error
		if exp, err = otlptracehttp.New(ctx, opts...); err != nil {
			return nil, fmt.Errorf("creating OTLP exporter: %w", err)
		}
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", o.ServiceName),
		attribute.String("service.version", o.Version),
	)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SampleRatio))),
	)
	return &Tracing{
		tp:     tp,
		tracer: tp.Tracer("github.com/aigateway/aigateway"),
		prop:   propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}, nil
}

// Enabled reports whether spans are produced.
func (t *Tracing) Enabled() bool { return t != nil && t.tp != nil }

// Flush exports the spans buffered so far.
func (t *Tracing) Flush(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.tp.ForceFlush(ctx)
}

// Shutdown exports what is buffered and stops.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.tp.Shutdown(ctx)
}

// Stage opens the request span: a child of the caller's traceparent, the
// parent of the upstream attempts' spans, ended when the answer is
// complete. Nil when tracing is off.
func (t *Tracing) Stage() pipeline.Middleware {
	if !t.Enabled() {
		return nil
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			if c.HTTP != nil {
				ctx = t.prop.Extract(ctx, propagation.HeaderCarrier(c.HTTP.Header))
			}
			ctx, span := t.tracer.Start(ctx, c.Kind.String(), trace.WithSpanKind(trace.SpanKindServer))
			res, err := next.Serve(ctx, c)
			if !span.IsRecording() {
				span.End()
				return res, err
			}
			st := &spanState{}
			h := pipeline.Completion{OnDone: func(c *pipeline.Call, doneErr error) { endRequestSpan(span, c, st, doneErr) }}
			switch {
			case res != nil && res.Stream != nil:
				h.OnChunk = st.chunk
			case res != nil && res.Chat != nil:
				st.response(res.Chat)
			}
			return pipeline.Complete(c, res, err, h), err
		})
	}
}

// spanState collects what a span reports about the answer.
type spanState struct {
	id      string
	model   string
	finish  []string
	seenFin map[string]bool
}

func (s *spanState) addFinish(f string) {
	if f == "" || s.seenFin[f] {
		return
	}
	if s.seenFin == nil {
		s.seenFin = map[string]bool{}
	}
	s.seenFin[f] = true
	s.finish = append(s.finish, f)
}

func (s *spanState) chunk(ch *llm.ChatChunk) {
	if s.id == "" {
		s.id = ch.ID
	}
	if ch.Model != "" {
		s.model = ch.Model
	}
	for i := range ch.Choices {
		if f := ch.Choices[i].FinishReason; f != nil {
			s.addFinish(*f)
		}
	}
}

func (s *spanState) response(r *llm.ChatResponse) {
	s.id, s.model = r.ID, r.Model
	for i := range r.Choices {
		s.addFinish(r.Choices[i].FinishReason)
	}
}

// genAIProviders maps provider ids to gen_ai.provider.name values of the
// GenAI semantic conventions where they differ.
var genAIProviders = map[string]string{
	"google-ai-studio": "gcp.gemini",
	"aws-bedrock":      "aws.bedrock",
	"azure-openai":     "azure.ai.openai",
	"mistral":          "mistral_ai",
	"xai":              "x_ai",
}

// GenAIProvider is the semantic-convention name of a provider id.
func GenAIProvider(id string) string {
	if v, ok := genAIProviders[id]; ok {
		return v
	}
	return id
}

// operationName is gen_ai.operation.name for a call kind; "" when the
// call is not one the conventions name (passthrough).
func operationName(k pipeline.Kind) string {
	switch k {
	case pipeline.KindChat:
		return "chat"
	case pipeline.KindEmbed:
		return "embeddings"
	}
	return ""
}

func endRequestSpan(span trace.Span, c *pipeline.Call, st *spanState, doneErr error) {
	o := &c.Outcome
	op := operationName(c.Kind)
	model := c.Model
	if op != "" {
		span.SetName(strings.TrimSpace(op + " " + model))
	} else if c.HTTP != nil {
		span.SetName(c.HTTP.Method + " " + c.HTTP.URL.Path)
	}
	attrs := make([]attribute.KeyValue, 0, 24)
	if op != "" {
		attrs = append(attrs, attribute.String("gen_ai.operation.name", op))
	}
	if o.Provider != "" {
		p := GenAIProvider(o.Provider)
		attrs = append(attrs, attribute.String("gen_ai.provider.name", p), attribute.String("gen_ai.system", p))
	}
	if model != "" {
		attrs = append(attrs, attribute.String("gen_ai.request.model", model))
	}
	respModel := st.model
	if respModel == "" {
		respModel = o.ServedModel
	}
	if respModel != "" {
		attrs = append(attrs, attribute.String("gen_ai.response.model", respModel))
	}
	if st.id != "" {
		attrs = append(attrs, attribute.String("gen_ai.response.id", st.id))
	}
	if len(st.finish) > 0 {
		attrs = append(attrs, attribute.StringSlice("gen_ai.response.finish_reasons", st.finish))
	}
	if r := c.Chat; r != nil {
		if n := r.MaxOutputTokens(); n > 0 {
			attrs = append(attrs, attribute.Int("gen_ai.request.max_tokens", n))
		}
		if r.Temperature != nil {
			attrs = append(attrs, attribute.Float64("gen_ai.request.temperature", *r.Temperature))
		}
		if r.TopP != nil {
			attrs = append(attrs, attribute.Float64("gen_ai.request.top_p", *r.TopP))
		}
	}
	if o.UsageKnown {
		attrs = append(attrs,
			attribute.Int("gen_ai.usage.input_tokens", o.Usage.PromptTokens),
			attribute.Int("gen_ai.usage.output_tokens", o.Usage.CompletionTokens))
		if cached := o.Usage.CachedTokens(); cached > 0 {
			attrs = append(attrs, attribute.Int("gen_ai.usage.cache_read.input_tokens", cached))
		}
	}
	attrs = append(attrs,
		attribute.Int("http.response.status_code", o.Status),
		attribute.String("aigateway.log_id", c.ID),
		attribute.Int("aigateway.attempts", o.Attempts),
		attribute.Int("aigateway.step", o.Step),
		attribute.Float64("aigateway.cost_usd", o.CostUSD),
		attribute.Bool("aigateway.tokens_estimated", o.UsageEstimated),
	)
	if c.HTTP != nil {
		attrs = append(attrs, attribute.String("http.request.method", c.HTTP.Method), attribute.String("url.path", c.HTTP.URL.Path))
	}
	if o.CacheStatus != "" {
		attrs = append(attrs, attribute.String("aigateway.cache_status", o.CacheStatus))
	}
	span.SetAttributes(attrs...)
	err := o.Err
	if err == nil && doneErr != nil && !errors.Is(doneErr, pipeline.ErrClosedEarly) {
		err = doneErr
	}
	if err != nil || o.Status >= 500 {
		span.SetAttributes(attribute.String("error.type", errorType(err, o.Status)))
		msg := ""
		if err != nil {
			msg = gwerr.As(err).Message
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

// errorType is error.type: the gateway error's code or type, else the
// status.
func errorType(err error, status int) string {
	var ge *gwerr.Error
	if errors.As(err, &ge) {
		if ge.Code != "" {
			return ge.Code
		}
		if ge.Type != "" {
			return ge.Type
		}
	}
	if status > 0 {
		return fmt.Sprint(status)
	}
	return "_OTHER"
}

// Transport wraps an upstream round tripper: each provider request gets a
// client span and carries it as W3C traceparent. Unchanged when tracing is
// off.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if !t.Enabled() {
		return rt
	}
	return &tracingTransport{next: rt, t: t}
}

type tracingTransport struct {
	next http.RoundTripper
	t    *Tracing
}

func (tt *tracingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := tt.t.tracer.Start(req.Context(), req.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("http.request.method", req.Method),
			attribute.String("server.address", req.URL.Hostname()),
			// the path only: query strings may carry credentials (?key=)
			attribute.String("url.path", req.URL.Path),
		))
	r := req.Clone(ctx)
	tt.t.prop.Inject(ctx, propagation.HeaderCarrier(r.Header))
	resp, err := tt.next.RoundTrip(r)
	if err != nil {
		span.SetStatus(codes.Error, "transport error")
		span.SetAttributes(attribute.String("error.type", fmt.Sprintf("%T", err)))
		span.End()
		return nil, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, "")
		span.SetAttributes(attribute.String("error.type", fmt.Sprint(resp.StatusCode)))
	}
	// The span covers the time to the response headers; the body's time
	// is on the request span.
	span.End()
	return resp, nil
}
