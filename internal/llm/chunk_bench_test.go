package llm

import (
	"encoding/json"
	"testing"
)

// chunkBenchSamples are stream events in the shapes OpenAI sends: the
// role chunk, text deltas (one with escapes), tool-call deltas and the
// final usage chunk.
var chunkBenchSamples = map[string]string{
	"role":    `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"kq3N"}`,
	"text":    `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":" quick brown fox"},"logprobs":null,"finish_reason":null}],"usage":null}`,
	"escaped": `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":"\n\n\"Hello\", caf\u00e9"},"logprobs":null,"finish_reason":null}]}`,
	"tool":    `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"location\":\""}}]},"logprobs":null,"finish_reason":null}]}`,
	"usage":   `{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_06737a9306","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`,
}

// BenchmarkChatChunkUnmarshal is the decoding of one stream event, which
// OpenAI-format providers do for every event: impl=encoding-json is what
// the gateway did before (json.Unmarshal into the type without methods),
// impl=method what the OpenAI stream does now (UnmarshalJSON called
// directly), impl=json.Unmarshal a caller going through encoding/json,
// which validates the bytes before it calls the method. Compare with
// benchstat -col /impl.
func BenchmarkChatChunkUnmarshal(b *testing.B) {
	impls := []struct {
		name   string
		decode func([]byte) error
	}{
		{"encoding-json", func(d []byte) error { var c chatChunkJSON; return json.Unmarshal(d, &c) }},
		{"method", func(d []byte) error { var c ChatChunk; return c.UnmarshalJSON(d) }},
		{"json.Unmarshal", func(d []byte) error { var c ChatChunk; return json.Unmarshal(d, &c) }},
	}
	for _, shape := range []string{"role", "text", "escaped", "tool", "usage"} {
		data := []byte(chunkBenchSamples[shape])
		for _, impl := range impls {
			b.Run("shape="+shape+"/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					if err := impl.decode(data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
