package usage

import (
	"context"
	"errors"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

// Sink takes finished records; Writer is the real one.
type Sink interface {
	Enqueue(r *Record)
}

// LogOptions configure the RequestLog stage.
type LogOptions struct {
	Sink Sink
	// Payloads keeps request and response bodies (unless a request says
	// x-aig-collect-log-payload: false).
	Payloads bool
	// MaxPayloadBytes caps each body (default 64 KiB).
	MaxPayloadBytes int
}

// RequestLog is the stage that records every call: it runs outermost (after
// recover), so refusals by later stages are logged too, and it hands the
// record to the sink when the answer is complete — after the last event of
// a stream. The request path pays for building the record and an enqueue;
// bodies are serialised by the writer.
func RequestLog(o LogOptions) pipeline.Middleware {
	if o.MaxPayloadBytes <= 0 {
		o.MaxPayloadBytes = 64 << 10
	}
	return func(next pipeline.Handler) pipeline.Handler {
		return pipeline.HandlerFunc(func(ctx context.Context, c *pipeline.Call) (*pipeline.Result, error) {
			res, err := next.Serve(ctx, c)
			if c.Kind == pipeline.KindModels || c.Options.NoLog {
				return res, err
			}
			var h pipeline.Completion
			var cp *capture
			if o.Payloads && !c.Options.NoLogPayload {
				cp = newCapture(c.Body, o.MaxPayloadBytes, res)
				h = cp.hooks()
			}
			h.OnDone = func(c *pipeline.Call, doneErr error) {
				r := NewRecord(c, doneErr)
				if cp != nil {
					r.pending = cp.payload()
					// the client got masked values back; the log keeps them masked
					r.pending.remask = c.Remask
				}
				o.Sink.Enqueue(r)
			}
			return pipeline.Complete(c, res, err, h), err
		})
	}
}

// capture collects a call's bodies for its record. The request body is the
// decoded call's own bytes (never changed after decoding); the response is
// the answer value (encoded later, by the writer), the accumulated stream,
// or the native bytes up to one past the cap (so truncation shows).
type capture struct {
	max      int
	request  []byte
	response []byte
	value    any
	acc      *llm.Accumulator
}

func newCapture(body []byte, max int, res *pipeline.Result) *capture {
	cp := &capture{max: max, request: body}
	switch {
	case res == nil:
		// an error: a native error's body is read through OnRead
	case res.Stream != nil:
		cp.acc = &llm.Accumulator{}
	case res.Chat != nil:
		cp.value = res.Chat
	case res.Embed != nil:
		cp.value = res.Embed
	}
	return cp
}

func (cp *capture) hooks() pipeline.Completion {
	var h pipeline.Completion
	if cp.acc != nil {
		h.OnChunk = cp.acc.Add
	}
	h.OnRead = func(b []byte) {
		room := cp.max + 1 - len(cp.response)
		if room <= 0 {
			return
		}
		if len(b) > room {
			b = b[:room]
		}
		cp.response = append(cp.response, b...)
	}
	return h
}

func (cp *capture) payload() *payload {
	p := &payload{cap: cp.max, request: cp.request, response: cp.response, value: cp.value}
	if cp.acc != nil {
		p.value = cp.acc // folded into a response by Finalize, off the request path
	}
	return p
}

// NewRecord builds the record of a finished call; doneErr is what ended
// its answer (see pipeline.Completion.OnDone).
func NewRecord(c *pipeline.Call, doneErr error) *Record {
	o := &c.Outcome
	r := &Record{
		ID:          c.ID,
		EventID:     c.Options.EventID,
		CreatedAt:   c.Start.UTC().Truncate(time.Microsecond),
		DurationMS:  o.End.Sub(c.Start).Milliseconds(),
		KeyID:       c.Identity.KeyID,
		KeyName:     c.Identity.KeyName,
		Tenant:      c.Identity.Tenant,
		User:        c.Identity.User,
		Metadata:    recordMetadata(c),
		Kind:        c.Kind.String(),
		Provider:    o.Provider,
		Model:       c.Model,
		ServedModel: o.ServedModel,
		Route:       o.Route,
		Status:      o.Status,
		CacheStatus: o.CacheStatus,
		Step:        o.Step,
		Attempts:    o.Attempts,
		ClientIP:    c.ClientIP,
		CostUSD:     o.CostUSD,
		Estimated:   o.UsageEstimated,
	}
	if c.Ingress != nil {
		r.Ingress = c.Ingress.Name()
	}
	if c.HTTP != nil {
		r.Method, r.Path = c.HTTP.Method, c.HTTP.URL.Path
	}
	if c.Chat != nil {
		r.Stream = c.Chat.Stream
	}
	if o.UsageKnown {
		r.InputTokens = int64(o.Usage.PromptTokens)
		r.OutputTokens = int64(o.Usage.CompletionTokens)
		r.CachedTokens = int64(o.Usage.CachedTokens())
	}
	if !o.UpstreamStart.IsZero() {
		up := o.End.Sub(o.UpstreamStart).Milliseconds()
		r.UpstreamMS = &up
	}
	if !o.FirstByte.IsZero() {
		ttft := o.FirstByte.Sub(c.Start).Milliseconds()
		r.TTFTMS = &ttft
	}
	r.Error = errorText(o.Err, doneErr)
	return r
}

// errorText is what the record says went wrong: the call's error, or what
// ended its stream early.
func errorText(outcomeErr, doneErr error) string {
	err := outcomeErr
	if err == nil {
		err = doneErr
	}
	if err == nil {
		return ""
	}
	if errors.Is(err, pipeline.ErrClosedEarly) {
		return "client closed the stream before its end"
	}
	var ne *pipeline.NativeError
	if errors.As(err, &ne) {
		return ne.Err.Message
	}
	var ge *gwerr.Error
	if errors.As(err, &ge) {
		return ge.Message
	}
	if errors.Is(err, context.Canceled) {
		return "client closed the request"
	}
	return err.Error()
}
