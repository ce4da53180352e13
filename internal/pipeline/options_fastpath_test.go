package pipeline

import (
	"net/http"
	"testing"
	"time"
)

func TestParseOptionsFastPathAndSpellings(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Header
		want Options
	}{
		{"no gateway headers", http.Header{"Authorization": {"Bearer x"}, "X-Other": {"1"}}, Options{}},
		{"x-aig spelling", hdr("x-aig-request-timeout", "250"), Options{RequestTimeout: 250 * time.Millisecond}},
		{"cf-aig spelling", hdr("cf-aig-max-attempts", "3"), Options{MaxAttempts: 3}},
		{"x-aig wins over cf-aig", hdr("x-aig-event-id", "a", "cf-aig-event-id", "b"), Options{EventID: "a"}},
		{"collect-log false", hdr("cf-aig-collect-log", "false"), Options{NoLog: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOptions(tc.h, OptionLimits{})
			if err != nil {
				t.Fatal(err)
			}
			if got.RequestTimeout != tc.want.RequestTimeout || got.MaxAttempts != tc.want.MaxAttempts ||
				got.EventID != tc.want.EventID || got.NoLog != tc.want.NoLog || got.Metadata != nil {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	if _, err := ParseOptions(hdr("cf-aig-backoff", "sideways"), OptionLimits{}); err == nil {
		t.Error("a bad cf-aig-* value must be rejected")
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}
