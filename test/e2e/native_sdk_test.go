package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// The tests in this file drive the real binary with the official openai-go
// SDK against the fakes of the providers that do not speak OpenAI's format
// (Gemini, Workers AI, Bedrock): whatever the upstream, an OpenAI client
// gets OpenAI answers, streamed or not, with tool calls that round-trip.

// nativeSuite names the models of one provider fake.
type nativeSuite struct {
	// prefix is the provider id ("google-ai-studio").
	prefix string
	// chat answers "Hello from fake: " + the last user text; tools calls
	// get_weather and then answers providertest.FakeWeather(result).
	chat, tools string
	// embed is an embeddings model; "" when the provider has none.
	embed string
	// embedDims is the length of the fake's vectors for embed.
	embedDims int
	// rateLimited is a model the fake answers with its 429 error.
	rateLimited string
	// broken is a model whose stream the fake cuts after its first event.
	broken string
}

func newSDK(g *Gateway) openai.Client {
	return openai.NewClient(
		option.WithBaseURL(g.URL+"/v1"),
		option.WithAPIKey("unused-in-unauthenticated-mode"),
		option.WithMaxRetries(0),
	)
}

func (s nativeSuite) run(t *testing.T, g *Gateway) {
	t.Run("chat", func(t *testing.T) { s.chatTest(t, g) })
	t.Run("stream", func(t *testing.T) { s.streamTest(t, g) })
	t.Run("tool round trip", func(t *testing.T) { s.toolTest(t, g, false) })
	t.Run("tool round trip streamed", func(t *testing.T) { s.toolTest(t, g, true) })
	t.Run("provider error", func(t *testing.T) { s.errorTest(t, g) })
	t.Run("stream cut mid-way", func(t *testing.T) { s.cutTest(t, g) })
	if s.embed != "" {
		t.Run("embeddings", func(t *testing.T) { s.embedTest(t, g) })
	}
}

func ctx30(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (s nativeSuite) chatTest(t *testing.T, g *Gateway) {
	client := newSDK(g)
	var hdr http.Header
	resp, err := client.Chat.Completions.New(ctx30(t), openai.ChatCompletionNewParams{
		Model: s.prefix + "/" + s.chat,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("be brief"),
			openai.UserMessage("hello gateway"),
		},
		Temperature: openai.Float(0.5),
		MaxTokens:   openai.Int(64),
	}, captureHeaders(&hdr))
	if err != nil {
		t.Fatalf("chat: %v\n%s", err, g.Logs())
	}
	if got := resp.Choices[0].Message.Content; got != "Hello from fake: hello gateway" {
		t.Errorf("content = %q", got)
	}
	if resp.Choices[0].FinishReason != "stop" {
		t.Errorf("finish_reason = %q", resp.Choices[0].FinishReason)
	}
	if resp.Usage.PromptTokens == 0 || resp.Usage.CompletionTokens == 0 || resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
		t.Errorf("usage = %+v", resp.Usage)
	}
	if resp.Object != "chat.completion" || resp.ID == "" {
		t.Errorf("object %q id %q", resp.Object, resp.ID)
	}
	if hdr.Get("x-aig-provider") != s.prefix || hdr.Get("x-aig-model") != s.chat {
		t.Errorf("x-aig-provider %q x-aig-model %q", hdr.Get("x-aig-provider"), hdr.Get("x-aig-model"))
	}
}

// captureHeaders records the response headers of an SDK call.
func captureHeaders(h *http.Header) option.RequestOption {
	return option.WithMiddleware(func(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		resp, err := next(r)
		if resp != nil {
			*h = resp.Header.Clone()
		}
		return resp, err
	})
}

func (s nativeSuite) streamTest(t *testing.T, g *Gateway) {
	client := newSDK(g)
	stream := client.Chat.Completions.NewStreaming(ctx30(t), openai.ChatCompletionNewParams{
		Model:         s.prefix + "/" + s.chat,
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
		t.Fatalf("stream: %v\n%s", err, g.Logs())
	}
	if events < 4 {
		t.Errorf("only %d events: the stream was not translated event by event", events)
	}
	if got := acc.Choices[0].Message.Content; got != "Hello from fake: stream me please" {
		t.Errorf("content = %q", got)
	}
	if acc.Choices[0].FinishReason != "stop" {
		t.Errorf("finish_reason = %q", acc.Choices[0].FinishReason)
	}
	if acc.Usage.TotalTokens == 0 || acc.Usage.CompletionTokens == 0 {
		t.Errorf("usage chunk missing though include_usage was set: %+v", acc.Usage)
	}
}

var weatherTool = openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
	Name:        "get_weather",
	Description: openai.String("Current weather of a city"),
	Strict:      openai.Bool(true),
	Parameters: openai.FunctionParameters{
		"type":                 "object",
		"properties":           map[string]any{"city": map[string]any{"type": "string"}},
		"required":             []string{"city"},
		"additionalProperties": false,
	},
})

// toolTest runs a complete tool-call round trip through the SDK: the
// model's call (id, name, arguments), the client's result under that id,
// and the final answer built from the result.
func (s nativeSuite) toolTest(t *testing.T, g *Gateway, stream bool) {
	client := newSDK(g)
	params := openai.ChatCompletionNewParams{
		Model:    s.prefix + "/" + s.tools,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")},
		Tools:    []openai.ChatCompletionToolUnionParam{weatherTool},
	}
	ask := func() openai.ChatCompletionChoice {
		if !stream {
			resp, err := client.Chat.Completions.New(ctx30(t), params)
			if err != nil {
				t.Fatalf("chat: %v\n%s", err, g.Logs())
			}
			return resp.Choices[0]
		}
		st := client.Chat.Completions.NewStreaming(ctx30(t), params)
		acc := openai.ChatCompletionAccumulator{}
		for st.Next() {
			acc.AddChunk(st.Current())
		}
		if err := st.Err(); err != nil {
			t.Fatalf("stream: %v\n%s", err, g.Logs())
		}
		return acc.Choices[0]
	}
	first := ask()
	if first.FinishReason != "tool_calls" || len(first.Message.ToolCalls) != 1 {
		t.Fatalf("first answer: finish %q, %d tool calls", first.FinishReason, len(first.Message.ToolCalls))
	}
	call := first.Message.ToolCalls[0]
	if call.ID == "" || call.Function.Name != "get_weather" || strings.ReplaceAll(call.Function.Arguments, " ", "") != `{"city":"Paris"}` {
		t.Fatalf("tool call = id %q name %q args %q", call.ID, call.Function.Name, call.Function.Arguments)
	}
	params.Messages = append(params.Messages, first.Message.ToParam(), openai.ToolMessage("sunny, 24C", call.ID))
	final := ask()
	if got := final.Message.Content; got != providertest.FakeWeather("sunny, 24C") {
		t.Errorf("final answer = %q", got)
	}
	if final.FinishReason != "stop" {
		t.Errorf("final finish_reason = %q", final.FinishReason)
	}
}

func (s nativeSuite) errorTest(t *testing.T, g *Gateway) {
	client := newSDK(g)
	_, err := client.Chat.Completions.New(ctx30(t), openai.ChatCompletionNewParams{
		Model:    s.prefix + "/" + s.rateLimited,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an API error", err)
	}
	if apiErr.StatusCode != 429 || apiErr.Type != "rate_limit_error" || !strings.Contains(apiErr.Message, "fake provider error 429") {
		t.Errorf("got %d %s %q", apiErr.StatusCode, apiErr.Type, apiErr.Message)
	}
}

// cutTest checks that an upstream stream that breaks after the response
// has started reaches the client as an error event, not as a silently
// shortened answer.
func (s nativeSuite) cutTest(t *testing.T, g *Gateway) {
	client := newSDK(g)
	stream := client.Chat.Completions.NewStreaming(ctx30(t), openai.ChatCompletionNewParams{
		Model:    s.prefix + "/" + s.broken,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("one two three four")},
	})
	for stream.Next() {
	}
	if err := stream.Err(); err == nil || !strings.Contains(err.Error(), "ended the stream before the answer was complete") {
		t.Errorf("stream error = %v, want the truncation reported", err)
	}
}

func (s nativeSuite) embedTest(t *testing.T, g *Gateway) {
	client := newSDK(g)
	for _, in := range [][]string{{"only one"}, {"a", "b", "c"}} {
		input := openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: in}
		if len(in) == 1 {
			input = openai.EmbeddingNewParamsInputUnion{OfString: openai.String(in[0])}
		}
		emb, err := client.Embeddings.New(ctx30(t), openai.EmbeddingNewParams{Model: s.prefix + "/" + s.embed, Input: input})
		if err != nil {
			t.Fatalf("embeddings: %v\n%s", err, g.Logs())
		}
		if len(emb.Data) != len(in) {
			t.Fatalf("%d vectors for %d inputs", len(emb.Data), len(in))
		}
		for i, d := range emb.Data {
			want := providertest.Vector(in[i], s.embedDims)
			if d.Index != int64(i) || len(d.Embedding) != len(want) || float32(d.Embedding[0]) != want[0] {
				t.Errorf("vector %d: index %d, %d dims, first %v want %v", i, d.Index, len(d.Embedding), d.Embedding[0], want[0])
			}
		}
	}
}

// startFake serves h on a loopback port for the test.
func startFake(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestGeminiThroughOpenAISDK(t *testing.T) {
	fake := providertest.NewGemini(providertest.Options{APIKey: "gemini-upstream-key"})
	g := StartGateway(t, GatewayOptions{Env: map[string]string{
		"GEMINI_API_KEY":  "gemini-upstream-key",
		"GEMINI_BASE_URL": startFake(t, fake),
	}})
	nativeSuite{prefix: "google-ai-studio", chat: "gemini-2.5-flash", tools: "tools", embed: "text-embedding-004", embedDims: 8, rateLimited: "error-429", broken: "break"}.run(t, g)
	t.Run("models", func(t *testing.T) {
		client := newSDK(g)
		page, err := client.Models.List(ctx30(t))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if !strings.Contains(strings.Join(ids, ","), "google-ai-studio/gemini-2.5-flash") {
			t.Errorf("models = %v", ids)
		}
	})
	for _, r := range fake.Requests() {
		if r.Header.Get("x-goog-api-key") != "gemini-upstream-key" {
			t.Errorf("%s reached the fake with key %q", r.Path, r.Header.Get("x-goog-api-key"))
		}
	}
}

func TestWorkersAIThroughOpenAISDK(t *testing.T) {
	fake := providertest.NewWorkersAI(providertest.Options{APIKey: "cf-upstream-token"})
	g := StartGateway(t, GatewayOptions{Env: map[string]string{
		"CLOUDFLARE_API_TOKEN":  "cf-upstream-token",
		"CLOUDFLARE_ACCOUNT_ID": "acc123",
		"WORKERS_AI_BASE_URL":   startFake(t, fake),
	}})
	nativeSuite{prefix: "workers-ai", chat: "@cf/meta/llama-3.1-8b-instruct", tools: "@cf/fake/tools", embed: "@cf/baai/bge-base-en-v1.5", embedDims: 8, rateLimited: "@cf/fake/error-429", broken: "@cf/fake/break"}.run(t, g)
	for _, r := range fake.Requests() {
		if !strings.HasPrefix(r.Path, "/run/@cf/") || r.Header.Get("Authorization") != "Bearer cf-upstream-token" {
			t.Errorf("%s reached the fake with %q", r.Path, r.Header.Get("Authorization"))
		}
	}
}

// TestWorkersAIOpenAICompatibleEndpoint configures api_path: /v1, which
// sends the unified API to Workers AI's OpenAI-compatible endpoint.
func TestWorkersAIOpenAICompatibleEndpoint(t *testing.T) {
	fake := providertest.NewWorkersAI(providertest.Options{APIKey: "cf-upstream-token"})
	g := StartGateway(t, GatewayOptions{
		Env: map[string]string{"FAKE_URL": startFake(t, fake)},
		Config: `
providers_from_env: false
providers:
  - id: workers-ai
    base_url: ${FAKE_URL}
    api_key: cf-upstream-token
    account_id: acc123
    api_path: /v1
`})
	s := nativeSuite{prefix: "workers-ai", chat: "@cf/meta/llama-3.1-8b-instruct"}
	t.Run("chat", func(t *testing.T) { s.chatTest(t, g) })
	t.Run("stream", func(t *testing.T) { s.streamTest(t, g) })
	if got := fake.Compat().Last().Path; got != "/v1/chat/completions" {
		t.Errorf("upstream path = %q", got)
	}
}

func TestBedrockThroughOpenAISDK(t *testing.T) {
	fake := providertest.NewBedrock(providertest.BedrockOptions{AccessKeyID: "AKIDE2E", SecretAccessKey: "e2e-secret-key-0123456789", Region: "eu-west-1"})
	g := StartGateway(t, GatewayOptions{Env: map[string]string{
		"AWS_ACCESS_KEY_ID":     "AKIDE2E",
		"AWS_SECRET_ACCESS_KEY": "e2e-secret-key-0123456789",
		"AWS_REGION":            "eu-west-1",
		"BEDROCK_BASE_URL":      startFake(t, fake),
	}})
	nativeSuite{prefix: "aws-bedrock", chat: "anthropic.claude-3-5-sonnet-20240620-v1:0", tools: "tools", rateLimited: "error-429", broken: "break"}.run(t, g)

	t.Run("JSON mode", func(t *testing.T) {
		client := newSDK(g)
		resp, err := client.Chat.Completions.New(ctx30(t), openai.ChatCompletionNewParams{
			Model:    "aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Ada")},
			ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &openai.ResponseFormatJSONSchemaParam{
				JSONSchema: openai.ResponseFormatJSONSchemaJSONSchemaParam{Name: "echo", Schema: map[string]any{"type": "object"}},
			}},
		})
		if err != nil {
			t.Fatalf("chat: %v", err)
		}
		if got := resp.Choices[0].Message.Content; got != `{"echo":"Ada"}` {
			t.Errorf("content = %q", got)
		}
	})
	for _, r := range fake.Requests() {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDE2E/") {
			t.Errorf("%s reached the fake with %q", r.Path, r.Header.Get("Authorization"))
		}
	}
	if fake.Served.Load() == 0 {
		t.Error("no request passed the fake's signature check")
	}
}

// TestNativePassthrough sends each provider's own format through
// /{provider}/{rest}: the gateway adds its credential (a signature for
// Bedrock) and passes the answer back unchanged, streams included.
func TestNativePassthrough(t *testing.T) {
	gem := providertest.NewGemini(providertest.Options{APIKey: "gemini-upstream-key"})
	wai := providertest.NewWorkersAI(providertest.Options{APIKey: "cf-upstream-token"})
	bed := providertest.NewBedrock(providertest.BedrockOptions{AccessKeyID: "AKIDE2E", SecretAccessKey: "e2e-secret-key-0123456789", Region: "eu-west-1"})
	g := StartGateway(t, GatewayOptions{Env: map[string]string{
		"GEMINI_API_KEY": "gemini-upstream-key", "GEMINI_BASE_URL": startFake(t, gem),
		"CLOUDFLARE_API_TOKEN": "cf-upstream-token", "CLOUDFLARE_ACCOUNT_ID": "acc123", "WORKERS_AI_BASE_URL": startFake(t, wai),
		"AWS_ACCESS_KEY_ID": "AKIDE2E", "AWS_SECRET_ACCESS_KEY": "e2e-secret-key-0123456789", "AWS_REGION": "eu-west-1", "BEDROCK_BASE_URL": startFake(t, bed),
	}})
	for _, tc := range []struct {
		name, path, body, wantCT, wantIn string
	}{
		{"gemini", "/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent",
			`{"contents":[{"role":"user","parts":[{"text":"native gemini"}]}]}`, "application/json", "Hello from fake: native gemini"},
		{"gemini stream", "/google-ai-studio/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
			`{"contents":[{"role":"user","parts":[{"text":"native stream"}]}]}`, "text/event-stream", `"text":"stream"`},
		{"workers-ai", "/workers-ai/@cf/meta/llama-3.1-8b-instruct",
			`{"messages":[{"role":"user","content":"native workers"}]}`, "application/json", "Hello from fake: native workers"},
		{"bedrock", "/aws-bedrock/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse",
			`{"messages":[{"role":"user","content":[{"text":"native bedrock"}]}]}`, "application/json", "Hello from fake: native bedrock"},
		{"bedrock stream", "/aws-bedrock/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
			`{"messages":[{"role":"user","content":[{"text":"native bedrock stream"}]}]}`, "application/vnd.amazon.eventstream", `"text":"bedrock "`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(g.URL+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantCT) || !strings.Contains(string(raw), tc.wantIn) {
				t.Fatalf("status %d, %s: %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw, g.Logs())
			}
		})
	}
	if got := wai.Last().Path; got != "/run/@cf/meta/llama-3.1-8b-instruct" {
		t.Errorf("workers-ai passthrough reached %q", got)
	}
}
