// Package httpx is the plumbing the ingress APIs share: what they need from
// the running configuration, how a Call is started from an HTTP request,
// and how outcomes and errors are written back.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/sse"
)

// Backend is what the HTTP layer needs from one configuration snapshot.
type Backend interface {
	// Pipeline serves calls.
	Pipeline() pipeline.Handler
	// Ready reports whether the stores the snapshot uses are reachable.
	Ready(ctx context.Context) error
}

// Source returns the current snapshot; handlers call it once per request so
// a reload never changes the backend under a running request.
type Source func() Backend

// Format is an ingress error format.
type Format uint8

// Error formats.
const (
	FormatOpenAI Format = iota
	FormatAnthropic
)

// NewCall starts a call for r.
func NewCall(r *http.Request, ing pipeline.Ingress, kind pipeline.Kind) *pipeline.Call {
	return &pipeline.Call{
		ID:       NewID(),
		Start:    time.Now(),
		HTTP:     r,
		Ingress:  ing,
		Kind:     kind,
		ClientIP: RemoteIP(r),
	}
}

// NewID returns a unique, time-ordered log id (UUIDv7).
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// RemoteIP is the address of the peer (proxies are resolved by policy).
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// StartEventStream sends the status and headers of a server-sent event
// stream: the call's x-aig-* headers, no caching, and no buffering by a
// proxy in front (nginx honours X-Accel-Buffering).
func StartEventStream(w http.ResponseWriter, c *pipeline.Call) {
	h := w.Header()
	WriteOutcomeHeaders(h, c)
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Outcome.Status = http.StatusOK
	w.WriteHeader(http.StatusOK)
}

// WriteOutcomeHeaders sets the x-aig-* response headers of a call. Keys are
// written in canonical form directly: Header.Set would canonicalize (and
// allocate) on every request.
func WriteOutcomeHeaders(h http.Header, c *pipeline.Call) {
	// one backing array for every value; full slice expressions keep an
	// append to one header from writing over the next
	vals := make([]string, 0, 5)
	set := func(k, v string) {
		vals = append(vals, v)
		n := len(vals)
		h[k] = vals[n-1 : n : n]
	}
	set("X-Aig-Log-Id", c.ID)
	for k, v := range c.RespHeader {
		h[k] = v
	}
	if c.Options.EventID != "" {
		set("X-Aig-Event-Id", c.Options.EventID)
	}
	if c.Outcome.Provider != "" {
		set("X-Aig-Provider", c.Outcome.Provider)
		set("X-Aig-Model", c.Outcome.ServedModel)
		set("X-Aig-Step", strconv.Itoa(c.Outcome.Step))
	}
}

// WriteJSON writes v as a JSON response with the call's headers.
func WriteJSON(w http.ResponseWriter, c *pipeline.Call, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		WriteError(w, c, gwerr.Internal(err), FormatOpenAI)
		return
	}
	WriteBody(w, c, status, body)
}

// WriteBody writes an encoded JSON body with the call's headers.
func WriteBody(w http.ResponseWriter, c *pipeline.Call, status int, body []byte) {
	h := w.Header()
	WriteOutcomeHeaders(h, c)
	v := []string{"application/json", strconv.Itoa(len(body))}
	h["Content-Type"], h["Content-Length"] = v[0:1:1], v[1:2:2]
	c.Outcome.Status = status
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// WriteError renders err in the ingress format. A provider's native error
// response (passthrough) is copied unchanged.
func WriteError(w http.ResponseWriter, c *pipeline.Call, err error, f Format) {
	var ne *pipeline.NativeError
	if errors.As(err, &ne) {
		c.Outcome.Err = ne.Err
		WriteNative(w, c, ne.Response)
		return
	}
	ge := gwerr.As(err)
	c.Outcome.Err = ge
	c.Outcome.Status = ge.Status
	if ge.Status == gwerr.StatusClientClosed {
		return // nobody is listening
	}
	h := w.Header()
	if c != nil {
		WriteOutcomeHeaders(h, c)
	}
	gwerr.WriteHeaders(h, ge)
	var body []byte
	if f == FormatAnthropic {
		body = gwerr.AnthropicJSON(ge)
	} else {
		body = gwerr.OpenAIJSON(ge)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(gwerr.ClientStatus(ge))
	_, _ = w.Write(body)
}

// ErrorOnly writes err for a request that never became a call (no route).
func ErrorOnly(w http.ResponseWriter, err *gwerr.Error) {
	gwerr.WriteHeaders(w.Header(), err)
	w.WriteHeader(gwerr.ClientStatus(err))
	_, _ = w.Write(gwerr.OpenAIJSON(err))
}

// WriteNative copies a provider's native response to the client: status,
// end-to-end headers and body. Event streams are flushed after every read
// so each event leaves as soon as it arrives; other bodies are copied with
// as few writes as possible.
func WriteNative(w http.ResponseWriter, c *pipeline.Call, nr *pipeline.NativeResponse) {
	defer nr.Body.Close()
	h := w.Header()
	for k, v := range nr.Header {
		switch k {
		case "Connection", "Keep-Alive", "Transfer-Encoding", "Te", "Trailer", "Upgrade", "Proxy-Connection":
			continue
		}
		h[k] = v
	}
	WriteOutcomeHeaders(h, c)
	c.Outcome.Status = nr.Status
	w.WriteHeader(nr.Status)
	if !nr.Streaming {
		if _, err := io.Copy(w, nr.Body); err != nil {
			c.Outcome.Err = err
		}
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	// every open stream keeps this buffer: events are small, and each read
	// returns what has arrived, so a larger one would mostly stay empty
	buf := make([]byte, nativeStreamBufferSize)
	for {
		n, err := nr.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				c.Outcome.Err = werr
				return
			}
			if ferr := rc.Flush(); ferr != nil {
				c.Outcome.Err = ferr
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			c.Outcome.Err = err
			if c.HTTP.Context().Err() == nil {
				_, _ = w.Write(nativeStreamError(gwerr.FromTransport(c.Outcome.Provider, err)))
				_ = rc.Flush()
			}
			return
		}
	}
}

// nativeStreamBufferSize is the copy buffer of a native event stream.
const nativeStreamBufferSize = 4 << 10

// LogFailure logs gateway faults (5xx that are the gateway's own) for the
// operator; client and provider errors are the request log's business.
func LogFailure(log *slog.Logger, c *pipeline.Call, err error) {
	ge := gwerr.As(err)
	if ge != nil && ge.Kind == gwerr.KindGateway {
		log.Error("request failed", "log_id", c.ID, "error", ge.Error())
	}
}

// nativeStreamError is the event that ends a native event stream broken
// after it started. Its data satisfies both SDK families: OpenAI clients
// fail on a data object with an "error" member, Anthropic clients on an
// "error" event of {"type":"error","error":{type,message}}.
func nativeStreamError(e *gwerr.Error) []byte {
	body, _ := json.Marshal(map[string]any{
		"type":  "error",
		"error": map[string]string{"type": gwerr.AnthropicType(e.Status), "message": e.Message},
	})
	return sse.AppendEvent(nil, "error", body)
}

// Serve starts a call for r and runs it through the current pipeline. On
// failure it has already written the error in format f and returns ok
// false; otherwise the caller encodes the result.
func Serve(w http.ResponseWriter, r *http.Request, src Source, log *slog.Logger,
	ing pipeline.Ingress, kind pipeline.Kind, f Format) (c *pipeline.Call, res *pipeline.Result, ok bool) {
	c = NewCall(r, ing, kind)
	res, err := src().Pipeline().Serve(r.Context(), c)
	if err != nil {
		LogFailure(log, c, err)
		WriteError(w, c, err, f)
		return c, nil, false
	}
	return c, res, true
}
