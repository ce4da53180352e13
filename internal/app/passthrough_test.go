package app

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/provider/providertest"
)

func TestPassthroughForwardsUnchangedAndInjectsCredential(t *testing.T) {
	g := newTestGateway(t, "")
	body := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"native"}],"weird_field":[1,2]}`
	resp := g.do(t, "POST", "/openai/chat/completions?foo=bar&x=1%202", body,
		"x-aig-metadata", `{"team":"a"}`, "cf-aig-event-id", "ev1", "X-Custom", "kept")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	up := g.fake.Last()
	if up.Path != "/v1/chat/completions" || up.Query != "foo=bar&x=1%202" {
		t.Errorf("upstream path %q query %q", up.Path, up.Query)
	}
	if string(up.Body) != body {
		t.Errorf("body changed:\n%s\n%s", up.Body, body)
	}
	if up.Header.Get("Authorization") != "Bearer sk-fake" {
		t.Errorf("credential not injected: %q", up.Header.Get("Authorization"))
	}
	if up.Header.Get("X-Custom") != "kept" {
		t.Error("end-to-end header dropped")
	}
	for k := range up.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-aig-") || strings.HasPrefix(lk, "cf-aig-") {
			t.Errorf("gateway header %s leaked upstream", k)
		}
	}
	out := readBody(t, resp)
	if !strings.Contains(string(out), "Hello from fake: native") {
		t.Errorf("response %s", out)
	}
	if resp.Header.Get("x-aig-provider") != "openai" || resp.Header.Get("x-aig-event-id") != "ev1" {
		t.Errorf("headers: provider %q event %q", resp.Header.Get("x-aig-provider"), resp.Header.Get("x-aig-event-id"))
	}
}

func TestPassthroughKeepsCallerCredential(t *testing.T) {
	g := newTestGateway(t, "")
	resp := g.do(t, "POST", "/openai/chat/completions", chatBody("gpt-4o-mini", "x"), "Authorization", "Bearer sk-callers-own")
	// the fake only accepts sk-fake, so the caller's key must have been sent
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := g.fake.Last().Header.Get("Authorization"); got != "Bearer sk-callers-own" {
		t.Errorf("upstream saw %q", got)
	}
	// the provider's own error body is passed on unchanged
	var e apiError
	if err := json.Unmarshal(readBody(t, resp), &e); err != nil || e.Error.Message != "Incorrect API key provided." {
		t.Errorf("provider error not passed through: %+v", e)
	}
}

func TestPassthroughStreamsAndReadsUsage(t *testing.T) {
	g := newTestGateway(t, "")
	resp := g.do(t, "POST", "/openai/chat/completions",
		`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a b"}]}`)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	data := sseData(t, readBody(t, resp))
	if data[len(data)-1] != "[DONE]" {
		t.Errorf("stream %v", data)
	}
}

func TestPassthroughRejectsDotDot(t *testing.T) {
	g := newTestGateway(t, "")
	req, _ := http.NewRequest("GET", g.srv.URL+"/openai/v1/%2e%2e/%2e%2e/secrets", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := len(g.fake.Requests()); n != 0 {
		t.Errorf("%d requests reached upstream", n)
	}
}

func TestPassthroughUnknownProvider(t *testing.T) {
	g := newTestGateway(t, "")
	resp := g.do(t, "POST", "/nope/chat/completions", `{}`)
	if resp.StatusCode != 404 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	decodeError(t, resp)
}

func TestUniversalFallsBackAndSaysWhichStep(t *testing.T) {
	g := newTestGateway(t, "")
	body := `[
	  {"provider":"openai","endpoint":"chat/completions","headers":{},"query":{"model":"error-500","messages":[{"role":"user","content":"x"}]}},
	  {"provider":"openai","endpoint":"chat/completions","headers":{"X-Step":"two"},"query":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"second"}]}}
	]`
	resp := g.do(t, "POST", "/", body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	if resp.Header.Get("x-aig-step") != "1" {
		t.Errorf("x-aig-step = %q", resp.Header.Get("x-aig-step"))
	}
	if !strings.Contains(string(readBody(t, resp)), "Hello from fake: second") {
		t.Error("second step did not answer")
	}
	reqs := g.fake.Requests()
	if len(reqs) != 2 || reqs[1].Header.Get("X-Step") != "two" {
		t.Errorf("upstream saw %d requests", len(reqs))
	}
}

func TestUniversalAllFailReturnsLastProviderError(t *testing.T) {
	g := newTestGateway(t, "")
	body := `[{"provider":"openai","endpoint":"chat/completions","query":{"model":"error-500","messages":[]}},
	          {"provider":"openai","endpoint":"chat/completions","query":{"model":"error-429","messages":[]}}]`
	resp := g.do(t, "POST", "/", body)
	if resp.StatusCode != 429 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if e := decodeError(t, resp); !strings.Contains(e.Error.Message, "429") {
		t.Errorf("message %q", e.Error.Message)
	}
}

func TestUniversalBadInput(t *testing.T) {
	g := newTestGateway(t, "")
	for _, body := range []string{`[]`, `{"provider":"openai"}`, `[{"provider":"openai","endpoint":"../x","query":{}}]`, `nope`} {
		resp := g.do(t, "POST", "/", body)
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d", body, resp.StatusCode)
		}
	}
}

func TestAliasFallsBackInOrderWithParams(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
models:
  - name: resilient
    targets:
      - model: openai/error-503
      - model: openai/gpt-4o-mini
        params: {temperature: 0.3}
`)
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("resilient", "x"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	if resp.Header.Get("x-aig-step") != "1" || resp.Header.Get("x-aig-model") != "gpt-4o-mini" {
		t.Errorf("step %q model %q", resp.Header.Get("x-aig-step"), resp.Header.Get("x-aig-model"))
	}
	var sent map[string]any
	_ = json.Unmarshal(g.fake.Last().Body, &sent)
	if sent["temperature"] != 0.3 {
		t.Errorf("params not applied: %s", g.fake.Last().Body)
	}
	models := string(readBody(t, g.do(t, "GET", "/v1/models", "")))
	if !strings.Contains(models, `"resilient"`) || !strings.Contains(models, "openai/gpt-4o-mini") {
		t.Errorf("models list %s", models)
	}
}

func TestAliasDoesNotFallBackOnCallerError(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
models:
  - name: a
    targets: [{model: openai/error-400}, {model: openai/gpt-4o-mini}]
`)
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("a", "x"))
	if resp.StatusCode != 400 || len(g.fake.Requests()) != 1 {
		t.Fatalf("status %d after %d upstream calls", resp.StatusCode, len(g.fake.Requests()))
	}
}

func TestMaxAttemptsRetries(t *testing.T) {
	g := newTestGateway(t, "")
	fail := func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		providertest.WriteOpenAIError(w, 503, "api_error", "", "busy")
		return true
	}
	g.fake.Enqueue(fail, fail)
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x"),
		"x-aig-max-attempts", "3", "x-aig-retry-delay", "1", "x-aig-backoff", "constant")
	if resp.StatusCode != 200 || len(g.fake.Requests()) != 3 {
		t.Fatalf("status %d after %d attempts", resp.StatusCode, len(g.fake.Requests()))
	}
	g.fake.Enqueue(fail, fail)
	resp = g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x"), "x-aig-max-attempts", "2", "x-aig-retry-delay", "1")
	if resp.StatusCode != 503 {
		t.Fatalf("status %d, want the last failure", resp.StatusCode)
	}
}

func TestEmbeddingsAndCompatPaths(t *testing.T) {
	g := newTestGateway(t, "")
	for _, prefix := range []string{"/v1", "/compat"} {
		resp := g.do(t, "POST", prefix+"/embeddings", `{"model":"openai/text-embedding-3-small","input":["a","b"]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", prefix, resp.StatusCode)
		}
		var out struct {
			Data []struct {
				Embedding []float64 `json:"embedding"`
			} `json:"data"`
		}
		_ = json.Unmarshal(readBody(t, resp), &out)
		if len(out.Data) != 2 || len(out.Data[0].Embedding) != 8 {
			t.Errorf("%s: %+v", prefix, out)
		}
		if resp := g.do(t, "POST", prefix+"/chat/completions", chatBody("openai/gpt-4o-mini", "x")); resp.StatusCode != 200 {
			t.Errorf("%s chat: %d", prefix, resp.StatusCode)
		}
		if resp := g.do(t, "GET", prefix+"/models", ""); resp.StatusCode != 200 {
			t.Errorf("%s models: %d", prefix, resp.StatusCode)
		}
	}
	resp := g.do(t, "POST", "/v1/embeddings", `{"model":"openai/x","input":[]}`)
	if resp.StatusCode != 400 {
		t.Errorf("empty input: %d", resp.StatusCode)
	}
}

func TestAzureDeploymentURLs(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: azure-openai
    base_url: ${FAKE_ROOT}
    api_key: sk-fake
    api_version: 2024-06-01
    deployments: {gpt-4o: prod-4o}
`)
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("azure-openai/gpt-4o", "x"))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, readBody(t, resp))
	}
	up := g.fake.Last()
	if up.Path != "/openai/deployments/prod-4o/chat/completions" || up.Query != "api-version=2024-06-01" {
		t.Errorf("upstream %s?%s", up.Path, up.Query)
	}
	if up.Header.Get("api-key") != "sk-fake" || up.Header.Get("Authorization") != "" {
		t.Errorf("azure auth headers: api-key %q authorization %q", up.Header.Get("api-key"), up.Header.Get("Authorization"))
	}
	resp = g.do(t, "POST", "/v1/chat/completions", chatBody("azure-openai/gpt-4o", "x", `"stream":true`))
	if data := sseData(t, readBody(t, resp)); data[len(data)-1] != "[DONE]" {
		t.Errorf("azure stream %v", data)
	}
	resp = g.do(t, "POST", "/v1/embeddings", `{"model":"azure-openai/emb","input":"x"}`)
	if resp.StatusCode != 200 || g.fake.Last().Path != "/openai/deployments/emb/embeddings" {
		t.Errorf("azure embeddings: %d %s", resp.StatusCode, g.fake.Last().Path)
	}
	resp = g.do(t, "POST", "/azure-openai/openai/deployments/prod-4o/chat/completions?api-version=2024-06-01", chatBody("gpt-4o", "native"))
	up = g.fake.Last()
	if resp.StatusCode != 200 || up.Path != "/openai/deployments/prod-4o/chat/completions" || up.Header.Get("api-key") != "sk-fake" {
		t.Errorf("azure passthrough: %d %s api-key %q", resp.StatusCode, up.Path, up.Header.Get("api-key"))
	}
}

func TestOllamaUsesV1UnderRootURL(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: ollama
    base_url: ${FAKE_ROOT}
`)
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("ollama/llama3.2", "x"))
	if resp.StatusCode != 401 && resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if p := g.fake.Last().Path; p != "/v1/chat/completions" {
		t.Errorf("unified path %q", p)
	}
	g.do(t, "POST", "/v1/embeddings", `{"model":"ollama/nomic-embed-text","input":"x"}`,
		"x-aig-max-attempts", "1")
	if p := g.fake.Last().Path; p != "/v1/embeddings" {
		t.Errorf("embeddings path %q", p)
	}
	g.do(t, "POST", "/ollama/api/chat", `{"model":"llama3.2"}`)
	if p := g.fake.Last().Path; p != "/api/chat" {
		t.Errorf("native path %q", p)
	}
}

func TestAdminAPI(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
admin: {token: admin-secret}
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
`)
	if resp := g.do(t, "GET", "/admin/v1/providers", ""); resp.StatusCode != 401 {
		t.Errorf("no token: %d", resp.StatusCode)
	}
	if resp := g.do(t, "GET", "/admin/v1/providers", "", "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	resp := g.do(t, "GET", "/admin/v1/config", "", "Authorization", "Bearer admin-secret")
	body := string(readBody(t, resp))
	if resp.StatusCode != 200 || strings.Contains(body, "sk-fake") || strings.Contains(body, "admin-secret") {
		t.Errorf("config: %d %s", resp.StatusCode, body)
	}
	resp = g.do(t, "GET", "/admin/v1/providers", "", "Authorization", "Bearer admin-secret")
	if body := string(readBody(t, resp)); !strings.Contains(body, `"id":"openai"`) {
		t.Errorf("providers: %s", body)
	}
}

// TestOpenAIFormatFeaturesReachEveryOpenAIFormatUpstream proves that
// vision parts, JSON mode and tools arrive intact at OpenAI, Azure and
// Ollama (one wire format, three URL and auth schemes), streamed and not.
func TestOpenAIFormatFeaturesReachEveryOpenAIFormatUpstream(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
  - id: azure-openai
    base_url: ${FAKE_ROOT}
    api_key: sk-fake
  - id: ollama
    base_url: ${FAKE_ROOT}
    headers: {Authorization: Bearer sk-fake}
`)
	vision := `{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}`
	body := func(model string, stream bool) string {
		s := `{"model":"` + model + `","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},` + vision + `]}],` +
			`"response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"},"strict":true}},` +
			`"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],"tool_choice":"auto"`
		if stream {
			s += `,"stream":true`
		}
		return s + "}"
	}
	for _, p := range []string{"openai", "azure-openai", "ollama"} {
		for _, stream := range []bool{false, true} {
			resp := g.do(t, "POST", "/v1/chat/completions", body(p+"/tools", stream))
			if resp.StatusCode != 200 {
				t.Fatalf("%s stream=%v: status %d: %s", p, stream, resp.StatusCode, readBody(t, resp))
			}
			raw := readBody(t, resp)
			var sent struct {
				Messages []struct {
					Content []map[string]any `json:"content"`
				} `json:"messages"`
				ResponseFormat map[string]any `json:"response_format"`
				Tools          []any          `json:"tools"`
				ToolChoice     string         `json:"tool_choice"`
			}
			if err := json.Unmarshal(g.fake.Last().Body, &sent); err != nil {
				t.Fatal(err)
			}
			var want map[string]any
			_ = json.Unmarshal([]byte(vision), &want)
			if !reflect.DeepEqual(sent.Messages[0].Content[1], want) {
				t.Errorf("%s: image part arrived as %v", p, sent.Messages[0].Content[1])
			}
			if sent.ResponseFormat["type"] != "json_schema" || len(sent.Tools) != 1 || sent.ToolChoice != "auto" {
				t.Errorf("%s: response_format/tools lost: %s", p, g.fake.Last().Body)
			}
			if !strings.Contains(string(raw), "get_weather") || !strings.Contains(string(raw), "call_fake_1") {
				t.Errorf("%s stream=%v: tool call missing from answer: %s", p, stream, raw)
			}
		}
	}
}
