package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/llm"
)

func TestChatNonStreamed(t *testing.T) {
	g := newTestGateway(t, "")
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "ping"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	var out llm.ChatResponse
	if err := json.Unmarshal(readBody(t, resp), &out); err != nil {
		t.Fatal(err)
	}
	if got := out.Choices[0].Message.Content.Text(); got != "Hello from fake: ping" {
		t.Errorf("content = %q", got)
	}
	if out.Usage == nil || out.Usage.TotalTokens == 0 {
		t.Errorf("usage missing: %+v", out.Usage)
	}
	for k, want := range map[string]string{"x-aig-provider": "openai", "x-aig-model": "gpt-4o-mini", "x-aig-step": "0"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if resp.Header.Get("x-aig-log-id") == "" {
		t.Error("x-aig-log-id missing")
	}
	up := g.fake.Last()
	if up.Path != "/v1/chat/completions" || up.Header.Get("Authorization") != "Bearer sk-fake" {
		t.Errorf("upstream got %s with auth %q", up.Path, up.Header.Get("Authorization"))
	}
	var sent map[string]any
	_ = json.Unmarshal(up.Body, &sent)
	if sent["model"] != "gpt-4o-mini" {
		t.Errorf("upstream model = %v, want the name without provider prefix", sent["model"])
	}
}

func TestLogIDsAreUnique(t *testing.T) {
	g := newTestGateway(t, "")
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		id := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x")).Header.Get("x-aig-log-id")
		if seen[id] {
			t.Fatalf("log id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestUnknownFieldsReachOpenAICompatibleUpstream(t *testing.T) {
	g := newTestGateway(t, "")
	resp := g.do(t, "POST", "/v1/chat/completions",
		chatBody("openai/gpt-4o-mini", "x", `"top_k":5`, `"logit_bias":{"50256":-100}`, `"metadata":{"a":"b"}`))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var sent map[string]json.RawMessage
	_ = json.Unmarshal(g.fake.Last().Body, &sent)
	for _, k := range []string{"top_k", "logit_bias", "metadata"} {
		if _, ok := sent[k]; !ok {
			t.Errorf("upstream body lost %q: %s", k, g.fake.Last().Body)
		}
	}
}

func TestChatStreamed(t *testing.T) {
	for _, includeUsage := range []bool{false, true} {
		t.Run(map[bool]string{false: "without usage", true: "with usage"}[includeUsage], func(t *testing.T) {
			g := newTestGateway(t, "")
			extra := []string{`"stream":true`}
			if includeUsage {
				extra = append(extra, `"stream_options":{"include_usage":true}`)
			}
			resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "one two three", extra...))
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			data := sseData(t, readBody(t, resp))
			if len(data) < 3 || data[len(data)-1] != "[DONE]" {
				t.Fatalf("stream does not end with [DONE]: %v", data)
			}
			var acc llm.Accumulator
			sawUsage := false
			for _, d := range data[:len(data)-1] {
				var ch llm.ChatChunk
				if err := json.Unmarshal([]byte(d), &ch); err != nil {
					t.Fatalf("bad chunk %s: %v", d, err)
				}
				if ch.Usage != nil {
					sawUsage = true
				}
				acc.Add(&ch)
			}
			if got := acc.Response().Choices[0].Message.Content.Text(); got != "Hello from fake: one two three" {
				t.Errorf("streamed content = %q", got)
			}
			if sawUsage != includeUsage {
				t.Errorf("usage chunk present = %v, client asked = %v", sawUsage, includeUsage)
			}
			var sent struct {
				StreamOptions *llm.StreamOptions `json:"stream_options"`
			}
			_ = json.Unmarshal(g.fake.Last().Body, &sent)
			if sent.StreamOptions == nil || !sent.StreamOptions.IncludeUsage {
				t.Errorf("gateway did not ask upstream for usage: %s", g.fake.Last().Body)
			}
		})
	}
}

func TestStreamedToolCall(t *testing.T) {
	g := newTestGateway(t, "")
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/tools", "weather?", `"stream":true`))
	data := sseData(t, readBody(t, resp))
	var acc llm.Accumulator
	for _, d := range data[:len(data)-1] {
		var ch llm.ChatChunk
		_ = json.Unmarshal([]byte(d), &ch)
		acc.Add(&ch)
	}
	r := acc.Response()
	tc := r.Choices[0].Message.ToolCalls
	if len(tc) != 1 || tc[0].ID != "call_fake_1" || tc[0].Function.Name != "get_weather" || tc[0].Function.Arguments != `{"city":"Paris"}` {
		t.Errorf("tool call = %+v", tc)
	}
	if r.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("finish = %q", r.Choices[0].FinishReason)
	}
}

func TestStreamBrokenMidwayEndsWithErrorEvent(t *testing.T) {
	g := newTestGateway(t, "")
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/break", "a b c d", `"stream":true`))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	data := sseData(t, readBody(t, resp))
	last := data[len(data)-1]
	var e apiError
	if err := json.Unmarshal([]byte(last), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("last event is not an error: %v", data)
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	for _, stream := range []bool{false, true} {
		g := newTestGateway(t, "")
		ctx, cancel := context.WithCancel(context.Background())
		body := chatBody("openai/hang", "x")
		if stream {
			body = chatBody("openai/hang", "x", `"stream":true`)
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", g.srv.URL+"/v1/chat/completions", strings.NewReader(body))
		done := make(chan struct{})
		go func() {
			defer close(done)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}()
		waitFor(t, func() bool { return len(g.fake.Requests()) == 1 })
		cancel()
		<-done
		waitFor(t, func() bool { return g.fake.Cancelled.Load() == 1 })
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
