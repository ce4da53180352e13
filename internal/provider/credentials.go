package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CallerCredential reports whether a passthrough request carries the
// caller's own provider credential, which is then forwarded as is instead
// of the gateway's.
func CallerCredential(h http.Header, rawQuery string) bool {
	if h.Get("Authorization") != "" || h.Get("x-api-key") != "" ||
		h.Get("x-goog-api-key") != "" || h.Get("api-key") != "" {
		return true
	}
	if !strings.Contains(rawQuery, "key=") {
		return false
	}
	q, _ := url.ParseQuery(rawQuery)
	return q.Get("key") != ""
}

// RedactSecret replaces every occurrence of secret in s, so a provider
// echoing a credential back in an error never carries it further.
func RedactSecret(s, secret string) string {
	if len(secret) < 8 || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

// hopByHop are headers that describe one connection, not the message;
// a proxy never forwards them.
var hopByHop = []string{
	"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// CopyEndToEndHeaders copies src to dst without hop-by-hop headers and
// without headers named in src's Connection header.
func CopyEndToEndHeaders(dst, src http.Header) {
	var connNamed []string
	for _, v := range src["Connection"] {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				connNamed = append(connNamed, http.CanonicalHeaderKey(f))
			}
		}
	}
next:
	for k, vv := range src {
		for _, h := range hopByHop {
			if k == h {
				continue next
			}
		}
		for _, h := range connNamed {
			if k == h {
				continue next
			}
		}
		dst[k] = append(dst[k][:0:0], vv...)
	}
}

// RetryAfter reads a Retry-After header (seconds or HTTP date) or OpenAI's
// retry-after-ms; zero when absent or unparsable.
func RetryAfter(h http.Header) time.Duration {
	if v := h.Get("retry-after-ms"); v != "" {
		var ms float64
		if _, err := fmt.Sscanf(v, "%g", &ms); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	var secs float64
	if _, err := fmt.Sscanf(v, "%g", &secs); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
