// Package gwerr defines the gateway's one error type and renders it in each
// ingress format.
//
// An *Error is created where a failure happens (a bad header, a policy
// refusal, a provider's error response, a dial failure) and rendered once, at
// the edge, in the format the client speaks. Messages never carry secrets,
// URLs with credentials, or stack traces.
package gwerr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Kind says whose fault a failure is; it drives logging and retry decisions.
type Kind uint8

const (
	// KindCaller is bad input from the client.
	KindCaller Kind = iota + 1
	// KindPolicy is a refusal by a gateway policy (auth, limit, budget, guardrail).
	KindPolicy
	// KindProvider is an error reported by or while reaching a provider.
	KindProvider
	// KindGateway is a fault in the gateway itself.
	KindGateway
)

func (k Kind) String() string {
	switch k {
	case KindCaller:
		return "caller"
	case KindPolicy:
		return "policy"
	case KindProvider:
		return "provider"
	case KindGateway:
		return "gateway"
	}
	return "unknown"
}

// OpenAI error types.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuthentication = "authentication_error"
	TypePermission     = "permission_error"
	TypeNotFound       = "not_found_error"
	TypeRateLimit      = "rate_limit_error"
	TypeAPI            = "api_error"
	TypeTimeout        = "timeout_error"
)

// Error is a gateway error with everything needed to render and classify it.
type Error struct {
	Kind    Kind
	Status  int
	Type    string // OpenAI error type vocabulary
	Code    string
	Param   string
	Message string

	// Retryable marks failures worth another attempt (429, 5xx, network).
	Retryable bool
	// RetryAfter is the provider's or limiter's hint, zero when unknown.
	RetryAfter time.Duration
	// Header carries response headers to send with the error (rate-limit state).
	Header http.Header

	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Cause)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// New returns an error of the given kind and status; the type follows from
// the status.
func New(kind Kind, status int, format string, args ...any) *Error {
	return &Error{Kind: kind, Status: status, Type: TypeForStatus(status), Message: fmt.Sprintf(format, args...)}
}

// BadRequest is a 400 about the named parameter (may be empty).
func BadRequest(param, format string, args ...any) *Error {
	e := New(KindCaller, http.StatusBadRequest, format, args...)
	e.Param = param
	return e
}

// Unauthorized is a 401.
func Unauthorized(format string, args ...any) *Error {
	return New(KindPolicy, http.StatusUnauthorized, format, args...)
}

// Forbidden is a 403.
func Forbidden(format string, args ...any) *Error {
	return New(KindPolicy, http.StatusForbidden, format, args...)
}

// NotFound is a 404.
func NotFound(code, format string, args ...any) *Error {
	e := New(KindCaller, http.StatusNotFound, format, args...)
	e.Code = code
	return e
}

// TooLarge is a 413.
func TooLarge(limit int64) *Error {
	e := New(KindCaller, http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", limit)
	e.Code = "request_too_large"
	return e
}

// RateLimited is a 429 from a gateway policy.
func RateLimited(code string, retryAfter time.Duration, format string, args ...any) *Error {
	e := New(KindPolicy, http.StatusTooManyRequests, format, args...)
	e.Code = code
	e.RetryAfter = retryAfter
	return e
}

// Internal is a 500 for a gateway fault; the cause is logged, not shown.
func Internal(cause error) *Error {
	return &Error{Kind: KindGateway, Status: http.StatusInternalServerError, Type: TypeAPI,
		Message: "internal gateway error", Cause: cause}
}

// Upstream is a provider's own error response.
func Upstream(status int, typ, code, message string) *Error {
	if typ == "" {
		typ = TypeForStatus(status)
	}
	if message == "" {
		message = fmt.Sprintf("provider returned status %d", status)
	}
	return &Error{
		Kind: KindProvider, Status: status, Type: typ, Code: code, Message: message,
		Retryable: status == http.StatusTooManyRequests || status >= 500,
	}
}

// FromTransport classifies an error from calling a provider: deadline → 504,
// client cancellation → 499, anything else (dial, TLS, reset) → 502. URLs are
// stripped so credentials in query strings never reach a message.
func FromTransport(provider string, err error) *Error {
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return &Error{Kind: KindProvider, Status: http.StatusGatewayTimeout, Type: TypeTimeout,
			Code: "upstream_timeout", Message: fmt.Sprintf("provider %s did not answer in time", provider),
			Retryable: true, Cause: err}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindCaller, Status: StatusClientClosed, Type: TypeAPI,
			Code: "client_closed", Message: "client closed the request", Cause: err}
	}
	return &Error{Kind: KindProvider, Status: http.StatusBadGateway, Type: TypeAPI,
		Code: "upstream_unreachable", Message: fmt.Sprintf("could not reach provider %s: %s", provider, errText(err)),
		Retryable: true, Cause: err}
}

// StatusClientClosed is nginx's 499, used in logs for requests the client
// abandoned; it is never sent to a client (there is none left).
const StatusClientClosed = 499

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func errText(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		if op.Err != nil {
			return op.Op + ": " + op.Err.Error()
		}
	}
	return err.Error()
}

// As converts any error to an *Error: gateway errors pass through, context
// errors become timeouts/cancellations, anything else is internal.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var ge *Error
	if errors.As(err, &ge) {
		return ge
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindProvider, Status: http.StatusGatewayTimeout, Type: TypeTimeout,
			Code: "timeout", Message: "request timed out", Retryable: true, Cause: err}
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindCaller, Status: StatusClientClosed, Type: TypeAPI,
			Code: "client_closed", Message: "client closed the request", Cause: err}
	}
	return Internal(err)
}

// TypeForStatus maps an HTTP status to OpenAI's error type vocabulary.
func TypeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return TypeAuthentication
	case status == http.StatusForbidden:
		return TypePermission
	case status == http.StatusNotFound:
		return TypeNotFound
	case status == http.StatusTooManyRequests:
		return TypeRateLimit
	case status == http.StatusGatewayTimeout || status == http.StatusRequestTimeout:
		return TypeTimeout
	case status >= 400 && status < 500:
		return TypeInvalidRequest
	}
	return TypeAPI
}
