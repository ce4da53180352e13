package gwerr

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
)

// openAIBody is OpenAI's error envelope.
type openAIBody struct {
	Error openAIError `json:"error"`
}

type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// OpenAIJSON renders e as OpenAI's {"error":{...}} body.
func OpenAIJSON(e *Error) []byte {
	body := openAIBody{Error: openAIError{Message: e.Message, Type: e.Type}}
	if e.Param != "" {
		body.Error.Param = &e.Param
	}
	if e.Code != "" {
		body.Error.Code = &e.Code
	}
	b, _ := json.Marshal(body) // only strings: cannot fail
	return b
}

// anthropicBody is Anthropic's error envelope.
type anthropicBody struct {
	Type  string         `json:"type"`
	Error anthropicError `json:"error"`
}

type anthropicError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// AnthropicType maps a status to Anthropic's error type vocabulary.
func AnthropicType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request_error"
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case 529, http.StatusServiceUnavailable:
		return "overloaded_error"
	case http.StatusGatewayTimeout:
		return "timeout_error"
	}
	if status >= 400 && status < 500 {
		return "invalid_request_error"
	}
	return "api_error"
}

// AnthropicJSON renders e as Anthropic's {"type":"error","error":{...}} body.
func AnthropicJSON(e *Error) []byte {
	b, _ := json.Marshal(anthropicBody{Type: "error", Error: anthropicError{Type: AnthropicType(e.Status), Message: e.Message}})
	return b
}

// WriteHeaders sets the headers every rendered error carries: the error's
// own headers and Retry-After on 429/503 when a hint is known.
func WriteHeaders(h http.Header, e *Error) {
	for k, v := range e.Header {
		h[k] = v
	}
	if e.Status == http.StatusTooManyRequests || (e.RetryAfter > 0 && e.Status == http.StatusServiceUnavailable) {
		secs := int(math.Ceil(e.RetryAfter.Seconds()))
		if secs < 1 {
			secs = 1
		}
		h.Set("Retry-After", strconv.Itoa(secs))
	}
	h.Set("Content-Type", "application/json")
}

// ClientStatus is the status to send: 499 (client gone) is sent as 400 in
// the unlikely case that anyone is still listening.
func ClientStatus(e *Error) int {
	if e.Status == StatusClientClosed || e.Status < 400 || e.Status > 599 {
		if e.Status == StatusClientClosed {
			return http.StatusBadRequest
		}
		return http.StatusInternalServerError
	}
	return e.Status
}
