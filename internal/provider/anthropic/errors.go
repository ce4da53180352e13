package anthropic

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// StatusOverloaded is Anthropic's 529: the API is temporarily overloaded.
const StatusOverloaded = 529

// errorTypes maps Anthropic's error types to an HTTP status (for errors
// that arrive inside a stream, which has no status of its own) and to
// OpenAI's type vocabulary.
var errorTypes = map[string]struct {
	status int
	openAI string
}{
	"invalid_request_error": {400, gwerr.TypeInvalidRequest},
	"authentication_error":  {401, gwerr.TypeAuthentication},
	"billing_error":         {402, gwerr.TypeInvalidRequest},
	"permission_error":      {403, gwerr.TypePermission},
	"not_found_error":       {404, gwerr.TypeNotFound},
	"request_too_large":     {413, gwerr.TypeInvalidRequest},
	"rate_limit_error":      {429, gwerr.TypeRateLimit},
	"api_error":             {500, gwerr.TypeAPI},
	"timeout_error":         {504, gwerr.TypeTimeout},
	"overloaded_error":      {StatusOverloaded, gwerr.TypeAPI},
}

// UpstreamError translates an Anthropic error response body with its HTTP
// status into a gateway error: the provider's status and message, OpenAI's
// error type, and Anthropic's own type as the code. status 0 (an error
// event inside a stream) takes the status that the type implies.
func UpstreamError(status int, body []byte, provider string) *gwerr.Error {
	typ, msg := ParseError(body)
	if status == 0 {
		status = 500
		if t, ok := errorTypes[typ]; ok {
			status = t.status
		}
	}
	if msg == "" {
		msg = fmt.Sprintf("provider %s returned status %d", provider, status)
	}
	e := gwerr.Upstream(status, errorTypes[typ].openAI, typ, msg)
	if status == StatusOverloaded {
		e.Retryable = true
	}
	return e
}

// ParseError extracts Anthropic's error type and message from an error
// body; other JSON error shapes and plain text are read as well as they
// can be, since proxies in front of the API answer in their own formats.
func ParseError(body []byte) (typ, msg string) {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &env) != nil {
		s := strings.TrimSpace(string(body))
		if strings.HasPrefix(s, "<") {
			return "", "" // an HTML error page from a proxy is no message for a client
		}
		if len(s) > 500 {
			s = s[:500]
		}
		return "", s
	}
	if len(env.Error) > 0 {
		var d ErrorDetail
		if json.Unmarshal(env.Error, &d) == nil && (d.Message != "" || d.Type != "") {
			return d.Type, d.Message
		}
		var s string
		if json.Unmarshal(env.Error, &s) == nil {
			return "", s
		}
	}
	return "", env.Message
}
