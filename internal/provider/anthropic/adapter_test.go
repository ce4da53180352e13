package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

const testKey = "sk-ant-test-key-0123456789"

func newTestAdapter(t *testing.T, spec provider.Spec) (*Adapter, *providertest.Anthropic) {
	t.Helper()
	fake := providertest.NewAnthropic(providertest.Options{APIKey: testKey})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	spec.ID, spec.APIKey = "anthropic", testKey
	if spec.BaseURL == "" {
		spec.BaseURL = srv.URL
	} else {
		spec.BaseURL = srv.URL + spec.BaseURL
	}
	p, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	a := p.(*Adapter)
	a.now = func() time.Time { return time.Unix(1700000000, 0) }
	return a, fake
}

func chatReq(model, text string) *llm.ChatRequest {
	return &llm.ChatRequest{Model: model, Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: llm.TextContent("be brief")},
		{Role: llm.RoleUser, Content: llm.TextContent(text)},
	}}
}

func TestChatSendsNativeRequest(t *testing.T) {
	a, fake := newTestAdapter(t, provider.Spec{Headers: map[string]string{"anthropic-beta": "prompt-caching-2024-07-31"}})
	resp, err := a.Chat(context.Background(), chatReq("claude-sonnet-4-5", "hello there"))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content.Text(); got != "Hello from fake: hello there" {
		t.Errorf("content = %q", got)
	}
	if resp.Choices[0].FinishReason != llm.FinishStop || resp.Usage == nil || resp.Usage.CompletionTokens == 0 {
		t.Errorf("finish %q usage %+v", resp.Choices[0].FinishReason, resp.Usage)
	}
	up := fake.Last()
	if up.Path != "/v1/messages" {
		t.Errorf("path = %s", up.Path)
	}
	for k, want := range map[string]string{"x-api-key": testKey, "anthropic-version": DefaultVersion,
		"anthropic-beta": "prompt-caching-2024-07-31", "Content-Type": "application/json"} {
		if got := up.Header.Get(k); got != want {
			t.Errorf("upstream %s = %q, want %q", k, got, want)
		}
	}
	if up.Header.Get("Authorization") != "" {
		t.Error("Authorization sent to Anthropic")
	}
	var sent map[string]any
	_ = json.Unmarshal(up.Body, &sent)
	if sent["system"] != "be brief" || sent["max_tokens"] != float64(DefaultMaxTokens) || sent["stream"] != nil {
		t.Errorf("upstream body = %s", up.Body)
	}
}

func TestAPIVersionAndBaseURLWithV1(t *testing.T) {
	a, fake := newTestAdapter(t, provider.Spec{APIVersion: "2024-01-01", BaseURL: "/v1/"})
	if _, err := a.Chat(context.Background(), chatReq("claude", "x")); err != nil {
		t.Fatal(err)
	}
	if up := fake.Last(); up.Path != "/v1/messages" || up.Header.Get("anthropic-version") != "2024-01-01" {
		t.Errorf("upstream %s with version %q", up.Path, up.Header.Get("anthropic-version"))
	}
	if a.MessagesPath() != "/messages" {
		t.Errorf("MessagesPath = %q for a base URL ending in /v1", a.MessagesPath())
	}
}

func TestChatToolUseAndThinking(t *testing.T) {
	a, _ := newTestAdapter(t, provider.Spec{})
	resp, err := a.Chat(context.Background(), chatReq("tools", "weather?"))
	if err != nil {
		t.Fatal(err)
	}
	m := resp.Choices[0].Message
	if len(m.ToolCalls) != 1 || m.ToolCalls[0].ID != "toolu_fake_1" || m.ToolCalls[0].Function.Arguments != `{"city":"Paris"}` {
		t.Errorf("tool calls = %+v", m.ToolCalls)
	}
	if resp.Choices[0].FinishReason != llm.FinishToolCalls {
		t.Errorf("finish = %q", resp.Choices[0].FinishReason)
	}
	resp, err = a.Chat(context.Background(), chatReq("thinking", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.ReasoningContent != providertest.FakeThinking {
		t.Errorf("reasoning = %q", resp.Choices[0].Message.ReasoningContent)
	}
}

func TestChatStream(t *testing.T) {
	for _, model := range []string{"claude-sonnet-4-5", "tools", "thinking", "cache"} {
		t.Run(model, func(t *testing.T) {
			a, _ := newTestAdapter(t, provider.Spec{})
			want, err := a.Chat(context.Background(), chatReq(model, "one two three"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := a.ChatStream(context.Background(), chatReq(model, "one two three"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var acc llm.Accumulator
			n := 0
			for {
				c, err := s.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				acc.Add(c)
				n++
			}
			got := acc.Response()
			got.Created, want.Created = 0, 0
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			if string(gj) != string(wj) {
				t.Errorf("streamed answer differs from the JSON answer:\n%s\n%s", gj, wj)
			}
			if n < 4 {
				t.Errorf("only %d chunks", n)
			}
		})
	}
}

func TestUpstreamErrors(t *testing.T) {
	cases := []struct {
		model     string
		status    int
		typ       string
		retryable bool
	}{
		{"error-400", 400, gwerr.TypeInvalidRequest, false},
		{"error-401", 401, gwerr.TypeAuthentication, false},
		{"error-404", 404, gwerr.TypeNotFound, false},
		{"error-429", 429, gwerr.TypeRateLimit, true},
		{"error-500", 500, gwerr.TypeAPI, true},
		{"error-529", 529, gwerr.TypeAPI, true},
	}
	a, _ := newTestAdapter(t, provider.Spec{})
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			for _, stream := range []bool{false, true} {
				var err error
				if stream {
					_, err = a.ChatStream(context.Background(), chatReq(c.model, "x"))
				} else {
					_, err = a.Chat(context.Background(), chatReq(c.model, "x"))
				}
				var ge *gwerr.Error
				if !errors.As(err, &ge) {
					t.Fatalf("error %v", err)
				}
				if ge.Status != c.status || ge.Type != c.typ || ge.Retryable != c.retryable || !strings.Contains(ge.Message, "fake provider error") {
					t.Errorf("stream=%v: got %d %s retryable=%v %q", stream, ge.Status, ge.Type, ge.Retryable, ge.Message)
				}
			}
		})
	}
}

func TestWrongKeyIsAuthenticationError(t *testing.T) {
	a, _ := newTestAdapter(t, provider.Spec{})
	a.key = "sk-wrong-key-value-000"
	_, err := a.Chat(context.Background(), chatReq("claude", "x"))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != 401 || ge.Type != gwerr.TypeAuthentication || ge.Code != "authentication_error" {
		t.Fatalf("got %+v", err)
	}
}

func TestSecretRedactedFromErrors(t *testing.T) {
	a, fake := newTestAdapter(t, provider.Spec{})
	fake.Enqueue(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		providertest.WriteAnthropicError(w, 400, "invalid_request_error", "bad key "+testKey)
		return true
	})
	_, err := a.Chat(context.Background(), chatReq("claude", "x"))
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Fatalf("error leaks the key: %v", err)
	}
}

func TestStreamFailures(t *testing.T) {
	a, _ := newTestAdapter(t, provider.Spec{})
	for model, wantStatus := range map[string]int{"stream-error": 529, "break": 502} {
		t.Run(model, func(t *testing.T) {
			s, err := a.ChatStream(context.Background(), chatReq(model, "a b c"))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for {
				_, err = s.Recv()
				if err != nil {
					break
				}
			}
			var ge *gwerr.Error
			if err == io.EOF || !errors.As(err, &ge) || ge.Status != wantStatus {
				t.Fatalf("stream ended with %v, want a %d error", err, wantStatus)
			}
			if _, again := s.Recv(); again != err {
				t.Errorf("Recv after failure = %v, want the same error", again)
			}
		})
	}
}

func TestStreamCancelledByContext(t *testing.T) {
	a, fake := newTestAdapter(t, provider.Spec{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := a.ChatStream(ctx, chatReq("hang", "x"))
		done <- err
	}()
	deadline := time.Now().Add(5 * time.Second)
	for len(fake.Requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("no error after cancel")
	}
	for fake.Cancelled.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if fake.Cancelled.Load() != 1 {
		t.Error("upstream request not cancelled")
	}
}

func TestListModels(t *testing.T) {
	a, _ := newTestAdapter(t, provider.Spec{})
	ms, err := a.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].ID != "anthropic/claude-sonnet-4-5" || ms[0].Created != time.Date(2025, 9, 29, 0, 0, 0, 0, time.UTC).Unix() {
		t.Errorf("models = %+v", ms)
	}
}

func TestForwardCredentials(t *testing.T) {
	a, fake := newTestAdapter(t, provider.Spec{})
	body := []byte(`{"model":"claude","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`)
	// no credential: the gateway's key and the default version are added
	resp, err := a.Forward(context.Background(), &provider.NativeRequest{Method: "POST", Path: "/v1/messages",
		Header: http.Header{"Content-Type": {"application/json"}}, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	up := fake.Last()
	if resp.StatusCode != 200 || up.Header.Get("x-api-key") != testKey || up.Header.Get("anthropic-version") != DefaultVersion || string(up.Body) != string(body) {
		t.Errorf("status %d, key %q, version %q, body %s", resp.StatusCode, up.Header.Get("x-api-key"), up.Header.Get("anthropic-version"), up.Body)
	}
	// the caller's own credential and version are kept
	resp, err = a.Forward(context.Background(), &provider.NativeRequest{Method: "POST", Path: "/v1/messages", RawQuery: "beta=true",
		Header: http.Header{"X-Api-Key": {"sk-caller"}, "Anthropic-Version": {"2026-10-21"}}, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	up = fake.Last()
	if resp.StatusCode != 401 || up.Header.Get("x-api-key") != "sk-caller" || up.Header.Get("anthropic-version") != "2026-10-21" || up.Query != "beta=true" {
		t.Errorf("status %d, key %q, version %q, query %q", resp.StatusCode, up.Header.Get("x-api-key"), up.Header.Get("anthropic-version"), up.Query)
	}
}

func TestReadUsage(t *testing.T) {
	u, model, ok := ReadUsage([]byte(`{"id":"msg_1","type":"message","model":"claude-x","usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":100,"cache_creation_input_tokens":20}}`), false)
	if !ok || model != "claude-x" || u.PromptTokens != 130 || u.CompletionTokens != 5 || u.TotalTokens != 135 || u.CachedTokens() != 100 || u.PromptTokensDetails.CacheWriteTokens != 20 {
		t.Errorf("JSON usage = %+v %q %v", u, model, ok)
	}
	if _, _, ok := ReadUsage([]byte(`{"input_tokens":12}`), false); ok {
		t.Error("count_tokens answer read as usage")
	}
	stream := "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-y\",\"usage\":{\"input_tokens\":7,\"output_tokens\":1,\"cache_read_input_tokens\":3}}}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":42}}\n\n"
	u, model, ok = ReadUsage([]byte(stream), true)
	if !ok || model != "claude-y" || u.PromptTokens != 10 || u.CompletionTokens != 42 || u.CachedTokens() != 3 {
		t.Errorf("stream usage = %+v %q %v", u, model, ok)
	}
}

func TestNewRejectsRelativeBaseURL(t *testing.T) {
	if _, err := New(provider.Spec{ID: "anthropic", BaseURL: "api.anthropic.com"}); err == nil {
		t.Error("relative base URL accepted")
	}
}

func TestProxyErrorPagesAreNotPassedOn(t *testing.T) {
	e := UpstreamError(502, []byte("<html><body>502 Bad Gateway</body></html>"), "anthropic")
	if e.Status != 502 || strings.Contains(e.Message, "<") || e.Message != "provider anthropic returned status 502" {
		t.Errorf("got %d %q", e.Status, e.Message)
	}
	e = UpstreamError(503, []byte("upstream connect error"), "anthropic")
	if e.Message != "upstream connect error" || !e.Retryable {
		t.Errorf("got %q retryable=%v", e.Message, e.Retryable)
	}
}
