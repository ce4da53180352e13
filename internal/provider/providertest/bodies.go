package providertest

import (
	"encoding/json"
	"strings"
)

// ChatBody returns an OpenAI chat completion request body for benchmarks
// and load tests: a system and a user message, the user's padded with
// words to about promptBytes (a short question when 0).
func ChatBody(model string, promptBytes int, stream bool) []byte {
	text := "Say hello."
	if promptBytes > 0 {
		// words, so that token counts and tokenizers see text
		text = strings.Repeat("lorem ipsum dolor sit amet ", promptBytes/27+1)[:promptBytes]
	}
	req := map[string]any{
		"model": model,
		"messages": []map[string]string{
			{"role": "system", "content": "You are a helpful assistant."},
			{"role": "user", "content": text},
		},
		"max_tokens": 256,
	}
	if stream {
		req["stream"] = true
	}
	b, _ := json.Marshal(req)
	return b
}
