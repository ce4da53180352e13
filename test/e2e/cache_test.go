package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestOpenAISDKCachedReplay: with cf-aig-cache-ttl (zero-config has no
// cache rules), a repeated streamed request is replayed from the cache to
// the official SDK with the same content and usage, and a non-streamed one
// is answered from the same entry; the provider is called once.
func TestOpenAISDKCachedReplay(t *testing.T) {
	g, fake := startWithFakeOpenAI(t)
	client := sdkClient(g)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	params := openai.ChatCompletionNewParams{
		Model:         "openai/gpt-4o-mini",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("cache me if you can")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	ttl := option.WithHeader("cf-aig-cache-ttl", "60")
	stream := func() (string, int64, string) {
		var raw *http.Response
		s := client.Chat.Completions.NewStreaming(ctx, params, ttl, option.WithResponseInto(&raw))
		acc := openai.ChatCompletionAccumulator{}
		for s.Next() {
			acc.AddChunk(s.Current())
		}
		if err := s.Err(); err != nil {
			t.Fatalf("stream: %v\n%s", err, g.Logs())
		}
		return acc.Choices[0].Message.Content, acc.Usage.TotalTokens, raw.Header.Get("x-aig-cache-status")
	}
	text1, usage1, st1 := stream()
	// the client has read the whole stream before it asks again, so the
	// answer is stored or still held for late arrivals by its flight
	text2, usage2, st2 := stream()
	if st1 != "MISS" || st2 != "HIT" {
		t.Fatalf("cache statuses %q then %q", st1, st2)
	}
	if text1 != "Hello from fake: cache me if you can" || text2 != text1 || usage2 != usage1 || usage1 == 0 {
		t.Fatalf("replay %q (usage %d), original %q (usage %d)", text2, usage2, text1, usage1)
	}
	var raw *http.Response
	resp, err := client.Chat.Completions.New(ctx, params, ttl, option.WithResponseInto(&raw))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != text1 || raw.Header.Get("x-aig-cache-status") != "HIT" {
		t.Fatalf("non-streamed from the streamed entry: %q, %q", resp.Choices[0].Message.Content, raw.Header.Get("x-aig-cache-status"))
	}
	calls := 0
	for _, r := range fake.Requests() {
		if strings.HasSuffix(r.Path, "/chat/completions") {
			calls++
		}
	}
	if calls != 1 {
		t.Fatalf("provider called %d times, want 1", calls)
	}
}
