package bedrock

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// parseError translates a Bedrock error response: the status, the error
// type from the x-amzn-errortype header (errType, "ValidationException:
// http://…") or the body's __type, and the body's message
// ({"message":"…"}, also spelled "Message").
func parseError(status int, errType string, body []byte) *gwerr.Error {
	var env struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
		Type     string `json:"__type"`
	}
	_ = json.Unmarshal(body, &env)
	code := errType
	if code == "" {
		code = env.Type
	}
	code = errorCode(code)
	msg := env.Message
	if msg == "" {
		msg = env.Message2
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 500 {
			msg = msg[:500]
		}
		if msg == "" || strings.HasPrefix(msg, "<") || strings.HasPrefix(msg, "{") {
			msg = fmt.Sprintf("provider returned status %d", status)
		}
	}
	return gwerr.Upstream(status, "", code, msg)
}

// errorCode shortens "ValidationException:http://internal…" and
// "com.amazon.coral.service#ValidationException" to "ValidationException".
func errorCode(s string) string {
	s, _, _ = strings.Cut(s, ":")
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// exceptionStatus is the HTTP status Bedrock gives each exception type,
// used for exceptions that arrive inside a stream.
var exceptionStatus = map[string]int{
	"validationException":           400,
	"accessDeniedException":         403,
	"resourceNotFoundException":     404,
	"throttlingException":           429,
	"modelNotReadyException":        429,
	"modelTimeoutException":         408,
	"modelStreamErrorException":     424,
	"modelErrorException":           424,
	"internalServerException":       500,
	"serviceUnavailableException":   503,
	"serviceQuotaExceededException": 429,
}

// exceptionError translates a stream exception message (its
// :exception-type and {"message":…} payload).
func exceptionError(typ string, payload []byte) *gwerr.Error {
	var p struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(payload, &p)
	msg := p.Message
	if msg == "" {
		msg = p.Message2
	}
	if msg == "" {
		msg = "provider reported " + typ
	}
	key := typ
	if key != "" {
		key = strings.ToLower(key[:1]) + key[1:]
	}
	status, ok := exceptionStatus[key]
	if !ok {
		status = 502
	}
	code := typ
	if code != "" {
		code = strings.ToUpper(code[:1]) + code[1:]
	}
	return gwerr.Upstream(status, "", code, msg)
}
