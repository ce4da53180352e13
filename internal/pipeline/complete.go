package pipeline

import (
	"errors"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
)

// Completion observes a call until its answer has been delivered. Stages
// that account for a call (usage, logs, metrics, traces) need its end, and
// for a stream or a native body that is not when Serve returns but when the
// HTTP layer has read the last byte.
type Completion struct {
	// OnChunk sees every chunk of a streamed chat answer.
	OnChunk func(*llm.ChatChunk)
	// OnRead sees the bytes of a native response body (also of a native
	// error response), in order.
	OnRead func([]byte)
	// OnDone runs exactly once, when the answer is complete: at once for
	// an error or a plain result, at the end of the stream or body
	// otherwise. err is what broke the call, ErrClosedEarly when the
	// consumer stopped reading before the end, or nil. Before it runs the
	// call's Outcome is settled (Status, Err and End are set).
	OnDone func(c *Call, err error)
}

// Complete arranges for h to observe the result (or error) that the rest of
// the pipeline returned for c, and returns the result to pass on: the same
// value, with its stream or body wrapped. Wrapping happens in stage order,
// so the hooks of an inner stage run before those of an outer one.
func Complete(c *Call, res *Result, err error, h Completion) *Result {
	done := func(e error) {
		c.Settle(e)
		if h.OnDone != nil {
			h.OnDone(c, e)
		}
	}
	if err != nil {
		var ne *NativeError
		if errors.As(err, &ne) && ne.Response != nil && ne.Response.Body != nil {
			ne.Response.Body = WrapBody(ne.Response.Body, BodyHooks{
				OnRead: h.OnRead,
				OnDone: func(error) { done(err) },
			})
			return res
		}
		done(err)
		return res
	}
	switch {
	case res == nil:
		done(nil)
	case res.Stream != nil:
		res.Stream = WrapStream(res.Stream, StreamHooks{OnChunk: h.OnChunk, OnDone: done})
	case res.Native != nil:
		if c.Outcome.Status == 0 {
			c.Outcome.Status = res.Native.Status
		}
		if res.Native.Body == nil {
			done(nil)
			break
		}
		res.Native.Body = WrapBody(res.Native.Body, BodyHooks{OnRead: h.OnRead, OnDone: done})
	default:
		done(nil)
	}
	return res
}

// Settle fills in what the outcome must say once the call is over, where
// the HTTP layer has not said it yet: the end time, the error, and the
// status the client gets (the same rules the HTTP layer applies when it
// writes). It is idempotent; later calls change nothing already set.
func (c *Call) Settle(err error) {
	if c.Outcome.End.IsZero() {
		c.Outcome.End = time.Now()
	}
	if err == nil || err == ErrClosedEarly {
		if c.Outcome.Status == 0 {
			c.Outcome.Status = 200
		}
		return
	}
	if c.Outcome.Err == nil {
		c.Outcome.Err = err
	}
	if c.Outcome.Status == 0 {
		c.Outcome.Status = StatusOf(err)
	}
}

// StatusOf is the HTTP status a failed call is answered with: a native
// error response's own status, otherwise the gateway error's (499 when the
// client went away).
func StatusOf(err error) int {
	var ne *NativeError
	if errors.As(err, &ne) && ne.Response != nil {
		return ne.Response.Status
	}
	return gwerr.As(err).Status
}
