package pipeline

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
)

func TestParseOptions(t *testing.T) {
	h := http.Header{}
	h.Set("x-aig-cache-ttl", "60")
	h.Set("cf-aig-skip-cache", "true")
	h.Set("x-aig-cache-key", "k1")
	h.Set("cf-aig-metadata", `{"team":"search","n":3,"beta":true}`)
	h.Set("x-aig-request-timeout", "1500")
	h.Set("x-aig-max-attempts", "3")
	h.Set("x-aig-retry-delay", "250")
	h.Set("x-aig-backoff", "Linear")
	h.Set("x-aig-collect-log", "false")
	h.Set("x-aig-collect-log-payload", "true")
	h.Set("x-aig-custom-cost", `{"per_token_in":0.000001,"per_token_out":0.000002}`)
	h.Set("x-aig-event-id", "ev-1")
	o, err := ParseOptions(h, OptionLimits{})
	if err != nil {
		t.Fatal(err)
	}
	if o.CacheTTL != time.Minute || !o.CacheTTLSet || !o.SkipCache || o.CacheKey != "k1" ||
		o.Metadata["team"] != "search" || o.Metadata["n"] != 3.0 || o.Metadata["beta"] != true ||
		o.RequestTimeout != 1500*time.Millisecond || o.MaxAttempts != 3 || o.RetryDelay != 250*time.Millisecond ||
		o.Backoff != BackoffLinear || !o.NoLog || o.NoLogPayload || o.CustomCost.PerTokenOut != 0.000002 || o.EventID != "ev-1" {
		t.Errorf("options = %+v", o)
	}
}

func TestParseOptionsErrorsNameTheHeader(t *testing.T) {
	cases := map[string]string{
		"cache-ttl":       "-5",
		"skip-cache":      "maybe",
		"metadata":        `{"a":[1]}`,
		"request-timeout": "0",
		"max-attempts":    "99",
		"retry-delay":     "x",
		"backoff":         "random",
		"collect-log":     "nope",
		"custom-cost":     `{"per_token_in":-1}`,
	}
	for name, val := range cases {
		h := http.Header{}
		h.Set("x-aig-"+name, val)
		_, err := ParseOptions(h, OptionLimits{})
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != 400 || ge.Param != "x-aig-"+name || !strings.Contains(ge.Message, name) {
			t.Errorf("%s=%s: %v", name, val, err)
		}
	}
	h := http.Header{}
	h.Set("x-aig-metadata", `{"a":1,"b":2,"c":3}`)
	if _, err := ParseOptions(h, OptionLimits{MaxMetadataEntries: 2}); err == nil {
		t.Error("metadata over the entry limit accepted")
	}
}

func FuzzParseOptions(f *testing.F) {
	f.Add(`{"a":"b"}`, "10", "3")
	f.Add(`{"a":1e999}`, "-1", "x")
	f.Add(`{}{}`, "", "")
	f.Fuzz(func(t *testing.T, metadata, ttl, attempts string) {
		h := http.Header{}
		h.Set("x-aig-metadata", metadata)
		h.Set("x-aig-cache-ttl", ttl)
		h.Set("x-aig-max-attempts", attempts)
		o, err := ParseOptions(h, OptionLimits{})
		if err != nil {
			var ge *gwerr.Error
			if !errors.As(err, &ge) || ge.Status != 400 {
				t.Fatalf("error is not a 400: %v", err)
			}
			return
		}
		if len(o.Metadata) > 16 {
			t.Fatalf("%d metadata entries accepted", len(o.Metadata))
		}
		for _, v := range o.Metadata {
			switch v.(type) {
			case string, float64, bool:
			default:
				t.Fatalf("metadata value of type %T", v)
			}
		}
	})
}
