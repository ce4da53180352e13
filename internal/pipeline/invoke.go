package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
)

// NativeError is a native (passthrough) response with an error status. The
// router may retry or fall back on it; when it gives up, the response itself
// goes to the client unchanged.
type NativeError struct {
	Response *NativeResponse
	Err      *gwerr.Error
}

func (e *NativeError) Error() string { return e.Err.Error() }
func (e *NativeError) Unwrap() error { return e.Err }

// Invoke is the innermost attempt: it calls the target's provider for the
// call's kind and records what the provider reported (usage, first byte).
func Invoke() Attempter {
	return AttempterFunc(invoke)
}

func invoke(ctx context.Context, c *Call, t *Target) (*Result, error) {
	p := t.Provider
	c.Outcome.Provider, c.Outcome.ServedModel = p.ID(), t.Model
	c.Outcome.UpstreamStart = time.Now()
	switch c.Kind {
	case KindChat:
		if c.NativeChat != nil {
			if nr := c.NativeChat(t); nr != nil {
				nt := *t
				nt.Native = nr
				return invokeNative(ctx, c, &nt)
			}
		}
		req, err := targetRequest(c.Chat, t)
		if err != nil {
			return nil, err
		}
		if req.Stream {
			return invokeStream(ctx, c, p, req)
		}
		resp, err := p.Chat(ctx, req)
		if err != nil {
			return nil, err
		}
		c.Outcome.FirstByte = time.Now()
		if resp.Usage != nil {
			c.Outcome.Usage, c.Outcome.UsageKnown = *resp.Usage, true
		}
		return &Result{Chat: resp}, nil
	case KindEmbed:
		e, ok := p.(provider.Embedder)
		if !ok {
			return nil, gwerr.BadRequest("model", "provider %s has no embeddings endpoint", p.ID())
		}
		req := *c.Embed
		req.Model = t.Model
		resp, err := e.Embed(ctx, &req)
		if err != nil {
			return nil, err
		}
		c.Outcome.FirstByte = time.Now()
		if resp.Usage != nil {
			c.Outcome.Usage, c.Outcome.UsageKnown = *resp.Usage, true
		}
		return &Result{Embed: resp}, nil
	case KindNative, KindUniversal:
		return invokeNative(ctx, c, t)
	}
	return nil, gwerr.Internal(fmt.Errorf("call kind %v cannot be invoked", c.Kind))
}

// targetRequest returns the request to send to t: a shallow copy of the
// client's request with the target's model and parameter overrides.
func targetRequest(in *llm.ChatRequest, t *Target) (*llm.ChatRequest, error) {
	req := *in
	req.Model = t.Model
	if len(t.Params) == 0 {
		return &req, nil
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding request: %w", err))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, gwerr.Internal(fmt.Errorf("decoding request: %w", err))
	}
	for k, v := range t.Params {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, gwerr.Internal(fmt.Errorf("encoding parameter %s: %w", k, err))
		}
		m[k] = raw
	}
	b, err = json.Marshal(m)
	if err != nil {
		return nil, gwerr.Internal(fmt.Errorf("encoding request: %w", err))
	}
	var out llm.ChatRequest
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, gwerr.BadRequest("", "target parameters for %s make an invalid request: %v", t.Model, err)
	}
	return &out, nil
}

// invokeStream starts a stream and waits for its first event, so that a
// provider failing before it has said anything can still be retried or
// fallen back from; nothing has reached the client yet.
func invokeStream(ctx context.Context, c *Call, p provider.Provider, req *llm.ChatRequest) (*Result, error) {
	s, err := p.ChatStream(ctx, req)
	if err != nil {
		return nil, err
	}
	first, err := s.Recv()
	if err != nil && err != io.EOF {
		s.Close()
		return nil, err
	}
	c.Outcome.FirstByte = time.Now()
	// the first chunk is replayed by the wrapper itself, not by one more
	// layer that every later Recv would pass through
	return &Result{Stream: &hookedStream{Stream: s, first: first, eof: err == io.EOF, hooks: []StreamHooks{{OnChunk: func(ch *llm.ChatChunk) {
		if ch.Usage != nil {
			c.Outcome.Usage, c.Outcome.UsageKnown = *ch.Usage, true
		}
	}}}}}, nil
}

// maxUsageScan bounds how much of a native response is kept to read usage
// from; larger responses pass through with usage unknown.
const maxUsageScan = 8 << 20

func invokeNative(ctx context.Context, c *Call, t *Target) (*Result, error) {
	p := t.Provider
	fw, ok := p.(provider.Forwarder)
	if !ok {
		return nil, gwerr.BadRequest("", "provider %s does not accept native requests", p.ID())
	}
	resp, err := fw.Forward(ctx, t.Native)
	if err != nil {
		return nil, gwerr.FromTransport(p.ID(), err)
	}
	c.Outcome.FirstByte = time.Now()
	streaming := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") ||
		strings.Contains(resp.Header.Get("Content-Type"), "eventstream")
	nr := &NativeResponse{Status: resp.StatusCode, Header: resp.Header, Body: resp.Body, Streaming: streaming}
	if resp.StatusCode >= 400 {
		ge := gwerr.Upstream(resp.StatusCode, "", "", fmt.Sprintf("provider %s returned status %d", p.ID(), resp.StatusCode))
		ge.RetryAfter = provider.RetryAfter(resp.Header)
		return nil, &NativeError{Response: nr, Err: ge}
	}
	if ur, ok := p.(provider.UsageReader); ok {
		path := t.Native.Path
		var buf []byte
		tooLarge := false
		nr.Body = WrapBody(resp.Body, BodyHooks{
			OnRead: func(b []byte) {
				if tooLarge {
					return
				}
				if len(buf)+len(b) > maxUsageScan {
					tooLarge, buf = true, nil
					return
				}
				buf = append(buf, b...)
			},
			OnDone: func(err error) {
				if err != nil || tooLarge || len(buf) == 0 {
					return
				}
				if u, model, ok := ur.NativeUsage(path, buf, streaming); ok {
					c.Outcome.Usage, c.Outcome.UsageKnown = u, true
					if model != "" {
						c.Outcome.ServedModel = model
					}
				}
			},
		})
	}
	return &Result{Native: nr}, nil
}
