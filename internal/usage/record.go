// Package usage owns what the gateway records about each request: the log
// record, token counts (the provider's, or an offline estimate where it
// reported none), the pricing table and the cost arithmetic shared with
// budgets, the vocabulary of log queries and analytics, and the async,
// batched writer that takes records off the request path.
//
// Two pipeline stages live here: Meter (tokens and cost, just outside the
// router, so it sees only calls that reached a provider) and RequestLog
// (outermost, so it sees every outcome and writes after a stream ends).
package usage

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/aigateway/aigateway/internal/llm"
)

// Record is one request as the gateway logged it. Its id is the
// x-aig-log-id the client received.
type Record struct {
	ID      string `json:"id"`
	EventID string `json:"event_id,omitempty"`
	// CreatedAt is when the gateway received the request.
	CreatedAt time.Time `json:"created_at"`
	// DurationMS is the total latency: request received to answer complete
	// (for a stream, its last event).
	DurationMS int64 `json:"duration_ms"`
	// UpstreamMS is the serving attempt's time at the provider, from
	// sending the request to the end of the answer; nil without one.
	UpstreamMS *int64 `json:"upstream_ms,omitempty"`
	// TTFTMS is the time to first token: request received to the first
	// byte (or stream event) from the provider; nil without one.
	TTFTMS *int64 `json:"ttft_ms,omitempty"`

	KeyID    string         `json:"key_id,omitempty"`
	KeyName  string         `json:"key_name,omitempty"`
	Tenant   string         `json:"tenant,omitempty"`
	User     string         `json:"user,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`

	// Ingress is the API the client called (openai, anthropic,
	// passthrough, universal); Method and Path are its HTTP request line.
	Ingress string `json:"ingress"`
	Method  string `json:"method"`
	Path    string `json:"path"`
	// Kind is chat, embeddings, native or universal.
	Kind   string `json:"kind"`
	Stream bool   `json:"stream"`

	// Provider served (or was last tried); Model is what the client asked
	// for, ServedModel the provider's own name for what answered.
	Provider    string `json:"provider,omitempty"`
	Model       string `json:"model,omitempty"`
	ServedModel string `json:"served_model,omitempty"`
	// Route is the dynamic route and the branches it took
	// ("support/default/canary"), when a route chose the model.
	Route string `json:"route,omitempty"`

	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`

	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// CachedTokens are input tokens the provider served from its prompt
	// cache (a part of InputTokens).
	CachedTokens int64 `json:"cached_tokens"`
	// Estimated marks token counts the gateway estimated with its own
	// tokenizer because the provider reported none.
	Estimated bool    `json:"tokens_estimated"`
	CostUSD   float64 `json:"cost_usd"`

	CacheStatus string `json:"cache_status,omitempty"`
	Step        int    `json:"step"`
	Attempts    int    `json:"attempts"`
	ClientIP    string `json:"client_ip,omitempty"`

	// RequestBody and ResponseBody are kept when payload collection is on,
	// each capped (Truncated says a cap cut one). A streamed answer is
	// kept as the complete response it adds up to.
	RequestBody  string `json:"request_body,omitempty"`
	ResponseBody string `json:"response_body,omitempty"`
	Truncated    bool   `json:"payload_truncated,omitempty"`

	// Feedback is -1 (thumbs down), 0 (neutral) or 1 (thumbs up); Score is
	// 0–100; both nil until someone gives feedback.
	Feedback *int     `json:"feedback,omitempty"`
	Score    *float64 `json:"score,omitempty"`
	Comment  string   `json:"comment,omitempty"`

	// pending holds what is serialised off the request path, by Finalize.
	pending *payload
}

// payload is a record's bodies before serialisation: the request bytes and
// the response as bytes (native, captured) or as a value to encode.
type payload struct {
	cap      int
	request  []byte
	response []byte
	value    any
	// remask, when set (guardrails masked the prompt), puts the
	// placeholders back into the response.
	remask func(string) string
}

// Finalize serialises the record's pending bodies (JSON encoding, capping).
// The writer calls it off the request path; it is a no-op when done.
func (r *Record) Finalize() {
	p := r.pending
	if p == nil {
		return
	}
	r.pending = nil
	req, t1 := capText(p.request, p.cap)
	resp := p.response
	if acc, ok := p.value.(*llm.Accumulator); ok {
		p.value = acc.Response()
	}
	if p.value != nil {
		if b, err := encodeJSON(p.value); err == nil {
			resp = b
		}
	}
	if p.remask != nil && len(resp) > 0 {
		resp = []byte(p.remask(string(resp)))
	}
	// resp is the record's own (encoded here, or captured for it) and
	// never written again: the record keeps it without a copy.
	n, t2 := capLen(resp, p.cap)
	out := ""
	if n > 0 {
		out = unsafe.String(&resp[0], n)
	}
	r.RequestBody, r.ResponseBody = req, out
	r.Truncated = r.Truncated || t1 || t2
}

// encodeJSON encodes v. A value that encodes itself (the llm responses do,
// byte for byte as json.Marshal does) skips json.Marshal's second pass
// over its output, as the ingresses do when they answer the client.
func encodeJSON(v any) ([]byte, error) {
	if m, ok := v.(json.Marshaler); ok {
		if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer || !rv.IsNil() {
			return m.MarshalJSON()
		}
	}
	return json.Marshal(v)
}

// capText returns b as a string of at most max bytes, cut at a UTF-8
// boundary, and whether it was cut.
func capText(b []byte, max int) (string, bool) {
	n, cut := capLen(b, max)
	return string(b[:n]), cut
}

// capLen is the length of b cut to at most max bytes at a UTF-8 boundary,
// and whether it was cut.
func capLen(b []byte, max int) (int, bool) {
	if max <= 0 || len(b) <= max {
		return len(b), false
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return cut, true
}

// FeedbackUpdate changes a record's feedback; nil fields stay as they are.
type FeedbackUpdate struct {
	Feedback *int     `json:"feedback"`
	Score    *float64 `json:"score"`
	Comment  *string  `json:"comment"`
}

// Status classes used by filters and analytics: a record is an error when
// its status is 400 or more, or when the answer broke after it started.
func (r *Record) IsError() bool { return r.Status >= 400 || r.Error != "" }

// CacheHit reports whether the gateway's cache answered.
func (r *Record) CacheHit() bool { return IsCacheHit(r.CacheStatus) }

// IsCacheHit reports whether a cache status means the cache answered.
func IsCacheHit(status string) bool { return status == "HIT" || status == "SEMANTIC_HIT" }

// Validate checks the ranges: feedback -1, 0 or 1; score 0 to 100; a
// comment of at most 4096 bytes.
func (f FeedbackUpdate) Validate() error {
	switch {
	case f.Feedback != nil && (*f.Feedback < -1 || *f.Feedback > 1):
		return fmt.Errorf("feedback must be -1 (thumbs down), 0 or 1 (thumbs up)")
	case f.Score != nil && !(*f.Score >= 0 && *f.Score <= 100):
		return fmt.Errorf("score must be from 0 to 100")
	case f.Comment != nil && len(*f.Comment) > 4096:
		return fmt.Errorf("comment must be at most 4096 bytes")
	case f.Feedback == nil && f.Score == nil && f.Comment == nil:
		return fmt.Errorf("give at least one of feedback, score and comment")
	}
	return nil
}
