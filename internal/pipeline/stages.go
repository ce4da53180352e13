package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// Recover turns a panic anywhere below into a 500 and logs it with its stack
// (the stack goes to the operator's log, never to the client).
func Recover(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, c *Call) (res *Result, err error) {
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.Error("panic serving request", "log_id", c.ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					res, err = nil, gwerr.Internal(fmt.Errorf("panic: %v", v))
				}
			}()
			return next.Serve(ctx, c)
		})
	}
}

// DecodeConfig configures the decode stage.
type DecodeConfig struct {
	// MaxBodyBytes bounds request bodies (default 10 MiB).
	MaxBodyBytes int64
	Limits       OptionLimits
}

// Decode reads the body (bounded), parses the x-aig-* headers and lets the
// call's ingress decode the body into the canonical request.
func Decode(cfg DecodeConfig) Middleware {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 10 << 20
	}
	return func(next Handler) Handler {
		return HandlerFunc(func(ctx context.Context, c *Call) (*Result, error) {
			opts, err := ParseOptions(c.HTTP.Header, cfg.Limits)
			if err != nil {
				return nil, err
			}
			c.Options = opts
			if c.Body == nil && c.HTTP.Body != nil {
				body, err := ReadBody(c.HTTP, cfg.MaxBodyBytes)
				if err != nil {
					return nil, err
				}
				c.Body = body
			}
			if err := c.Ingress.Decode(c); err != nil {
				return nil, err
			}
			return next.Serve(ctx, c)
		})
	}
}

// ReadBody reads r's body up to max bytes; a larger body is a 413. A body
// of the declared length fills a buffer of exactly that size: the call
// keeps it for its whole life (a stream's too).
func ReadBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, gwerr.TooLarge(max)
	}
	var buf []byte
	if r.ContentLength > 0 {
		buf = make([]byte, 0, r.ContentLength)
	}
	buf, err := readAll(buf, io.LimitReader(r.Body, max+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, gwerr.TooLarge(max)
		}
		return nil, gwerr.BadRequest("", "could not read request body: %v", err)
	}
	if int64(len(buf)) > max {
		return nil, gwerr.TooLarge(max)
	}
	return buf, nil
}

// readAll appends what r holds to buf, like io.ReadAll. When buf is full
// it first reads one byte, so that a body exactly as long as declared
// ends without the buffer growing.
func readAll(buf []byte, r io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			var one [1]byte
			n, err := r.Read(one[:])
			buf = append(buf, one[:n]...)
			if err == io.EOF {
				return buf, nil
			}
			if err != nil {
				return buf, err
			}
			if len(buf) == cap(buf) {
				buf = append(buf, make([]byte, 512)...)[:len(buf)]
			}
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
