package openai

import (
	"testing"

	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// benchBodies are the request bodies the hot-path benchmarks decode.
var benchBodies = []struct {
	name string
	body []byte
}{
	{"small", providertest.ChatBody("openai/gpt-4o-mini", 0, false)},
	{"tools", []byte(`{"model":"openai/gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful assistant."},` +
		`{"role":"user","content":"What is the weather in Paris?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"sunny, 21C"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather",` +
		`"parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":"auto","temperature":0.2,"logit_bias":{"50256":-100},"metadata":{"a":"b"}}`)},
	{"100KB", providertest.ChatBody("openai/gpt-4o-mini", 100<<10, false)},
}

// BenchmarkDecodeChat is ingress decode: body bytes to a validated
// canonical request.
func BenchmarkDecodeChat(b *testing.B) {
	for _, bb := range benchBodies {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				if _, err := DecodeChat(bb.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
