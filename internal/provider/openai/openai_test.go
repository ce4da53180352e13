package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/sse"
)

func TestParseError(t *testing.T) {
	cases := []struct{ body, typ, code, msg string }{
		{`{"error":{"message":"bad","type":"invalid_request_error","code":"x","param":"p"}}`, "invalid_request_error", "x", "bad"},
		{`{"error":{"message":"m","code":429}}`, "", "429", "m"},
		{`{"error":"plain"}`, "", "", "plain"},
		{`{"message":"top"}`, "", "", "top"},
		{`{"detail":"fastapi"}`, "", "", "fastapi"},
		{`<html>nope</html>`, "", "", "<html>nope</html>"},
	}
	for _, c := range cases {
		typ, code, _, msg := ParseError([]byte(c.body))
		if typ != c.typ || code != c.code || msg != c.msg {
			t.Errorf("%s → %q %q %q", c.body, typ, code, msg)
		}
	}
}

const streamBody = ": ping\n\n" +
	`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}` + "\n\n" +
	`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}` + "\n\n" +
	`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\""}}]},"finish_reason":null}]}` + "\n\n" +
	`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"lo","tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"}]}` + "\n\n" +
	`data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}` + "\n\n" +
	"data: [DONE]\n\n"

func decodeStream(r io.Reader) (*llm.ChatResponse, int, error) {
	s := &stream{id: "p", body: io.NopCloser(r), r: sse.NewReader(r)}
	var acc llm.Accumulator
	n := 0
	for {
		c, err := s.Recv()
		if err == io.EOF {
			return acc.Response(), n, nil
		}
		if err != nil {
			return nil, n, err
		}
		if c.Raw == nil {
			return nil, n, errors.New("chunk without Raw")
		}
		n++
		acc.Add(c)
	}
}

func TestStreamDecodesAtEverySplit(t *testing.T) {
	want, n, err := decodeStream(strings.NewReader(streamBody))
	if err != nil || n != 5 {
		t.Fatalf("%d chunks, %v", n, err)
	}
	m := want.Choices[0].Message
	if m.Content.Text() != "Hello" || m.ToolCalls[0].Function.Arguments != `{"a":1}` || want.Usage.TotalTokens != 5 ||
		want.Choices[0].FinishReason != "tool_calls" {
		t.Fatalf("decoded %+v", want)
	}
	for i := 0; i <= len(streamBody); i++ {
		got, _, err := decodeStream(io.MultiReader(strings.NewReader(streamBody[:i]), strings.NewReader(streamBody[i:])))
		if err != nil {
			t.Fatalf("split %d: %v", i, err)
		}
		if a, b := mustJSON(got), mustJSON(want); a != b {
			t.Fatalf("split %d differs:\n%s\n%s", i, a, b)
		}
	}
	if _, _, err := decodeStream(iotest.OneByteReader(strings.NewReader(streamBody))); err != nil {
		t.Fatal(err)
	}
}

func TestStreamErrorEvent(t *testing.T) {
	body := streamBody[:strings.Index(streamBody, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel")] +
		`data: {"error":{"message":"overloaded","type":"server_error"}}` + "\n\n"
	_, _, err := decodeStream(strings.NewReader(body))
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Message != "overloaded" {
		t.Fatalf("err = %v", err)
	}
}

func TestNativeUsage(t *testing.T) {
	c := NewClient(ClientOptions{ID: "openai"})
	u, model, ok := c.NativeUsage("/chat/completions", []byte(`{"model":"gpt","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":1}}}`), false)
	if !ok || u.TotalTokens != 3 || u.CachedTokens() != 1 || model != "gpt" {
		t.Errorf("json: %+v %q %v", u, model, ok)
	}
	u, _, ok = c.NativeUsage("/chat/completions", []byte(streamBody), true)
	if !ok || u.TotalTokens != 5 {
		t.Errorf("stream: %+v %v", u, ok)
	}
	u, model, ok = c.NativeUsage("/responses", []byte("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"model\":\"o\",\"usage\":{\"input_tokens\":4,\"output_tokens\":6}}}\n\n"), true)
	if !ok || u.PromptTokens != 4 || u.CompletionTokens != 6 || u.TotalTokens != 10 || model != "o" {
		t.Errorf("responses: %+v %q %v", u, model, ok)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func FuzzStream(f *testing.F) {
	f.Add([]byte(streamBody))
	f.Add([]byte("data: {\"error\":\"x\"}\n\n"))
	f.Add([]byte("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		resp, _, err := decodeStream(bytes.NewReader(b))
		if err != nil {
			var ge *gwerr.Error
			if !errors.As(err, &ge) {
				t.Fatalf("stream error is not a gateway error: %v", err)
			}
			return
		}
		if _, err := resp.MarshalJSON(); err != nil {
			t.Fatalf("folded response does not encode: %v", err)
		}
	})
}
