package usage

import (
	"encoding/json"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
)

func TestEstimatorCountsWithOfflineVocabularies(t *testing.T) {
	e := NewEstimator()
	tests := []struct {
		model, text string
		want        int
	}{
		// Reference counts from OpenAI's tokenizer.
		{"gpt-4o", "hello world", 2},
		{"gpt-4o-mini", "The quick brown fox jumps over the lazy dog.", 10},
		{"gpt-4", "hello world", 2},
		{"gpt-3.5-turbo", "antidisestablishmentarianism", 6},
		{"gpt-4o", "antidisestablishmentarianism", 6},
		{"claude-sonnet-4-5", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.text, func(t *testing.T) {
			if got := e.Tokens(tt.model, tt.text); got != tt.want {
				t.Fatalf("Tokens = %d, want %d", got, tt.want)
			}
		})
	}
	if e.encodingFor("gpt-4-turbo") != e.cl100k || e.encodingFor("openai/gpt-4.1") != e.o200k ||
		e.encodingFor("text-embedding-3-small") != e.cl100k || e.encodingFor("claude-3-haiku") != e.o200k {
		t.Error("wrong vocabulary chosen")
	}
}

func TestEstimatorChatPrompt(t *testing.T) {
	e := NewEstimator()
	var req llm.ChatRequest
	if err := json.Unmarshal([]byte(`{"model":"gpt-4o","messages":[
		{"role":"system","content":"You are terse."},
		{"role":"user","content":"hello world"}]}`), &req); err != nil {
		t.Fatal(err)
	}
	got := e.ChatPrompt("gpt-4o", &req)
	// framing 3 per message + 3 for the reply, plus the text with roles
	text := e.Tokens("gpt-4o", "system\nYou are terse.\nuser\nhello world\n")
	if got != 3+2*3+text {
		t.Fatalf("ChatPrompt = %d, want %d", got, 3+2*3+text)
	}
	var emb llm.EmbedRequest
	_ = json.Unmarshal([]byte(`{"model":"text-embedding-3-small","input":["hello world","hello world"]}`), &emb)
	if got := e.Embedding("text-embedding-3-small", &emb); got != 4 {
		t.Fatalf("Embedding = %d, want 4", got)
	}
}
