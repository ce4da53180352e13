package workersai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

const token = "cf-token-123456"

func newTestAdapter(t *testing.T, apiPath string) (*Adapter, *providertest.WorkersAI) {
	t.Helper()
	fake := providertest.NewWorkersAI(providertest.Options{APIKey: token})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := New(provider.Spec{ID: "workers-ai", BaseURL: srv.URL, APIKey: token, APIPath: apiPath, StreamUsage: true, Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Adapter), fake
}

func chatReq(model string, msgs ...llm.Message) *llm.ChatRequest {
	return &llm.ChatRequest{Model: model, Messages: msgs}
}

func user(s string) llm.Message { return llm.Message{Role: llm.RoleUser, Content: llm.TextContent(s)} }

func collect(t *testing.T, s llm.Stream) (*llm.ChatResponse, error) {
	t.Helper()
	defer s.Close()
	var acc llm.Accumulator
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return acc.Response(), nil
		}
		if err != nil {
			return acc.Response(), err
		}
		acc.Add(c)
	}
}

func ask(t *testing.T, a *Adapter, req *llm.ChatRequest, stream bool) *llm.ChatResponse {
	t.Helper()
	if !stream {
		resp, err := a.Chat(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	s, err := a.ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestChatNativeAndCompat(t *testing.T) {
	for _, apiPath := range []string{"", "/v1"} {
		for _, stream := range []bool{false, true} {
			name := map[string]string{"": "native", "/v1": "openai-compatible"}[apiPath] + map[bool]string{false: "", true: " stream"}[stream]
			t.Run(name, func(t *testing.T) {
				a, fake := newTestAdapter(t, apiPath)
				resp := ask(t, a, chatReq("@cf/meta/llama-3.1-8b-instruct", user("hi there")), stream)
				if got := resp.Choices[0].Message.Content.Text(); got != "Hello from fake: hi there" {
					t.Errorf("content = %q", got)
				}
				if resp.Usage == nil || resp.Usage.TotalTokens == 0 || resp.Choices[0].FinishReason != "stop" {
					t.Errorf("usage %+v finish %q", resp.Usage, resp.Choices[0].FinishReason)
				}
				last := fake.Last()
				if apiPath != "" {
					last = fake.Compat().Last()
				}
				wantPath := "/run/@cf/meta/llama-3.1-8b-instruct"
				if apiPath != "" {
					wantPath = "/v1/chat/completions"
				}
				if last.Path != wantPath || last.Header.Get("Authorization") != "Bearer "+token {
					t.Errorf("upstream saw %s with %q", last.Path, last.Header.Get("Authorization"))
				}
			})
		}
	}
}

func TestStreamCutMidwayIsAnError(t *testing.T) {
	a, _ := newTestAdapter(t, "")
	s, err := a.ChatStream(context.Background(), chatReq("@cf/fake/break", user("one two three")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = collect(t, s)
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusBadGateway {
		t.Fatalf("err = %v, want a 502 gateway error", err)
	}
}

func TestToolRoundTrip(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "stream"}[stream], func(t *testing.T) {
			a, fake := newTestAdapter(t, "")
			req := chatReq("@cf/fake/tools", user("weather in Paris?"))
			req.Tools = []llm.Tool{{Type: "function", Function: llm.FunctionSpec{Name: "get_weather",
				Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}}
			first := ask(t, a, req, stream).Choices[0]
			if first.FinishReason != "tool_calls" || len(first.Message.ToolCalls) != 1 {
				t.Fatalf("first answer = %+v", first)
			}
			tc := first.Message.ToolCalls[0]
			if tc.ID == "" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` {
				t.Fatalf("tool call = %+v", tc)
			}
			req.Messages = append(req.Messages, first.Message, llm.Message{Role: llm.RoleTool, ToolCallID: tc.ID, Content: llm.TextContent("sunny, 24C")})
			final := ask(t, a, req, stream)
			if got := final.Choices[0].Message.Content.Text(); got != providertest.FakeWeather("sunny, 24C") {
				t.Errorf("final answer = %q", got)
			}
			var sent runRequest
			if err := json.Unmarshal(fake.Last().Body, &sent); err != nil {
				t.Fatal(err)
			}
			if m := sent.Messages[2]; m.Role != "tool" || m.ToolCallID != tc.ID || m.Name != "get_weather" {
				t.Errorf("tool message sent as %+v", m)
			}
		})
	}
}

func TestEmbed(t *testing.T) {
	for _, apiPath := range []string{"", "/v1"} {
		a, fake := newTestAdapter(t, apiPath)
		resp, err := a.Embed(context.Background(), &llm.EmbedRequest{Model: "@cf/baai/bge-base-en-v1.5", Input: json.RawMessage(`["a","b"]`)})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Data) != 2 || resp.Data[1].Index != 1 {
			t.Fatalf("%d vectors", len(resp.Data))
		}
		var v []float32
		if err := json.Unmarshal(resp.Data[1].Embedding, &v); err != nil || v[0] != providertest.Vector("b", 8)[0] {
			t.Errorf("vector %s", resp.Data[1].Embedding)
		}
		if apiPath == "" {
			if got := string(fake.Last().Body); got != `{"text":["a","b"]}` {
				t.Errorf("native embeddings body = %s", got)
			}
		}
	}
	a, _ := newTestAdapter(t, "")
	d := 4
	if _, err := a.Embed(context.Background(), &llm.EmbedRequest{Model: "@cf/baai/bge-base-en-v1.5", Input: json.RawMessage(`"x"`), Dimensions: &d}); err == nil {
		t.Error("dimensions accepted though the native models have fixed sizes")
	}
}

func TestUpstreamErrors(t *testing.T) {
	a, _ := newTestAdapter(t, "")
	for _, tc := range []struct {
		model     string
		status    int
		retryable bool
	}{
		{"@cf/fake/error-429", 429, true}, {"@cf/fake/error-400", 400, false}, {"@cf/fake/error-500", 500, true},
	} {
		_, err := a.Chat(context.Background(), chatReq(tc.model, user("x")))
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != tc.status || ge.Retryable != tc.retryable || !strings.Contains(ge.Message, "fake provider error") {
			t.Errorf("%s: err = %#v", tc.model, err)
		}
	}
	_, err := a.Chat(context.Background(), &llm.ChatRequest{Model: "@cf/meta/x", Messages: []llm.Message{user("x")}, Stop: llm.Stop{"END"}})
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != 400 || ge.Param != "stop" {
		t.Errorf("stop: %v", err)
	}
}

func TestFakeRejectsUnknownMembers(t *testing.T) {
	fake := providertest.NewWorkersAI(providertest.Options{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/run/@cf/meta/m", "application/json", strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestForward(t *testing.T) {
	a, fake := newTestAdapter(t, "")
	body := []byte(`{"messages":[{"role":"user","content":"native"}]}`)
	for _, tc := range []struct {
		name, path, wantPath, wantAuth string
		header                         http.Header
		wantStatus                     int
	}{
		{"model path runs it", "/@cf/meta/llama-3.1-8b-instruct", "/run/@cf/meta/llama-3.1-8b-instruct", "Bearer " + token, http.Header{}, 200},
		{"hf model", "/@hf/nousresearch/hermes", "/run/@hf/nousresearch/hermes", "Bearer " + token, http.Header{}, 200},
		{"other paths below base", "/run/@cf/meta/m", "/run/@cf/meta/m", "Bearer " + token, http.Header{}, 200},
		{"caller token kept", "/@cf/meta/m", "/run/@cf/meta/m", "Bearer other", http.Header{"Authorization": {"Bearer other"}}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := a.Forward(context.Background(), &provider.NativeRequest{Method: "POST", Path: tc.path, Header: tc.header, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d: %s", resp.StatusCode, raw)
			}
			last := fake.Last()
			if last.Path != tc.wantPath || last.Header.Get("Authorization") != tc.wantAuth {
				t.Errorf("upstream %s auth %q", last.Path, last.Header.Get("Authorization"))
			}
			if resp.StatusCode == 200 {
				u, model, ok := a.NativeUsage(tc.path, raw, false)
				if !ok || u.TotalTokens == 0 || !strings.HasPrefix(model, "@") {
					t.Errorf("native usage %+v %q %v", u, model, ok)
				}
			}
		})
	}
}

func TestNativeUsageStream(t *testing.T) {
	a, _ := newTestAdapter(t, "")
	b, _ := readFixture("testdata/streams/text.sse")
	u, model, ok := a.NativeUsage("/@cf/meta/llama-3.1-8b-instruct", b, true)
	if !ok || u.TotalTokens != 16 || model != "@cf/meta/llama-3.1-8b-instruct" {
		t.Errorf("usage %+v %q %v", u, model, ok)
	}
}
