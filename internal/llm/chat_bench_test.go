package llm

import (
	"encoding/json"
	"strings"
	"testing"
)

func benchRequestBody(prompt int) []byte {
	text := "Say hello."
	if prompt > 0 {
		text = strings.Repeat("lorem ipsum dolor sit amet ", prompt/27+1)[:prompt]
	}
	b, _ := json.Marshal(map[string]any{
		"model": "openai/gpt-4o-mini",
		"messages": []map[string]string{
			{"role": "system", "content": "You are a helpful assistant."},
			{"role": "user", "content": text},
		},
		"max_tokens": 256,
	})
	return b
}

// BenchmarkChatRequestUnmarshal is the canonical decode of a request body
// (known members plus Extra), the core of ingress decode.
func BenchmarkChatRequestUnmarshal(b *testing.B) {
	for _, tc := range []struct {
		name   string
		prompt int
	}{{"small", 0}, {"100KB", 100 << 10}} {
		body := benchRequestBody(tc.prompt)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var r ChatRequest
				if err := r.UnmarshalJSON(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkChatRequestMarshal is the canonical encode of a request.
func BenchmarkChatRequestMarshal(b *testing.B) {
	for _, tc := range []struct {
		name   string
		prompt int
	}{{"small", 0}, {"100KB", 100 << 10}} {
		var r ChatRequest
		if err := r.UnmarshalJSON(benchRequestBody(tc.prompt)); err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
