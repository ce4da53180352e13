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
			if o.Payloads && !c.Options.NoLogPayload {
				lc := &payloadLogCall{logCall: logCall{sink: o.Sink}}
				lc.cp.start(c.Body, o.MaxPayloadBytes, res)
				h.OnDone = lc.done
				if lc.cp.acc != nil {
					h.OnChunk = lc.cp.acc.Add
				}
				if readsBody(res, err) {
					h.OnRead = lc.cp.read
				}
			} else {
				lc := &logCall{sink: o.Sink}
				h.OnDone = lc.done
			}
			return pipeline.Complete(c, res, err, h), err
		})
	}
}

// logCall is what the stage keeps for one call, in one allocation: the
// record and the numbers it points to.
type logCall struct {
	sink Sink
	rec  Record
	nums [2]int64 // rec.UpstreamMS and rec.TTFTMS point here
}

// done builds the record when the answer is complete and hands it on.
func (lc *logCall) done(c *pipeline.Call, doneErr error) {
	fillRecord(&lc.rec, &lc.nums, c, doneErr)
	lc.sink.Enqueue(&lc.rec)
}

// payloadLogCall is a logCall that also captures the bodies.
type payloadLogCall struct {
	logCall
	cp capture
	pl payload
}

func (lc *payloadLogCall) done(c *pipeline.Call, doneErr error) {
	fillRecord(&lc.rec, &lc.nums, c, doneErr)
	lc.pl = lc.cp.payload()
	// the client got masked values back; the log keeps them masked
	lc.pl.remask = c.Remask
	lc.rec.pending = &lc.pl
	lc.sink.Enqueue(&lc.rec)
}

// readsBody reports whether the answer has a body that pipeline.Complete
// reads through OnRead: a native response, or a native error's.
func readsBody(res *pipeline.Result, err error) bool {
	if err != nil {
		var ne *pipeline.NativeError
		return errors.As(err, &ne)
	}
	return res != nil && res.Stream == nil && res.Native != nil
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

func (cp *capture) start(body []byte, max int, res *pipeline.Result) {
	cp.max, cp.request = max, body
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
}

func (cp *capture) read(b []byte) {
	room := cp.max + 1 - len(cp.response)
	if room <= 0 {
		return
	}
	if len(b) > room {
		b = b[:room]
	}
	cp.response = append(cp.response, b...)
}

func (cp *capture) payload() payload {
	p := payload{cap: cp.max, request: cp.request, response: cp.response, value: cp.value}
	if cp.acc != nil {
		p.value = cp.acc // folded into a response by Finalize, off the request path
	}
	return p
}

// NewRecord builds the record of a finished call; doneErr is what ended
// its answer (see pipeline.Completion.OnDone).
func NewRecord(c *pipeline.Call, doneErr error) *Record {
	r := &Record{}
	fillRecord(r, new([2]int64), c, doneErr)
	return r
}

// fillRecord fills r for a finished call; nums holds the optional
// numbers r points to.
func fillRecord(r *Record, nums *[2]int64, c *pipeline.Call, doneErr error) {
	o := &c.Outcome
	*r = Record{
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
		nums[0] = o.End.Sub(o.UpstreamStart).Milliseconds()
		r.UpstreamMS = &nums[0]
	}
	if !o.FirstByte.IsZero() {
		nums[1] = o.FirstByte.Sub(c.Start).Milliseconds()
		r.TTFTMS = &nums[1]
	}
	r.Error = errorText(o.Err, doneErr)
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
