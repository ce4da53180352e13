package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// statusBadGateway is the status of errors reported inside a stream.
const statusBadGateway = 502

// parseError translates a Gemini error response. The body is a Google API
// error, {"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}},
// or for some streaming calls a one-element array of it. The HTTP status is
// kept; Google's status name becomes the error code in lower case.
func parseError(status int, body []byte) *gwerr.Error {
	b := bytes.TrimSpace(body)
	var env struct {
		Error *apiError `json:"error"`
	}
	if len(b) > 0 && b[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(b, &list) == nil && len(list) > 0 {
			b = list[0]
		}
	}
	if json.Unmarshal(b, &env) != nil || env.Error == nil || env.Error.Message == "" {
		msg := strings.TrimSpace(string(truncate(body, 500)))
		if msg == "" || !json.Valid(body) && strings.HasPrefix(msg, "<") {
			msg = fmt.Sprintf("provider returned status %d", status)
		}
		return gwerr.Upstream(status, "", "", msg)
	}
	return apiErrorToGW(status, env.Error)
}

// apiErrorToGW converts a Google API error; fallback is the status used when
// the error carries no code (errors inside a stream).
func apiErrorToGW(fallback int, e *apiError) *gwerr.Error {
	status := fallback
	if e.Code >= 400 && e.Code <= 599 {
		status = e.Code
	}
	ge := gwerr.Upstream(status, "", strings.ToLower(e.Status), strings.TrimSpace(e.Message))
	for _, d := range e.Details {
		if strings.HasSuffix(d.Type, "google.rpc.RetryInfo") {
			if wait, err := time.ParseDuration(d.RetryDelay); err == nil && wait > 0 {
				ge.RetryAfter = wait
			}
		}
	}
	return ge
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
