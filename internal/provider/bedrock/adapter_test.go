package bedrock

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

const (
	akid   = "AKIDEXAMPLE123"
	secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func newTestAdapter(t *testing.T, spec func(*provider.Spec)) (*Adapter, *providertest.Bedrock) {
	t.Helper()
	fake := providertest.NewBedrock(providertest.BedrockOptions{AccessKeyID: akid, SecretAccessKey: secret, Region: "us-east-1"})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	s := provider.Spec{ID: "aws-bedrock", BaseURL: srv.URL, Region: "us-east-1", AccessKeyID: akid, SecretAccessKey: secret, Client: srv.Client()}
	if spec != nil {
		spec(&s)
	}
	p, err := New(s)
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

func TestChat(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "converse", true: "converse-stream"}[stream], func(t *testing.T) {
			a, fake := newTestAdapter(t, nil)
			resp := ask(t, a, chatReq("anthropic.claude-3-5-sonnet-20240620-v1:0", user("hi there")), stream)
			if got := resp.Choices[0].Message.Content.Text(); got != "Hello from fake: hi there" {
				t.Errorf("content = %q", got)
			}
			if resp.Usage == nil || resp.Usage.TotalTokens == 0 || resp.Choices[0].FinishReason != "stop" || resp.ID != "chatcmpl-fake-req-0001" {
				t.Errorf("id %q usage %+v finish %q", resp.ID, resp.Usage, resp.Choices[0].FinishReason)
			}
			last := fake.Last()
			op := "converse"
			if stream {
				op = "converse-stream"
			}
			if want := "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/" + op; last.Path != "/model/anthropic.claude-3-5-sonnet-20240620-v1:0/"+op {
				t.Errorf("path = %q, want %q escaped", last.Path, want)
			}
			if !strings.HasPrefix(last.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+akid+"/") {
				t.Errorf("Authorization = %q", last.Header.Get("Authorization"))
			}
		})
	}
}

func TestSessionTokenIsSigned(t *testing.T) {
	a, fake := newTestAdapter(t, func(s *provider.Spec) { s.SessionToken = "session-token-xyz" })
	ask(t, a, chatReq("m", user("x")), false)
	if got := fake.Last().Header.Get("X-Amz-Security-Token"); got != "session-token-xyz" {
		t.Errorf("X-Amz-Security-Token = %q", got)
	}
	if !strings.Contains(fake.Last().Header.Get("Authorization"), "x-amz-security-token") {
		t.Error("session token not among the signed headers")
	}
}

func TestWrongSecretIsRefused(t *testing.T) {
	a, _ := newTestAdapter(t, func(s *provider.Spec) { s.SecretAccessKey = "not-the-secret-at-all" })
	_, err := a.Chat(context.Background(), chatReq("m", user("x")))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != 403 || ge.Code != "InvalidSignatureException" || strings.Contains(ge.Message, "not-the-secret") {
		t.Fatalf("err = %#v", err)
	}
}

func TestSignatureCoversTheBody(t *testing.T) {
	// A body changed after signing must be refused: the fake checks the
	// signature, not just the header's presence.
	a, fake := newTestAdapter(t, nil)
	a.now = func() time.Time { return time.Now().Add(-time.Minute) }
	req, _ := http.NewRequest("POST", a.base+"/model/m/converse", strings.NewReader(`{"messages":[]}`))
	if err := a.sign(req, []byte(`{"messages":[{"role":"user","content":[{"text":"x"}]}]}`)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || fake.Served.Load() != 0 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestStreamFailures(t *testing.T) {
	a, _ := newTestAdapter(t, nil)
	for _, tc := range []struct {
		model  string
		status int
	}{{"break", 502}, {"exception", 429}} {
		s, err := a.ChatStream(context.Background(), chatReq(tc.model, user("one two three")))
		if err != nil {
			t.Fatal(err)
		}
		_, err = collect(t, s)
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != tc.status {
			t.Errorf("%s: err = %v, want status %d", tc.model, err, tc.status)
		}
	}
}

func TestToolRoundTrip(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "converse", true: "stream"}[stream], func(t *testing.T) {
			a, fake := newTestAdapter(t, nil)
			req := chatReq("tools", user("weather in Paris?"))
			req.Tools = []llm.Tool{{Type: "function", Function: llm.FunctionSpec{Name: "get_weather",
				Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}}}
			first := ask(t, a, req, stream).Choices[0]
			if first.FinishReason != "tool_calls" || len(first.Message.ToolCalls) != 1 {
				t.Fatalf("first answer = %+v", first)
			}
			tc := first.Message.ToolCalls[0]
			if tc.ID != "tooluse_Fake0Weather1" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` {
				t.Fatalf("tool call = %+v (Bedrock's toolUseId must be kept)", tc)
			}
			req.Messages = append(req.Messages, first.Message, llm.Message{Role: llm.RoleTool, ToolCallID: tc.ID, Content: llm.TextContent("sunny, 24C")})
			final := ask(t, a, req, stream)
			if got := final.Choices[0].Message.Content.Text(); got != providertest.FakeWeather("sunny, 24C") {
				t.Errorf("final answer = %q", got)
			}
			if !strings.Contains(string(fake.Last().Body), `"toolResult":{"toolUseId":"tooluse_Fake0Weather1"`) {
				t.Errorf("second request = %s", fake.Last().Body)
			}
		})
	}
}

func TestJSONMode(t *testing.T) {
	for _, stream := range []bool{false, true} {
		a, _ := newTestAdapter(t, nil)
		req := chatReq("m", user("Ada"))
		req.ResponseFormat = &llm.ResponseFormat{Type: llm.FormatJSONSchema, JSONSchema: &llm.JSONSchema{Name: "p", Schema: json.RawMessage(`{"type":"object"}`)}}
		resp := ask(t, a, req, stream)
		ch := resp.Choices[0]
		if ch.Message.Content.Text() != `{"echo":"Ada"}` || len(ch.Message.ToolCalls) != 0 || ch.FinishReason != "stop" {
			t.Errorf("stream=%v: %+v", stream, ch)
		}
	}
}

func TestUpstreamErrors(t *testing.T) {
	a, _ := newTestAdapter(t, nil)
	for _, tc := range []struct {
		model     string
		status    int
		code      string
		retryable bool
	}{
		{"error-429", 429, "ThrottlingException", true}, {"error-400", 400, "ValidationException", false}, {"error-503", 503, "ServiceUnavailableException", true},
	} {
		_, err := a.Chat(context.Background(), chatReq(tc.model, user("x")))
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != tc.status || ge.Code != tc.code || ge.Retryable != tc.retryable {
			t.Errorf("%s: err = %#v", tc.model, err)
		}
	}
	for _, body := range []string{
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/tiff;base64,AA=="}}]}]}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"n":2}`,
	} {
		var req llm.ChatRequest
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatal(err)
		}
		_, err := a.Chat(context.Background(), &req)
		var ge *gwerr.Error
		if !errors.As(err, &ge) || ge.Status != 400 {
			t.Errorf("%s: err = %v, want 400", body, err)
		}
	}
}

func TestForward(t *testing.T) {
	a, fake := newTestAdapter(t, nil)
	body := []byte(`{"messages":[{"role":"user","content":[{"text":"native"}]}]}`)
	for _, stream := range []bool{false, true} {
		op := "converse"
		if stream {
			op = "converse-stream"
		}
		resp, err := a.Forward(context.Background(), &provider.NativeRequest{Method: "POST",
			Path:   "/model/anthropic.claude-3-haiku-20240307-v1%3A0/" + op,
			Header: http.Header{"Content-Type": {"application/json"}, "X-Amz-Date": {"20000101T000000Z"}}, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s (re-signing must replace the caller's X-Amz-Date)", resp.StatusCode, raw)
		}
		u, model, ok := a.NativeUsage("/model/anthropic.claude-3-haiku-20240307-v1%3A0/"+op, raw, stream)
		if !ok || u.TotalTokens == 0 || model != "anthropic.claude-3-haiku-20240307-v1:0" {
			t.Errorf("stream=%v native usage %+v %q %v", stream, u, model, ok)
		}
	}
	// A caller's own Authorization goes upstream untouched.
	resp, err := a.Forward(context.Background(), &provider.NativeRequest{Method: "POST", Path: "/model/m/converse",
		Header: http.Header{"Authorization": {"Bearer caller-bedrock-api-key"}}, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := fake.Last().Header.Get("Authorization"); got != "Bearer caller-bedrock-api-key" || resp.StatusCode != 403 {
		t.Errorf("upstream Authorization %q, status %d", got, resp.StatusCode)
	}
}
