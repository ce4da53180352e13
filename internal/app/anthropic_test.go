package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// mixedGateway is a gateway in front of a fake OpenAI and a fake Anthropic.
type mixedGateway struct {
	openai    *providertest.Fake
	anthropic *providertest.Anthropic
	antURL    string
	srv       *httptest.Server
}

const mixedConfig = `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
  - id: anthropic
    base_url: ${ANT_URL}
    api_key: sk-ant-fake-key
models:
  - name: claude-tuned
    targets:
      - model: anthropic/claude-sonnet-4-5
        params: {temperature: 0.2}
  - name: claude-then-gpt
    targets:
      - model: anthropic/error-529
      - model: openai/gpt-4o-mini
`

func newMixedGateway(t *testing.T) *mixedGateway {
	t.Helper()
	of := providertest.NewFake(providertest.Options{APIKey: "sk-fake"})
	ou := httptest.NewServer(of)
	t.Cleanup(ou.Close)
	af := providertest.NewAnthropic(providertest.Options{APIKey: "sk-ant-fake-key"})
	au := httptest.NewServer(af)
	t.Cleanup(au.Close)
	gw := startGateway(t, testConfig(t, mixedConfig, map[string]string{"FAKE_URL": ou.URL + "/v1", "ANT_URL": au.URL}, ""))
	return &mixedGateway{openai: of, anthropic: af, antURL: au.URL, srv: serve(t, gw)}
}

func (g *mixedGateway) post(t *testing.T, path, body string, headers ...string) *http.Response {
	t.Helper()
	return send(t, "POST", g.srv.URL+path, body, headers...)
}

// message is the part of an Anthropic message the tests read.
type message struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Role       string `json:"role"`
	Model      string `json:"model"`
	StopReason string `json:"stop_reason"`
	Content    []struct {
		Type  string          `json:"type"`
		Text  string          `json:"text"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	} `json:"content"`
	Usage struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
}

// anthropicError is Anthropic's error envelope.
type anthropicError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type sseEvent struct {
	name string
	data string
}

func sseEvents(t *testing.T, body []byte) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.data = strings.TrimPrefix(line, "data: ")
		case line == "" && cur.data != "":
			out = append(out, cur)
			cur = sseEvent{}
		}
	}
	return out
}

func names(evs []sseEvent) string {
	var n []string
	for _, e := range evs {
		n = append(n, e.name)
	}
	return strings.Join(n, ",")
}

func TestMessagesServedByOpenAI(t *testing.T) {
	for _, path := range []string{"/v1/messages", "/compat/messages"} {
		t.Run(path, func(t *testing.T) { testMessagesServedByOpenAI(t, path) })
	}
}

func testMessagesServedByOpenAI(t *testing.T, path string) {
	g := newMixedGateway(t)
	resp := g.post(t, path, `{"model":"openai/gpt-4o-mini","max_tokens":100,"system":"be nice",
		"messages":[{"role":"user","content":"ping"}],"stop_sequences":["END"],"temperature":0.3}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	var m message
	if err := json.Unmarshal(readBody(t, resp), &m); err != nil {
		t.Fatal(err)
	}
	if m.Type != "message" || m.Role != "assistant" || m.StopReason != "end_turn" || len(m.Content) != 1 ||
		m.Content[0].Type != "text" || m.Content[0].Text != "Hello from fake: ping" {
		t.Errorf("message = %+v", m)
	}
	if m.Usage.InputTokens == 0 || m.Usage.OutputTokens == 0 {
		t.Errorf("usage = %+v", m.Usage)
	}
	var sent llm.ChatRequest
	if err := json.Unmarshal(g.openai.Last().Body, &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Model != "gpt-4o-mini" || len(sent.Messages) != 2 || sent.Messages[0].Role != "system" ||
		sent.Messages[0].Content.Text() != "be nice" || sent.MaxOutputTokens() != 100 || len(sent.Stop) != 1 || *sent.Temperature != 0.3 {
		t.Errorf("OpenAI upstream got %s", g.openai.Last().Body)
	}
	if resp.Header.Get("x-aig-provider") != "openai" {
		t.Errorf("x-aig-provider = %q", resp.Header.Get("x-aig-provider"))
	}
}

func TestMessagesStreamServedByOpenAI(t *testing.T) {
	g := newMixedGateway(t)
	resp := g.post(t, "/v1/messages", `{"model":"openai/gpt-4o-mini","max_tokens":100,"stream":true,
		"messages":[{"role":"user","content":"one two three"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	evs := sseEvents(t, readBody(t, resp))
	want := "message_start,content_block_start,ping," + strings.Repeat("content_block_delta,", 6) + "content_block_stop,message_delta,message_stop"
	if got := names(evs); got != want {
		t.Fatalf("events %s\nwant   %s", got, want)
	}
	var text strings.Builder
	for _, e := range evs {
		var ev struct {
			Type  string `json:"type"`
			Delta struct {
				Text       string `json:"text"`
				StopReason string `json:"stop_reason"`
			} `json:"delta"`
			Usage struct {
				OutputTokens int `json:"output_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(e.data), &ev); err != nil || ev.Type != e.name {
			t.Fatalf("event %s data %s", e.name, e.data)
		}
		text.WriteString(ev.Delta.Text)
		if e.name == "message_delta" && (ev.Delta.StopReason != "end_turn" || ev.Usage.OutputTokens == 0) {
			t.Errorf("message_delta = %s", e.data)
		}
	}
	if text.String() != "Hello from fake: one two three" {
		t.Errorf("text = %q", text.String())
	}
	var sent llm.ChatRequest
	_ = json.Unmarshal(g.openai.Last().Body, &sent)
	if !sent.WantsUsageInStream() {
		t.Errorf("upstream was not asked for usage: %s", g.openai.Last().Body)
	}
}

func TestMessagesToolRoundTripServedByOpenAI(t *testing.T) {
	g := newMixedGateway(t)
	tools := `"tools":[{"name":"get_weather","description":"weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"tool_choice":{"type":"auto"}`
	for _, stream := range []bool{false, true} {
		resp := g.post(t, "/v1/messages", `{"model":"openai/tools","max_tokens":100,"stream":`+map[bool]string{false: "false", true: "true"}[stream]+`,
			"messages":[{"role":"user","content":"weather in Paris?"}],`+tools+`}`)
		body := readBody(t, resp)
		var id, name, input, stop string
		if !stream {
			var m message
			_ = json.Unmarshal(body, &m)
			if len(m.Content) != 1 {
				t.Fatalf("content = %s", body)
			}
			id, name, input, stop = m.Content[0].ID, m.Content[0].Name, string(m.Content[0].Input), m.StopReason
		} else {
			for _, e := range sseEvents(t, body) {
				var ev struct {
					ContentBlock struct {
						Type, ID, Name string
					} `json:"content_block"`
					Delta struct {
						PartialJSON string `json:"partial_json"`
						StopReason  string `json:"stop_reason"`
					} `json:"delta"`
				}
				_ = json.Unmarshal([]byte(e.data), &ev)
				if ev.ContentBlock.Type == "tool_use" {
					id, name = ev.ContentBlock.ID, ev.ContentBlock.Name
				}
				input += ev.Delta.PartialJSON
				if ev.Delta.StopReason != "" {
					stop = ev.Delta.StopReason
				}
			}
		}
		if id != "call_fake_1" || name != "get_weather" || input != `{"city":"Paris"}` || stop != "tool_use" {
			t.Errorf("stream=%v: tool_use %q %q %q, stop %q", stream, id, name, input, stop)
		}
	}
	// second half: the tool result goes back, the model answers
	resp := g.post(t, "/v1/messages", `{"model":"openai/tools","max_tokens":100,"messages":[
		{"role":"user","content":"weather in Paris?"},
		{"role":"assistant","content":[{"type":"tool_use","id":"call_fake_1","name":"get_weather","input":{"city":"Paris"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_fake_1","content":"15 degrees"}]}],`+tools+`}`)
	var m message
	_ = json.Unmarshal(readBody(t, resp), &m)
	if len(m.Content) != 1 || m.Content[0].Text != providertest.FakeWeather("15 degrees") || m.StopReason != "end_turn" {
		t.Errorf("final answer = %+v", m)
	}
	var sent llm.ChatRequest
	_ = json.Unmarshal(g.openai.Last().Body, &sent)
	if len(sent.Messages) != 3 || sent.Messages[1].ToolCalls[0].ID != "call_fake_1" || sent.Messages[1].ToolCalls[0].Function.Arguments != `{"city":"Paris"}` ||
		sent.Messages[2].Role != "tool" || sent.Messages[2].ToolCallID != "call_fake_1" {
		t.Errorf("OpenAI upstream got %s", g.openai.Last().Body)
	}
}

func TestMessagesErrorsInAnthropicShape(t *testing.T) {
	g := newMixedGateway(t)
	cases := []struct {
		name, body string
		status     int
		typ, inMsg string
	}{
		{"no max_tokens", `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`, 400, "invalid_request_error", "max_tokens"},
		{"bad json", `{"model":`, 400, "invalid_request_error", "not valid JSON"},
		{"bad role", `{"model":"openai/x","max_tokens":1,"messages":[{"role":"tool","content":"x"}]}`, 400, "invalid_request_error", "messages.0.role"},
		{"unknown provider", `{"model":"nosuch/x","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, 404, "not_found_error", "not enabled"},
		{"upstream 429", `{"model":"openai/error-429","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, 429, "rate_limit_error", "fake provider error 429"},
		{"upstream 503", `{"model":"openai/error-503","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, 503, "overloaded_error", "fake provider error 503"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := g.post(t, "/v1/messages", c.body)
			var e anthropicError
			body := readBody(t, resp)
			if err := json.Unmarshal(body, &e); err != nil || e.Type != "error" {
				t.Fatalf("not an Anthropic error: %s", body)
			}
			if resp.StatusCode != c.status || e.Error.Type != c.typ || !strings.Contains(e.Error.Message, c.inMsg) {
				t.Errorf("got %d %s %q", resp.StatusCode, e.Error.Type, e.Error.Message)
			}
		})
	}
}

func TestMessagesStreamBrokenEndsWithErrorEvent(t *testing.T) {
	g := newMixedGateway(t)
	resp := g.post(t, "/v1/messages", `{"model":"openai/break","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"a b c d"}]}`)
	evs := sseEvents(t, readBody(t, resp))
	last := evs[len(evs)-1]
	var e anthropicError
	if last.name != "error" || json.Unmarshal([]byte(last.data), &e) != nil || e.Type != "error" || e.Error.Message == "" {
		t.Fatalf("stream does not end with an error event: %s", names(evs))
	}
	if strings.Contains(names(evs), "message_stop") {
		t.Error("a broken stream must not claim message_stop")
	}
}

// TestMessagesPassThroughToAnthropic: request and response pass unchanged
// when the target speaks Anthropic's format, but for the model name and
// the credential.
func TestMessagesPassThroughToAnthropic(t *testing.T) {
	for _, stream := range []string{"false", "true"} {
		t.Run("stream="+stream, func(t *testing.T) {
			g := newMixedGateway(t)
			body := `{ "model" : "anthropic/claude-sonnet-4-5",  "max_tokens": 64, "stream": ` + stream + `,
  "container": {"skills": []}, "top_k": 3,
  "system": [{"type": "text", "text": "cached", "cache_control": {"type": "ephemeral"}}],
  "messages": [{"role": "user", "content": [{"type": "text", "text": "hi \u00e9"}]}] }`
			resp := g.post(t, "/v1/messages", body, "x-api-key", "client-gateway-key", "Authorization", "Bearer client",
				"anthropic-version", "2023-06-01", "anthropic-beta", "prompt-caching-2024-07-31", "x-aig-metadata", `{"a":1}`)
			got := readBody(t, resp)
			up := g.anthropic.Last()
			wantBody := strings.Replace(body, `"anthropic/claude-sonnet-4-5"`, `"claude-sonnet-4-5"`, 1)
			if string(up.Body) != wantBody {
				t.Errorf("upstream body changed:\n%s\nwant\n%s", up.Body, wantBody)
			}
			if up.Header.Get("x-api-key") != "sk-ant-fake-key" || up.Header.Get("Authorization") != "" {
				t.Errorf("upstream credentials: x-api-key %q, Authorization %q", up.Header.Get("x-api-key"), up.Header.Get("Authorization"))
			}
			if up.Header.Get("anthropic-beta") != "prompt-caching-2024-07-31" || up.Header.Get("x-aig-metadata") != "" {
				t.Errorf("upstream headers %v", up.Header)
			}
			// the same request sent straight to the fake answers the same bytes
			direct, _ := http.NewRequest("POST", g.antURL+"/v1/messages", strings.NewReader(wantBody))
			direct.Header.Set("x-api-key", "sk-ant-fake-key")
			direct.Header.Set("anthropic-version", "2023-06-01")
			dr, err := http.DefaultClient.Do(direct)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := io.ReadAll(dr.Body)
			dr.Body.Close()
			if resp.StatusCode != 200 || !bytes.Equal(got, want) {
				t.Errorf("response changed (status %d):\n%s\nwant\n%s", resp.StatusCode, got, want)
			}
			if resp.Header.Get("x-aig-provider") != "anthropic" || resp.Header.Get("x-aig-model") != "claude-sonnet-4-5" {
				t.Errorf("x-aig-provider %q x-aig-model %q", resp.Header.Get("x-aig-provider"), resp.Header.Get("x-aig-model"))
			}
		})
	}
}

func TestMessagesPassThroughError(t *testing.T) {
	g := newMixedGateway(t)
	resp := g.post(t, "/v1/messages", `{"model":"anthropic/error-529","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`)
	body := readBody(t, resp)
	if resp.StatusCode != 529 || string(body) != `{"error":{"message":"fake provider error 529","type":"overloaded_error"},"type":"error"}` ||
		resp.Header.Get("request-id") != "req_fake" {
		t.Errorf("status %d body %s", resp.StatusCode, body)
	}
}

func TestMessagesAliasWithParamsIsTranslated(t *testing.T) {
	g := newMixedGateway(t)
	resp := g.post(t, "/v1/messages", `{"model":"claude-tuned","max_tokens":5,"top_k":3,"messages":[{"role":"user","content":"x"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, readBody(t, resp))
	}
	var sent map[string]any
	_ = json.Unmarshal(g.anthropic.Last().Body, &sent)
	if sent["temperature"] != 0.2 || sent["model"] != "claude-sonnet-4-5" {
		t.Errorf("upstream got %s", g.anthropic.Last().Body)
	}
	var m message
	_ = json.Unmarshal(readBody(t, resp), &m)
	if m.Type != "message" || m.Content[0].Text != "Hello from fake: x" {
		t.Errorf("message = %+v", m)
	}
}

func TestMessagesFallbackFromAnthropicToOpenAI(t *testing.T) {
	g := newMixedGateway(t)
	resp := g.post(t, "/v1/messages", `{"model":"claude-then-gpt","max_tokens":5,"messages":[{"role":"user","content":"x"}]}`)
	body := readBody(t, resp)
	var m message
	_ = json.Unmarshal(body, &m)
	if resp.StatusCode != 200 || resp.Header.Get("x-aig-step") != "1" || resp.Header.Get("x-aig-provider") != "openai" || m.Content[0].Text != "Hello from fake: x" {
		t.Errorf("status %d step %q provider %q body %s", resp.StatusCode, resp.Header.Get("x-aig-step"), resp.Header.Get("x-aig-provider"), body)
	}
	if len(g.anthropic.Requests()) != 1 {
		t.Errorf("anthropic saw %d requests, want 1", len(g.anthropic.Requests()))
	}
}

func TestChatCompletionsServedByAnthropic(t *testing.T) {
	g := newMixedGateway(t)
	resp := g.post(t, "/v1/chat/completions", `{"model":"anthropic/claude-sonnet-4-5","messages":[{"role":"system","content":"s"},{"role":"user","content":"ping"}]}`)
	var out llm.ChatResponse
	if err := json.Unmarshal(readBody(t, resp), &out); err != nil {
		t.Fatal(err)
	}
	if out.Object != "chat.completion" || out.Choices[0].Message.Content.Text() != "Hello from fake: ping" || out.Usage.TotalTokens == 0 {
		t.Errorf("response = %+v", out)
	}
	var sent map[string]any
	_ = json.Unmarshal(g.anthropic.Last().Body, &sent)
	if sent["system"] != "s" || sent["max_tokens"] != float64(4096) {
		t.Errorf("anthropic upstream got %s", g.anthropic.Last().Body)
	}

	resp = g.post(t, "/v1/chat/completions", `{"model":"anthropic/tools","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"w"}]}`)
	data := sseData(t, readBody(t, resp))
	if data[len(data)-1] != "[DONE]" {
		t.Fatalf("no [DONE]: %v", data)
	}
	var acc llm.Accumulator
	for _, d := range data[:len(data)-1] {
		var ch llm.ChatChunk
		if err := json.Unmarshal([]byte(d), &ch); err != nil {
			t.Fatal(err)
		}
		acc.Add(&ch)
	}
	r := acc.Response()
	tc := r.Choices[0].Message.ToolCalls
	if len(tc) != 1 || tc[0].ID != "toolu_fake_1" || tc[0].Function.Arguments != `{"city":"Paris"}` || r.Choices[0].FinishReason != "tool_calls" || r.Usage == nil {
		t.Errorf("streamed response = %+v", r)
	}

	resp = g.post(t, "/v1/chat/completions", `{"model":"anthropic/error-529","messages":[{"role":"user","content":"x"}]}`)
	e := decodeError(t, resp)
	if resp.StatusCode != 529 || e.Error.Code == nil || *e.Error.Code != "overloaded_error" {
		t.Errorf("status %d error %+v", resp.StatusCode, e)
	}

	resp = g.post(t, "/v1/chat/completions", `{"model":"anthropic/stream-error","stream":true,"messages":[{"role":"user","content":"a b"}]}`)
	data = sseData(t, readBody(t, resp))
	var last apiError
	if err := json.Unmarshal([]byte(data[len(data)-1]), &last); err != nil || last.Error.Message != "Overloaded" {
		t.Errorf("stream does not end with the provider's error: %v", data)
	}
}

// TestChatFeaturesReachAnthropic: vision, JSON mode (schema and object),
// tool choice and sampling parameters of an OpenAI request arrive at
// Anthropic in its own terms.
func TestChatFeaturesReachAnthropic(t *testing.T) {
	g := newMixedGateway(t)
	resp := g.post(t, "/v1/chat/completions", `{"model":"anthropic/claude-sonnet-4-5","max_tokens":50,"temperature":0.1,"stop":"END",
		"messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},
			{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
			{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]}],
		"response_format":{"type":"json_schema","json_schema":{"name":"animal","schema":{"type":"object","properties":{"kind":{"type":"string"}}}}},
		"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"lookup"}}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, readBody(t, resp))
	}
	var sent struct {
		MaxTokens     int      `json:"max_tokens"`
		Temperature   float64  `json:"temperature"`
		StopSequences []string `json:"stop_sequences"`
		Messages      []struct {
			Content []struct {
				Type   string `json:"type"`
				Source struct {
					Type, URL, MediaType, Data string
				} `json:"source"`
			} `json:"content"`
		} `json:"messages"`
		OutputConfig struct {
			Format struct {
				Type   string          `json:"type"`
				Schema json.RawMessage `json:"schema"`
			} `json:"format"`
		} `json:"output_config"`
		ToolChoice struct{ Type, Name string } `json:"tool_choice"`
	}
	if err := json.Unmarshal(g.anthropic.Last().Body, &sent); err != nil {
		t.Fatal(err)
	}
	c := sent.Messages[0].Content
	if len(c) != 3 || c[1].Type != "image" || c[1].Source.Type != "url" || c[1].Source.URL != "https://example.com/cat.jpg" ||
		c[2].Source.Type != "base64" || c[2].Source.Data != "iVBORw0KGgo=" {
		t.Errorf("images reached Anthropic as %s", g.anthropic.Last().Body)
	}
	if sent.OutputConfig.Format.Type != "json_schema" || !strings.Contains(string(sent.OutputConfig.Format.Schema), `"kind"`) {
		t.Errorf("json_schema reached Anthropic as %s", g.anthropic.Last().Body)
	}
	if sent.ToolChoice.Type != "tool" || sent.ToolChoice.Name != "lookup" || sent.MaxTokens != 50 || sent.Temperature != 0.1 || len(sent.StopSequences) != 1 {
		t.Errorf("parameters reached Anthropic as %s", g.anthropic.Last().Body)
	}

	resp = g.post(t, "/v1/chat/completions", `{"model":"anthropic/claude-sonnet-4-5","response_format":{"type":"json_object"},
		"messages":[{"role":"user","content":"a cat"}]}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var sys struct {
		System string `json:"system"`
	}
	_ = json.Unmarshal(g.anthropic.Last().Body, &sys)
	if !strings.Contains(sys.System, "JSON object") {
		t.Errorf("json_object mode did not reach Anthropic as an instruction: %s", g.anthropic.Last().Body)
	}
}

// TestMessagesFeaturesReachOpenAI: images, structured output and
// tool_choice of a /v1/messages request arrive at an OpenAI-format
// provider in its terms.
func TestMessagesFeaturesReachOpenAI(t *testing.T) {
	g := newMixedGateway(t)
	resp := g.post(t, "/v1/messages", `{"model":"openai/gpt-4o","max_tokens":50,
		"messages":[{"role":"user","content":[
			{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},
			{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},
			{"type":"text","text":"what is this?"}]}],
		"output_config":{"format":{"type":"json_schema","schema":{"type":"object","properties":{"kind":{"type":"string"}}}}},
		"tools":[{"name":"lookup","input_schema":{"type":"object"}}],"tool_choice":{"type":"any"}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, readBody(t, resp))
	}
	var sent llm.ChatRequest
	if err := json.Unmarshal(g.openai.Last().Body, &sent); err != nil {
		t.Fatal(err)
	}
	parts := sent.Messages[0].Content.Parts()
	if len(parts) != 3 || parts[0].ImageURL == nil || parts[0].ImageURL.URL != "data:image/png;base64,iVBORw0KGgo=" ||
		parts[1].ImageURL == nil || parts[1].ImageURL.URL != "https://example.com/cat.jpg" || parts[2].Text != "what is this?" {
		t.Errorf("images reached OpenAI as %s", g.openai.Last().Body)
	}
	if sent.ResponseFormat == nil || sent.ResponseFormat.Type != "json_schema" || sent.ToolChoice == nil || sent.ToolChoice.Mode != "required" {
		t.Errorf("structured output / tool_choice reached OpenAI as %s", g.openai.Last().Body)
	}
}

// TestMessagesPassThroughIsCached: a /v1/messages answer that passed
// through natively is served from the cache on the next identical
// request, byte for byte, streamed and not, each from its own entry.
func TestMessagesPassThroughIsCached(t *testing.T) {
	g := newMixedGateway(t)
	for _, stream := range []string{"false", "true"} {
		body := `{"model":"anthropic/claude-sonnet-4-5","max_tokens":20,"stream":` + stream + `,"messages":[{"role":"user","content":"cache me"}]}`
		first := g.post(t, "/v1/messages", body, "x-aig-cache-ttl", "60", "anthropic-version", "2023-06-01")
		firstBody := readBody(t, first)
		second := g.post(t, "/v1/messages", body, "x-aig-cache-ttl", "60", "anthropic-version", "2023-06-01")
		secondBody := readBody(t, second)
		if first.Header.Get("x-aig-cache-status") != "MISS" || second.Header.Get("x-aig-cache-status") != "HIT" {
			t.Errorf("stream=%s: cache status %q then %q", stream, first.Header.Get("x-aig-cache-status"), second.Header.Get("x-aig-cache-status"))
		}
		if !bytes.Equal(firstBody, secondBody) || second.Header.Get("Content-Type") != first.Header.Get("Content-Type") {
			t.Errorf("stream=%s: cached answer differs:\n%s\n%s", stream, firstBody, secondBody)
		}
	}
	if n := len(g.anthropic.Requests()); n != 2 {
		t.Errorf("upstream saw %d requests, want 2 (one per stream mode)", n)
	}
	// an OpenAI-format request for the same conversation is another entry
	resp := g.post(t, "/v1/chat/completions", `{"model":"anthropic/claude-sonnet-4-5","max_tokens":20,"messages":[{"role":"user","content":"cache me"}]}`,
		"x-aig-cache-ttl", "60")
	var out llm.ChatResponse
	if err := json.Unmarshal(readBody(t, resp), &out); err != nil || out.Object != "chat.completion" {
		t.Errorf("OpenAI client got %+v (%v)", out, err)
	}
}
