package gemini

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

func newTestAdapter(t *testing.T) (*Adapter, *providertest.Gemini) {
	t.Helper()
	fake := providertest.NewGemini(providertest.Options{APIKey: "g-key-123456"})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p, err := New(provider.Spec{ID: "google-ai-studio", BaseURL: srv.URL, APIKey: "g-key-123456", Client: srv.Client()})
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

func TestChat(t *testing.T) {
	a, fake := newTestAdapter(t)
	resp, err := a.Chat(context.Background(), chatReq("gemini-2.5-flash", user("hi there")))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content.Text(); got != "Hello from fake: hi there" {
		t.Errorf("content = %q", got)
	}
	if resp.Usage == nil || resp.Usage.TotalTokens == 0 || resp.Choices[0].FinishReason != "stop" {
		t.Errorf("usage %+v finish %q", resp.Usage, resp.Choices[0].FinishReason)
	}
	last := fake.Last()
	if last.Path != "/v1beta/models/gemini-2.5-flash:generateContent" || last.Header.Get("x-goog-api-key") != "g-key-123456" {
		t.Errorf("upstream saw %s with key %q", last.Path, last.Header.Get("x-goog-api-key"))
	}
}

func TestChatStream(t *testing.T) {
	a, fake := newTestAdapter(t)
	s, err := a.ChatStream(context.Background(), chatReq("gemini-2.5-flash", user("stream this now")))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := collect(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content.Text(); got != "Hello from fake: stream this now" {
		t.Errorf("content = %q", got)
	}
	if resp.Usage == nil || resp.Usage.CompletionTokens != 6 {
		t.Errorf("usage = %+v", resp.Usage)
	}
	if q := fake.Last().Query; q != "alt=sse" {
		t.Errorf("query = %q", q)
	}
}

func TestStreamCutMidwayIsAnError(t *testing.T) {
	a, _ := newTestAdapter(t)
	s, err := a.ChatStream(context.Background(), chatReq("break", user("one two three")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = collect(t, s)
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusBadGateway {
		t.Fatalf("err = %v, want a 502 gateway error", err)
	}
}

// TestToolRoundTrip drives a complete tool call: the model calls
// get_weather, the client answers with the result under the call's id,
// and the model's final answer uses it.
func TestToolRoundTrip(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "stream"}[stream], func(t *testing.T) {
			a, fake := newTestAdapter(t)
			tools := []llm.Tool{{Type: "function", Function: llm.FunctionSpec{Name: "get_weather",
				Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}`)}}}
			req := chatReq("tools", user("weather in Paris?"))
			req.Tools = tools
			call := func(r *llm.ChatRequest) *llm.ChatResponse {
				if !stream {
					resp, err := a.Chat(context.Background(), r)
					if err != nil {
						t.Fatal(err)
					}
					return resp
				}
				s, err := a.ChatStream(context.Background(), r)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := collect(t, s)
				if err != nil {
					t.Fatal(err)
				}
				return resp
			}
			first := call(req)
			ch := first.Choices[0]
			if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
				t.Fatalf("first answer = %+v", ch)
			}
			tc := ch.Message.ToolCalls[0]
			if tc.ID == "" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` {
				t.Fatalf("tool call = %+v", tc)
			}
			req.Messages = append(req.Messages, ch.Message,
				llm.Message{Role: llm.RoleTool, ToolCallID: tc.ID, Content: llm.TextContent("sunny, 24C")})
			final := call(req)
			if got := final.Choices[0].Message.Content.Text(); got != providertest.FakeWeather("sunny, 24C") {
				t.Errorf("final answer = %q", got)
			}
			var sent generateRequest
			if err := json.Unmarshal(fake.Last().Body, &sent); err != nil {
				t.Fatal(err)
			}
			if n := len(sent.Contents); n != 3 || sent.Contents[1].Parts[0].FunctionCall == nil || sent.Contents[2].Parts[0].FunctionResponse == nil {
				t.Errorf("second request contents = %s", fake.Last().Body)
			}
		})
	}
}

func TestEmbed(t *testing.T) {
	a, fake := newTestAdapter(t)
	dims := 4
	for _, tc := range []struct {
		input string
		n     int
		path  string
	}{
		{`"one text"`, 1, ":embedContent"},
		{`["a","b","c"]`, 3, ":batchEmbedContents"},
	} {
		resp, err := a.Embed(context.Background(), &llm.EmbedRequest{Model: "text-embedding-004", Input: json.RawMessage(tc.input), Dimensions: &dims})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Data) != tc.n {
			t.Fatalf("%s: %d vectors", tc.input, len(resp.Data))
		}
		var v []float64
		if err := json.Unmarshal(resp.Data[tc.n-1].Embedding, &v); err != nil || len(v) != 4 || resp.Data[tc.n-1].Index != tc.n-1 {
			t.Errorf("vector %s (%v)", resp.Data[tc.n-1].Embedding, err)
		}
		if !strings.HasSuffix(fake.Last().Path, tc.path) {
			t.Errorf("path = %s", fake.Last().Path)
		}
	}
	resp, err := a.Embed(context.Background(), &llm.EmbedRequest{Model: "text-embedding-004", Input: json.RawMessage(`"x"`), EncodingFormat: "base64"})
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if json.Unmarshal(resp.Data[0].Embedding, &s) != nil || len(s) == 0 {
		t.Errorf("base64 embedding = %s", resp.Data[0].Embedding)
	}
	if _, err := a.Embed(context.Background(), &llm.EmbedRequest{Model: "m", Input: json.RawMessage(`[[1,2]]`)}); err == nil {
		t.Error("token input accepted")
	}
}

func TestListModels(t *testing.T) {
	a, _ := newTestAdapter(t)
	ms, err := a.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	if strings.Join(ids, ",") != "google-ai-studio/gemini-2.5-flash,google-ai-studio/text-embedding-004" {
		t.Errorf("models = %v", ids)
	}
}

func TestUpstreamErrors(t *testing.T) {
	a, _ := newTestAdapter(t)
	for _, tc := range []struct {
		model     string
		status    int
		retryable bool
	}{
		{"error-429", 429, true}, {"error-400", 400, false}, {"error-503", 503, true},
	} {
		_, err := a.Chat(context.Background(), chatReq(tc.model, user("x")))
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != tc.status || ge.Retryable != tc.retryable || !strings.Contains(ge.Message, "fake provider error") {
			t.Errorf("%s: err = %#v", tc.model, err)
		}
	}
	bad, _ := New(provider.Spec{ID: "google-ai-studio", BaseURL: a.root, APIKey: "wrong-key-9999"})
	_, err := bad.Chat(context.Background(), chatReq("gemini-2.5-flash", user("x")))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != 400 || strings.Contains(ge.Message, "wrong-key-9999") {
		t.Errorf("bad key: %v", err)
	}
}

func TestFakeRejectsUncleanedSchemas(t *testing.T) {
	// The fake must reject what real Gemini rejects, or the schema
	// cleaning test above could not fail.
	fake := providertest.NewGemini(providertest.Options{})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	body := `{"contents":[{"role":"user","parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":{"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"}}}}]}]}`
	resp, err := http.Post(srv.URL+"/v1beta/models/m:generateContent", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestRequestErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, param string
	}{
		{"unknown tool id", `{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"nope","content":"r"}]}`, "messages[1].tool_call_id"},
		{"arguments not an object", `{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function","function":{"name":"f","arguments":"[1]"}}]}]}`, "messages[0].tool_calls[0].function.arguments"},
		{"only system", `{"model":"m","messages":[{"role":"system","content":"x"}]}`, "messages"},
		{"image without url", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":""}}]}]}`, "messages[0].content[0].image_url"},
		{"bad image url", `{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x"}}]}]}`, "messages[0].content[0]"},
		{"unknown part", `{"model":"m","messages":[{"role":"user","content":[{"type":"video","text":"x"}]}]}`, "messages[0].content[0].type"},
		{"bad schema", `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":[1]}}]}`, "tools[0].function.parameters"},
		{"bad response format", `{"model":"m","messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}`, "response_format.type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req llm.ChatRequest
			if err := json.Unmarshal([]byte(tc.body), &req); err != nil {
				t.Fatal(err)
			}
			_, err := toGenerate(&req)
			var ge *gwerr.Error
			if !errors.As(err, &ge) || ge.Status != 400 || ge.Param != tc.param {
				t.Fatalf("err = %#v, want 400 about %s", err, tc.param)
			}
		})
	}
}

func TestForward(t *testing.T) {
	a, fake := newTestAdapter(t)
	body := []byte(`{"contents":[{"role":"user","parts":[{"text":"native"}]}]}`)
	for _, tc := range []struct {
		name     string
		header   http.Header
		query    string
		wantKey  string
		wantCode int
	}{
		{"gateway key injected", http.Header{"Content-Type": {"application/json"}}, "", "g-key-123456", 200},
		{"caller key kept", http.Header{"X-Goog-Api-Key": {"caller-key"}}, "", "caller-key", 400},
		{"caller query key kept", http.Header{}, "key=g-key-123456", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := a.Forward(context.Background(), &provider.NativeRequest{Method: "POST",
				Path: "/v1beta/models/gemini-2.5-flash:generateContent", RawQuery: tc.query, Header: tc.header, Body: body})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d: %s", resp.StatusCode, raw)
			}
			if got := fake.Last().Header.Get("x-goog-api-key"); got != tc.wantKey {
				t.Errorf("upstream key %q, want %q", got, tc.wantKey)
			}
			if resp.StatusCode == 200 {
				u, model, ok := a.NativeUsage("", raw, false)
				if !ok || u.TotalTokens == 0 || model != "gemini-2.5-flash" {
					t.Errorf("native usage %+v %q %v", u, model, ok)
				}
			}
		})
	}
}

func TestNativeUsageStream(t *testing.T) {
	a, _ := newTestAdapter(t)
	b := []byte("data: {\"usageMetadata\":{\"promptTokenCount\":1,\"candidatesTokenCount\":1,\"totalTokenCount\":2}}\n\n" +
		"data: {\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":4,\"totalTokenCount\":7},\"modelVersion\":\"g\"}\n\n")
	u, model, ok := a.NativeUsage("", b, true)
	if !ok || u.TotalTokens != 7 || u.PromptTokens != 3 || model != "g" {
		t.Errorf("usage %+v %q %v", u, model, ok)
	}
}
