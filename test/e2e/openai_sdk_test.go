package e2e

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// openAIUpstream serves a fake OpenAI upstream with o for the test and
// returns it with the OPENAI_* environment (key sk-upstream) that points
// the gateway at it; callers may add to the map.
func openAIUpstream(t *testing.T, o providertest.Options) (*providertest.Fake, map[string]string) {
	t.Helper()
	fake := providertest.NewFake(o)
	return fake, map[string]string{"OPENAI_API_KEY": "sk-upstream", "OPENAI_BASE_URL": startFake(t, fake) + "/v1"}
}

// startWithFakeOpenAI runs the binary in zero-config mode with OPENAI_* env
// pointing at a fake upstream, as a new user would.
func startWithFakeOpenAI(t *testing.T) (*Gateway, *providertest.Fake) {
	t.Helper()
	fake, env := openAIUpstream(t, providertest.Options{APIKey: "sk-upstream"})
	return StartGateway(t, GatewayOptions{Env: env}), fake
}

// sdkClient is the official OpenAI SDK pointed at the gateway's /v1, as an
// unauthenticated caller, without retries.
func sdkClient(g *Gateway) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(g.URL+"/v1"),
		option.WithAPIKey("unused-in-unauthenticated-mode"),
		option.WithMaxRetries(0),
	)
}

func TestOpenAISDKChat(t *testing.T) {
	g, fake := startWithFakeOpenAI(t)
	client := sdkClient(g)
	ctx := ctx30(t)

	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hello gateway")},
	})
	if err != nil {
		t.Fatalf("chat: %v\n%s", err, g.Logs())
	}
	if got := resp.Choices[0].Message.Content; got != "Hello from fake: hello gateway" {
		t.Errorf("content = %q", got)
	}
	if resp.Usage.TotalTokens == 0 {
		t.Error("usage missing")
	}
	if auth := fake.Last().Header.Get("Authorization"); auth != "Bearer sk-upstream" {
		t.Errorf("upstream saw Authorization %q; the client's key must not be forwarded", auth)
	}
}

func TestOpenAISDKChatStream(t *testing.T) {
	g, _ := startWithFakeOpenAI(t)
	client := sdkClient(g)
	ctx := ctx30(t)

	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:         "openai/gpt-4o-mini",
		Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("stream me please")},
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	acc := openai.ChatCompletionAccumulator{}
	events := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		events++
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if events < 3 {
		t.Errorf("only %d events: the stream was not forwarded event by event", events)
	}
	if got := acc.Choices[0].Message.Content; got != "Hello from fake: stream me please" {
		t.Errorf("content = %q", got)
	}
	if acc.Usage.TotalTokens == 0 {
		t.Error("usage chunk missing though include_usage was set")
	}
}

func TestOpenAISDKEmbeddingsAndModels(t *testing.T) {
	g, _ := startWithFakeOpenAI(t)
	client := sdkClient(g)
	ctx := ctx30(t)

	emb, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "openai/text-embedding-3-small",
		Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
	})
	if err != nil {
		t.Fatalf("embeddings: %v", err)
	}
	if len(emb.Data) != 2 || len(emb.Data[0].Embedding) != 8 {
		t.Errorf("embeddings = %d vectors", len(emb.Data))
	}

	wantModel(t, g, "openai/gpt-4o-mini")
}

func TestOpenAISDKErrors(t *testing.T) {
	g, _ := startWithFakeOpenAI(t)
	client := sdkClient(g)
	ctx := ctx30(t)

	cases := []struct {
		model  string
		status int
		typ    string
		inMsg  string
	}{
		{"nosuch/model", http.StatusNotFound, "not_found_error", "GET /v1/models"},
		{"no-slash", http.StatusNotFound, "not_found_error", "GET /v1/models"},
		{"openai/error-429", http.StatusTooManyRequests, "rate_limit_error", "fake provider error 429"},
		{"openai/error-503", http.StatusServiceUnavailable, "api_error", "fake provider error 503"},
	}
	for _, c := range cases {
		_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:    c.model,
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
		})
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) {
			t.Errorf("%s: error %v is not an API error", c.model, err)
			continue
		}
		if apiErr.StatusCode != c.status || apiErr.Type != c.typ || !strings.Contains(apiErr.Message, c.inMsg) {
			t.Errorf("%s: got %d %s %q, want %d %s containing %q", c.model, apiErr.StatusCode, apiErr.Type, apiErr.Message, c.status, c.typ, c.inMsg)
		}
	}
}

// startWithSlowStreams is startWithFakeOpenAI with 100 ms between events.
func startWithSlowStreams(t *testing.T) (*Gateway, *providertest.Fake) {
	t.Helper()
	fake, env := openAIUpstream(t, providertest.Options{ChunkDelay: 100 * time.Millisecond})
	return StartGateway(t, GatewayOptions{Env: env}), fake
}
