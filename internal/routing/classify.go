package routing

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/routing/breaker"
)

// Classes is a set of failure classes: which failures move a call on to
// its next target.
type Classes uint16

// Failure classes; the names are config's fallback_on values.
const (
	RateLimit Classes = 1 << iota
	ServerError
	Timeout
	Connection
	ContentPolicy
	ContextLength
	Auth
	NotFound
	BadRequest
	AnyFailure Classes = 1<<iota - 1
)

var classNames = map[string]Classes{
	"rate_limit": RateLimit, "server_error": ServerError, "timeout": Timeout,
	"connection": Connection, "content_policy": ContentPolicy, "context_length": ContextLength,
	"auth": Auth, "not_found": NotFound, "bad_request": BadRequest, "any": AnyFailure,
}

// DefaultFallbackOn are the failures another deployment might not have.
const DefaultFallbackOn = RateLimit | ServerError | Timeout | Connection

// ParseClasses reads fallback_on names.
func ParseClasses(names []string) (Classes, error) {
	var c Classes
	for _, n := range names {
		v, ok := classNames[n]
		if !ok {
			return 0, fmt.Errorf("unknown failure class %q", n)
		}
		c |= v
	}
	return c, nil
}

// contentPolicyCodes are the error codes providers use for prompts or
// answers their content filter refused.
var contentPolicyCodes = map[string]bool{
	"content_filter": true, "content_policy_violation": true, "content_policy": true,
	"responsibleaipolicyviolation": true, "safety": true, "prohibited_content": true,
}

var contentPolicyPhrases = []string{"content management policy", "content policy", "content filter", "flagged by", "safety system"}

var contextLengthCodes = map[string]bool{
	"context_length_exceeded": true, "string_above_max_length": true, "context_window_exceeded": true,
}

var contextLengthPhrases = []string{
	"maximum context length", "context length", "context window", "prompt is too long",
	"input is too long", "too many tokens", "exceeds the maximum number of tokens", "reduce the length",
}

// classify returns the class of a failed attempt; 0 for failures that are
// not the provider's (the caller's own mistakes, the client going away,
// gateway faults), which never move on.
func classify(err error) Classes {
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Kind != gwerr.KindProvider {
		return 0
	}
	code := strings.ToLower(ge.Code)
	msg := strings.ToLower(ge.Message)
	switch {
	case ge.Status == http.StatusTooManyRequests:
		return RateLimit
	case ge.Type == gwerr.TypeTimeout || code == "upstream_timeout":
		return Timeout
	case code == "upstream_unreachable" || code == "invalid_upstream_response":
		return Connection
	case ge.Status >= 500:
		return ServerError
	case contextLengthCodes[code] || containsAny(msg, contextLengthPhrases):
		return ContextLength
	case contentPolicyCodes[code] || containsAny(msg, contentPolicyPhrases):
		return ContentPolicy
	case ge.Status == http.StatusUnauthorized || ge.Status == http.StatusForbidden:
		return Auth
	case ge.Status == http.StatusNotFound:
		return NotFound
	case ge.Status >= 400:
		return BadRequest
	}
	return 0
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// breakerOutcome says whether a failure counts against the deployment:
// server errors, timeouts and unreachable upstreams do; so does a 429 when
// the gateway's own credential was refused (routed calls). Everything
// specific to one request is ignored.
func breakerOutcome(err error, routed bool) breaker.Outcome {
	if err == nil {
		return breaker.Success
	}
	switch classify(err) {
	case ServerError, Timeout, Connection:
		return breaker.Failure
	case RateLimit:
		if routed {
			return breaker.Failure
		}
	}
	return breaker.Ignored
}
