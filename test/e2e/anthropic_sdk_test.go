package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	aoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"

	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// startWithFakeAnthropic runs the binary in zero-config mode with both
// providers' env pointing at fakes: ANTHROPIC_* at an Anthropic fake,
// OPENAI_* at an OpenAI fake.
func startWithFakeAnthropic(t *testing.T) (*Gateway, *providertest.Anthropic, *providertest.Fake) {
	g, af, of, _ := startWithFakeAnthropicURL(t)
	return g, af, of
}

func startWithFakeAnthropicURL(t *testing.T) (*Gateway, *providertest.Anthropic, *providertest.Fake, string) {
	t.Helper()
	af := providertest.NewAnthropic(providertest.Options{APIKey: "sk-ant-upstream"})
	au := httptest.NewServer(af)
	t.Cleanup(au.Close)
	of := providertest.NewFake(providertest.Options{APIKey: "sk-upstream"})
	ou := httptest.NewServer(of)
	t.Cleanup(ou.Close)
	g := StartGateway(t, GatewayOptions{Env: map[string]string{
		"ANTHROPIC_API_KEY":  "sk-ant-upstream",
		"ANTHROPIC_BASE_URL": au.URL,
		"OPENAI_API_KEY":     "sk-upstream",
		"OPENAI_BASE_URL":    ou.URL + "/v1",
	}})
	return g, af, of, au.URL
}

// wire captures what the Anthropic SDK sent and received, bytes as on the
// wire.
type wire struct {
	mu        sync.Mutex
	sent, got []byte
}

func (w *wire) middleware(req *http.Request, next aoption.MiddlewareNext) (*http.Response, error) {
	var sent []byte
	if req.Body != nil {
		sent, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(sent))
	}
	resp, err := next(req)
	if err != nil {
		return resp, err
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(got))
	w.mu.Lock()
	w.sent, w.got = sent, got
	w.mu.Unlock()
	return resp, nil
}

func anthropicClient(g *Gateway, mw ...aoption.Middleware) anthropic.Client {
	return anthropic.NewClient(
		aoption.WithoutEnvironmentDefaults(),
		aoption.WithBaseURL(g.URL),
		aoption.WithAPIKey("unused-in-unauthenticated-mode"),
		aoption.WithMaxRetries(0),
		aoption.WithMiddleware(mw...),
	)
}

var anthropicWeatherTool = anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
	Name:        "get_weather",
	Description: anthropic.String("Get the current weather in a city"),
	InputSchema: anthropic.ToolInputSchemaParam{
		Properties: map[string]any{"city": map[string]any{"type": "string"}},
		Required:   []string{"city"},
	},
}}

// messagesCall makes one Messages call, streamed or not; a streamed answer
// is accumulated with the SDK's own accumulator.
func messagesCall(t *testing.T, ctx context.Context, c anthropic.Client, stream bool, p anthropic.MessageNewParams) (*anthropic.Message, []string) {
	t.Helper()
	if !stream {
		m, err := c.Messages.New(ctx, p)
		if err != nil {
			t.Fatalf("messages: %v", err)
		}
		return m, nil
	}
	s := c.Messages.NewStreaming(ctx, p)
	defer s.Close()
	var m anthropic.Message
	var events []string
	for s.Next() {
		ev := s.Current()
		events = append(events, ev.Type)
		if err := m.Accumulate(ev); err != nil {
			t.Fatalf("accumulate %s: %v", ev.Type, err)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return &m, events
}

// TestAnthropicSDKOverOpenAI: the official Anthropic SDK on /v1/messages,
// served by an OpenAI-format provider, streamed and not, through a whole
// tool-call round trip.
func TestAnthropicSDKOverOpenAI(t *testing.T) {
	g, _, of := startWithFakeAnthropic(t)
	client := anthropicClient(g)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			m, events := messagesCall(t, ctx, client, stream, anthropic.MessageNewParams{
				Model:     "openai/gpt-4o-mini",
				MaxTokens: 100,
				System:    []anthropic.TextBlockParam{{Text: "be brief"}},
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hello gateway"))},
			})
			if len(m.Content) != 1 || m.Content[0].Text != "Hello from fake: hello gateway" || m.StopReason != anthropic.StopReasonEndTurn {
				t.Errorf("message = %s", m.RawJSON())
			}
			if m.Usage.InputTokens == 0 || m.Usage.OutputTokens == 0 {
				t.Errorf("usage = %+v", m.Usage)
			}
			if stream {
				if got := strings.Join(events, ","); !strings.HasPrefix(got, "message_start,content_block_start,content_block_delta") ||
					!strings.HasSuffix(got, "content_block_stop,message_delta,message_stop") {
					t.Errorf("events = %s", got)
				}
			}

			// tool round trip: the model calls, the client answers, the model answers
			params := anthropic.MessageNewParams{
				Model:     "openai/tools",
				MaxTokens: 200,
				Tools:     []anthropic.ToolUnionParam{anthropicWeatherTool},
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("weather in Paris?"))},
			}
			call, _ := messagesCall(t, ctx, client, stream, params)
			if call.StopReason != anthropic.StopReasonToolUse || len(call.Content) != 1 {
				t.Fatalf("tool call = %s", call.RawJSON())
			}
			tu := call.Content[0]
			if tu.Type != "tool_use" || tu.ID != "call_fake_1" || tu.Name != "get_weather" || string(tu.Input) != `{"city":"Paris"}` {
				t.Fatalf("tool_use = %s", tu.RawJSON())
			}
			params.Messages = append(params.Messages, call.ToParam(),
				anthropic.NewUserMessage(anthropic.NewToolResultBlock(tu.ID, "15 degrees, cloudy", false)))
			final, _ := messagesCall(t, ctx, client, stream, params)
			if len(final.Content) != 1 || final.Content[0].Text != providertest.FakeWeather("15 degrees, cloudy") || final.StopReason != anthropic.StopReasonEndTurn {
				t.Errorf("final answer = %s", final.RawJSON())
			}
			var sent struct {
				Messages []struct {
					Role       string `json:"role"`
					ToolCallID string `json:"tool_call_id"`
					ToolCalls  []struct {
						ID string `json:"id"`
					} `json:"tool_calls"`
				} `json:"messages"`
			}
			_ = json.Unmarshal(of.Last().Body, &sent)
			if n := len(sent.Messages); n != 3 || sent.Messages[1].ToolCalls[0].ID != "call_fake_1" || sent.Messages[2].ToolCallID != "call_fake_1" {
				t.Errorf("OpenAI upstream got %s", of.Last().Body)
			}
		})
	}
}

func TestAnthropicSDKErrors(t *testing.T) {
	g, _, _ := startWithFakeAnthropic(t)
	client := anthropicClient(g)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cases := []struct {
		model  string
		status int
		typ    string
	}{
		{"nosuch/model", 404, "not_found_error"},
		{"openai/error-429", 429, "rate_limit_error"},
		{"anthropic/error-529", 529, "overloaded_error"},
	}
	for _, c := range cases {
		_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: anthropic.Model(c.model), MaxTokens: 5,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("x"))}})
		var apiErr *anthropic.Error
		if !errors.As(err, &apiErr) {
			t.Errorf("%s: %v is not an API error", c.model, err)
			continue
		}
		if apiErr.StatusCode != c.status || string(apiErr.Type()) != c.typ || apiErr.Message == "" {
			t.Errorf("%s: got %d %s %q", c.model, apiErr.StatusCode, apiErr.Type(), apiErr.Message)
		}
	}
	// a stream that breaks after it started ends with the SDK seeing an error
	s := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: "openai/break", MaxTokens: 5,
		Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("a b c d"))}})
	for s.Next() {
	}
	if s.Err() == nil {
		t.Error("broken stream ended without an error")
	}
	s.Close()
}

// TestAnthropicSDKPassThrough: with an Anthropic provider behind
// /v1/messages, the SDK's request reaches it unchanged (but for the model
// name and the key) and its answer comes back byte for byte.
func TestAnthropicSDKPassThrough(t *testing.T) {
	g, af, _, antURL := startWithFakeAnthropicURL(t)
	var w wire
	client := anthropicClient(g, w.middleware)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			m, _ := messagesCall(t, ctx, client, stream, anthropic.MessageNewParams{
				Model:     "anthropic/thinking",
				MaxTokens: 2048,
				System:    []anthropic.TextBlockParam{{Text: "cached prefix", CacheControl: anthropic.NewCacheControlEphemeralParam()}},
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock("hi"))},
				Metadata:  anthropic.MetadataParam{UserID: anthropic.String("u-1")},
			})
			// translation would lose the thinking signature
			if len(m.Content) != 2 || m.Content[0].Type != "thinking" || m.Content[0].Signature != "sig_fake" || m.Content[1].Text != "Hello from fake: hi" {
				t.Errorf("message = %s", m.RawJSON())
			}
			up := af.Last()
			w.mu.Lock()
			sent, got := w.sent, w.got
			w.mu.Unlock()
			want := bytes.Replace(sent, []byte(`"anthropic/thinking"`), []byte(`"thinking"`), 1)
			if !bytes.Equal(up.Body, want) {
				t.Errorf("upstream body differs from the SDK's:\n%s\n%s", up.Body, want)
			}
			if up.Header.Get("x-api-key") != "sk-ant-upstream" || up.Header.Get("anthropic-version") == "" {
				t.Errorf("upstream x-api-key %q anthropic-version %q", up.Header.Get("x-api-key"), up.Header.Get("anthropic-version"))
			}
			// the fake answers this body with these bytes; so must the gateway
			req, _ := http.NewRequest("POST", antURL+"/v1/messages", bytes.NewReader(up.Body))
			req.Header = up.Header.Clone()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			direct, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !bytes.Equal(got, direct) {
				t.Errorf("response differs from the provider's:\n%s\n%s", got, direct)
			}
		})
	}
}

// openAIChat makes one chat completion, streamed or not; a streamed answer
// is accumulated with the SDK's own accumulator.
func openAIChat(t *testing.T, ctx context.Context, c openai.Client, stream bool, p openai.ChatCompletionNewParams) (openai.ChatCompletionMessage, string, int64) {
	t.Helper()
	if !stream {
		r, err := c.Chat.Completions.New(ctx, p)
		if err != nil {
			t.Fatalf("chat: %v", err)
		}
		return r.Choices[0].Message, r.Choices[0].FinishReason, r.Usage.TotalTokens
	}
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	s := c.Chat.Completions.NewStreaming(ctx, p)
	defer s.Close()
	acc := openai.ChatCompletionAccumulator{}
	for s.Next() {
		acc.AddChunk(s.Current())
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return acc.Choices[0].Message, acc.Choices[0].FinishReason, acc.Usage.TotalTokens
}

// TestOpenAISDKOverAnthropic: the official OpenAI SDK calling Claude (an
// Anthropic fake), streamed and not, through a whole tool-call round trip.
func TestOpenAISDKOverAnthropic(t *testing.T) {
	g, af, _ := startWithFakeAnthropic(t)
	client := sdkClient(g)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "json", true: "stream"}[stream], func(t *testing.T) {
			msg, finish, total := openAIChat(t, ctx, client, stream, openai.ChatCompletionNewParams{
				Model:    "anthropic/claude-sonnet-4-5",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage("hello claude")},
			})
			if msg.Content != "Hello from fake: hello claude" || finish != "stop" || total == 0 {
				t.Errorf("content %q finish %q total tokens %d", msg.Content, finish, total)
			}
			up := af.Last()
			if up.Header.Get("x-api-key") != "sk-ant-upstream" || up.Header.Get("anthropic-version") != "2023-06-01" {
				t.Errorf("upstream x-api-key %q anthropic-version %q", up.Header.Get("x-api-key"), up.Header.Get("anthropic-version"))
			}

			params := openai.ChatCompletionNewParams{
				Model:    "anthropic/tools",
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("weather in Paris?")},
				Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
					Name:        "get_weather",
					Description: openai.String("Get the current weather in a city"),
					Parameters:  openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
				})},
			}
			call, finish, _ := openAIChat(t, ctx, client, stream, params)
			if finish != "tool_calls" || len(call.ToolCalls) != 1 {
				t.Fatalf("finish %q tool calls %+v", finish, call.ToolCalls)
			}
			tc := call.ToolCalls[0]
			if tc.ID != "toolu_fake_1" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` || call.Content != "Let me check." {
				t.Fatalf("tool call %+v content %q", tc, call.Content)
			}
			params.Messages = append(params.Messages, call.ToParam(), openai.ToolMessage("15 degrees, cloudy", tc.ID))
			final, finish, _ := openAIChat(t, ctx, client, stream, params)
			if final.Content != providertest.FakeWeather("15 degrees, cloudy") || finish != "stop" {
				t.Errorf("final answer %q finish %q", final.Content, finish)
			}
			type turn struct {
				Role    string `json:"role"`
				Content []struct {
					Type      string          `json:"type"`
					ID        string          `json:"id"`
					ToolUseID string          `json:"tool_use_id"`
					Input     json.RawMessage `json:"input"`
				} `json:"content"`
			}
			var sent struct {
				Messages []json.RawMessage `json:"messages"`
			}
			var asst, res turn
			if json.Unmarshal(af.Last().Body, &sent) != nil || len(sent.Messages) != 3 ||
				json.Unmarshal(sent.Messages[1], &asst) != nil || json.Unmarshal(sent.Messages[2], &res) != nil {
				t.Fatalf("Anthropic upstream got %s", af.Last().Body)
			}
			if asst.Role != "assistant" || asst.Content[len(asst.Content)-1].ID != "toolu_fake_1" || string(asst.Content[len(asst.Content)-1].Input) != `{"city":"Paris"}` ||
				res.Role != "user" || res.Content[0].Type != "tool_result" || res.Content[0].ToolUseID != "toolu_fake_1" {
				t.Errorf("Anthropic upstream got %s", af.Last().Body)
			}
		})
	}
	_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "anthropic/error-529",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 529 || apiErr.Code != "overloaded_error" {
		t.Errorf("error = %v", err)
	}
}

// TestAnthropicThroughOpenAISDK runs the suite every native provider fake
// passes with the official OpenAI SDK: chat, stream, tool round trips,
// provider errors and a stream cut mid-way.
func TestAnthropicThroughOpenAISDK(t *testing.T) {
	g, af, _ := startWithFakeAnthropic(t)
	nativeSuite{prefix: "anthropic", chat: "claude-sonnet-4-5", tools: "tools", rateLimited: "error-429", broken: "break"}.run(t, g)
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
		if !strings.Contains(strings.Join(ids, ","), "anthropic/claude-sonnet-4-5") {
			t.Errorf("models = %v", ids)
		}
	})
	for _, r := range af.Requests() {
		if r.Header.Get("x-api-key") != "sk-ant-upstream" {
			t.Errorf("%s reached the fake with x-api-key %q", r.Path, r.Header.Get("x-api-key"))
		}
	}
}

// TestAnthropicNativePassthrough: /anthropic/{rest} forwards Anthropic's
// own API unchanged, adding the gateway's key and a default
// anthropic-version when the caller sends neither.
func TestAnthropicNativePassthrough(t *testing.T) {
	g, af, _ := startWithFakeAnthropic(t)
	for _, tc := range []struct{ name, path, body, wantCT, wantIn string }{
		{"messages", "/anthropic/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"native"}]}`,
			"application/json", `"text":"Hello from fake: native"`},
		{"stream", "/anthropic/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"native stream"}]}`,
			"text/event-stream", "event: message_stop"},
		{"count tokens", "/anthropic/v1/messages/count_tokens", `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"count me"}]}`,
			"application/json", `"input_tokens"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Post(g.URL+tc.path, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantCT) || !strings.Contains(string(raw), tc.wantIn) {
				t.Fatalf("status %d, %s: %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), raw, g.Logs())
			}
			up := af.Last()
			if string(up.Body) != tc.body || up.Header.Get("x-api-key") != "sk-ant-upstream" || up.Header.Get("anthropic-version") != "2023-06-01" {
				t.Errorf("upstream got %s with key %q version %q", up.Body, up.Header.Get("x-api-key"), up.Header.Get("anthropic-version"))
			}
		})
	}
}
