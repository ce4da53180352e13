package pipeline

import (
	"net/http"
	"testing"
)

// BenchmarkParseOptions is x-aig-* header parsing, once per request: with
// no gateway headers (the common case) and with every one of them.
func BenchmarkParseOptions(b *testing.B) {
	none := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer sk-x"}, "User-Agent": {"OpenAI/Python 1.50.0"}}
	all := none.Clone()
	for k, v := range map[string]string{
		"X-Aig-Cache-Ttl": "60", "X-Aig-Skip-Cache": "false", "X-Aig-Cache-Key": "k1",
		"X-Aig-Metadata": `{"user":"u1","team":"a","n":3,"beta":true}`, "X-Aig-Request-Timeout": "5000",
		"X-Aig-Max-Attempts": "3", "X-Aig-Retry-Delay": "100", "X-Aig-Backoff": "exponential",
		"X-Aig-Collect-Log": "true", "X-Aig-Custom-Cost": `{"per_token_in":0.000001,"per_token_out":0.000002}`,
		"X-Aig-Event-Id": "evt-1",
	} {
		all.Set(k, v)
	}
	for _, tc := range []struct {
		name string
		h    http.Header
	}{{"none", none}, {"all", all}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseOptions(tc.h, OptionLimits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
