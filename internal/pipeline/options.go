package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
)

// Backoff schedules.
const (
	BackoffConstant    = "constant"
	BackoffLinear      = "linear"
	BackoffExponential = "exponential"
)

// Options are the per-request x-aig-* headers (also accepted as cf-aig-*),
// parsed and validated. Zero values mean "not sent".
type Options struct {
	CacheTTL    time.Duration
	CacheTTLSet bool
	SkipCache   bool
	CacheKey    string

	// Metadata is a flat object of string, float64 and bool values.
	Metadata map[string]any

	RequestTimeout time.Duration
	MaxAttempts    int
	RetryDelay     time.Duration
	RetryDelaySet  bool
	Backoff        string

	// NoLog and NoLogPayload come from x-aig-collect-log(-payload): false.
	NoLog        bool
	NoLogPayload bool

	CustomCost *CustomCost
	EventID    string
}

// CustomCost overrides the pricing table for one request, in USD per token.
type CustomCost struct {
	PerTokenIn  float64 `json:"per_token_in"`
	PerTokenOut float64 `json:"per_token_out"`
}

// OptionLimits bound what clients may ask for.
type OptionLimits struct {
	// MaxMetadataEntries bounds x-aig-metadata (default 16).
	MaxMetadataEntries int
	// MaxAttempts bounds x-aig-max-attempts (default 10).
	MaxAttempts int
}

// Header returns the value of x-aig-NAME, or of cf-aig-NAME when the first
// is absent. name is lower case without prefix, e.g. "cache-ttl".
func Header(h http.Header, name string) string {
	if v := h.Get("x-aig-" + name); v != "" {
		return v
	}
	return h.Get("cf-aig-" + name)
}

// ParseOptions reads the x-aig-* headers. Every bad value is a 400 that
// names the header.
func ParseOptions(h http.Header, lim OptionLimits) (Options, error) {
	if lim.MaxMetadataEntries <= 0 {
		lim.MaxMetadataEntries = 16
	}
	if lim.MaxAttempts <= 0 {
		lim.MaxAttempts = 10
	}
	var o Options
	if !hasGatewayHeaders(h) {
		// the common case: nothing to parse, and no allocation for it
		return o, nil
	}
	if v := Header(h, "cache-ttl"); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return o, badHeader("cache-ttl", "must be a whole number of seconds")
		}
		o.CacheTTL, o.CacheTTLSet = time.Duration(n)*time.Second, true
	}
	if v := Header(h, "skip-cache"); v != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return o, badHeader("skip-cache", "must be true or false")
		}
		o.SkipCache = b
	}
	o.CacheKey = Header(h, "cache-key")
	if len(o.CacheKey) > 512 {
		return o, badHeader("cache-key", "must be at most 512 characters")
	}
	if v := Header(h, "metadata"); v != "" {
		md, err := parseMetadata(v, lim.MaxMetadataEntries)
		if err != nil {
			return o, badHeader("metadata", err.Error())
		}
		o.Metadata = md
	}
	if v := Header(h, "request-timeout"); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n <= 0 || n > 24*3600*1000 {
			return o, badHeader("request-timeout", "must be a positive number of milliseconds")
		}
		o.RequestTimeout = time.Duration(n) * time.Millisecond
	}
	if v := Header(h, "max-attempts"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > lim.MaxAttempts {
			return o, badHeader("max-attempts", fmt.Sprintf("must be a whole number from 1 to %d", lim.MaxAttempts))
		}
		o.MaxAttempts = n
	}
	if v := Header(h, "retry-delay"); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 0 || n > 600_000 {
			return o, badHeader("retry-delay", "must be a number of milliseconds from 0 to 600000")
		}
		o.RetryDelay, o.RetryDelaySet = time.Duration(n)*time.Millisecond, true
	}
	if v := Header(h, "backoff"); v != "" {
		switch v = strings.ToLower(strings.TrimSpace(v)); v {
		case BackoffConstant, BackoffLinear, BackoffExponential:
			o.Backoff = v
		default:
			return o, badHeader("backoff", "must be constant, linear or exponential")
		}
	}
	var err error
	if o.NoLog, err = parseFalse(h, "collect-log"); err != nil {
		return o, err
	}
	if o.NoLogPayload, err = parseFalse(h, "collect-log-payload"); err != nil {
		return o, err
	}
	if v := Header(h, "custom-cost"); v != "" {
		var cc CustomCost
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cc); err != nil || cc.PerTokenIn < 0 || cc.PerTokenOut < 0 ||
			math.IsNaN(cc.PerTokenIn) || math.IsNaN(cc.PerTokenOut) {
			return o, badHeader("custom-cost", `must be {"per_token_in":USD,"per_token_out":USD} with non-negative numbers`)
		}
		o.CustomCost = &cc
	}
	o.EventID = Header(h, "event-id")
	if len(o.EventID) > 256 {
		return o, badHeader("event-id", "must be at most 256 characters")
	}
	return o, nil
}

// hasGatewayHeaders reports whether h holds any x-aig-* or cf-aig-*
// header, in the canonical form that Header looks up.
func hasGatewayHeaders(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(k, "X-Aig-") || strings.HasPrefix(k, "Cf-Aig-") {
			return true
		}
	}
	return false
}

// parseFalse reads a boolean header whose only effect is when it is false.
func parseFalse(h http.Header, name string) (bool, error) {
	v := Header(h, name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, badHeader(name, "must be true or false")
	}
	return !b, nil
}

func badHeader(name, msg string) error {
	return gwerr.BadRequest("x-aig-"+name, "invalid x-aig-%s header: %s", name, msg)
}

// parseMetadata decodes a flat JSON object of scalars.
func parseMetadata(v string, max int) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader([]byte(v)))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("must be a JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("must be a single JSON object")
	}
	if len(raw) > max {
		return nil, fmt.Errorf("has %d entries, at most %d are allowed", len(raw), max)
	}
	md := make(map[string]any, len(raw))
	for k, val := range raw {
		if k == "" || len(k) > 128 {
			return nil, fmt.Errorf("keys must be 1 to 128 characters")
		}
		switch x := val.(type) {
		case string:
			if len(x) > 1024 {
				return nil, fmt.Errorf("value of %q is longer than 1024 characters", k)
			}
			md[k] = x
		case bool:
			md[k] = x
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return nil, fmt.Errorf("value of %q is not a valid number", k)
			}
			md[k] = f
		default:
			return nil, fmt.Errorf("value of %q must be a string, number or boolean", k)
		}
	}
	return md, nil
}
