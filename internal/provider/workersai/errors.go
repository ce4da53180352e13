package workersai

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// statusBadGateway is the status of errors reported inside a stream or
// in a success:false envelope under status 200.
const statusBadGateway = 502

// parseError translates a Cloudflare API error,
// {"success":false,"errors":[{"code":5006,"message":"…"}]}, keeping the
// HTTP status; the first error's code becomes the error code. Bodies of
// another shape ({"error":"…"} from some model errors, or plain text) are
// carried as the message.
func parseError(status int, body []byte) *gwerr.Error {
	var env struct {
		Errors []cfError       `json:"errors"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil {
		if len(env.Errors) > 0 {
			return cfErrorsToGW(status, env.Errors)
		}
		var s string
		if json.Unmarshal(env.Error, &s) == nil && s != "" {
			return gwerr.Upstream(status, "", "", s)
		}
		var obj cfError
		if json.Unmarshal(env.Error, &obj) == nil && obj.Message != "" {
			return cfErrorsToGW(status, []cfError{obj})
		}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if msg == "" || strings.HasPrefix(msg, "<") {
		msg = fmt.Sprintf("provider returned status %d", status)
	}
	return gwerr.Upstream(status, "", "", msg)
}

func cfErrorsToGW(status int, errs []cfError) *gwerr.Error {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		if e.Message != "" {
			msgs = append(msgs, e.Message)
		}
	}
	code := strings.Trim(string(errs[0].Code), `"`)
	if code == "null" {
		code = ""
	}
	return gwerr.Upstream(status, "", code, strings.Join(msgs, "; "))
}
