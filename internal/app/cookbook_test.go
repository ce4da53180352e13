package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
	"github.com/aigateway/aigateway/internal/provider/providertest"
)

// fleet is a gateway in front of one fake upstream per provider id the
// cookbook configs use, reached through the same environment variables a
// user would set.
type fleet struct {
	fakes map[string]*providertest.Fake
	gw    *Gateway
	srv   *httptest.Server
}

const adminToken = "admin-secret"

func newFleet(t *testing.T, yaml string) *fleet {
	t.Helper()
	f := &fleet{fakes: map[string]*providertest.Fake{}}
	env := map[string]string{"AIGATEWAY_ADMIN_TOKEN": adminToken}
	for _, v := range []struct{ id, urlVar, keyVar, path string }{
		{"openai", "OPENAI_BASE_URL", "OPENAI_API_KEY", "/v1"},
		{"azure", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", ""},
		{"azure-eastus", "AZURE_EASTUS_ENDPOINT", "AZURE_EASTUS_API_KEY", ""},
		{"azure-westeurope", "AZURE_WESTEUROPE_ENDPOINT", "AZURE_WESTEUROPE_API_KEY", ""},
		{"groq", "GROQ_BASE_URL", "GROQ_API_KEY", "/v1"},
		{"deepseek", "DEEPSEEK_BASE_URL", "DEEPSEEK_API_KEY", "/v1"},
	} {
		fake := providertest.NewFake(providertest.Options{APIKey: "sk-" + v.id})
		up := httptest.NewServer(fake)
		t.Cleanup(up.Close)
		f.fakes[v.id] = fake
		env[v.urlVar], env[v.keyVar] = up.URL+v.path, "sk-"+v.id
	}
	cfg, err := config.Parse([]byte(yaml), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config:\n%v", err)
	}
	cfg.DataDir = t.TempDir()
	gw, err := New(cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	t.Cleanup(func() { gw.Close() })
	f.gw = gw
	f.srv = httptest.NewServer(gw.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func cookbook(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "routing", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// chatReq posts a chat request and returns the response with its body read.
func (f *fleet) chatReq(t *testing.T, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/chat/completions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// servedBy posts and returns x-aig-provider, failing on a non-200.
func (f *fleet) servedBy(t *testing.T, body string, headers ...string) string {
	t.Helper()
	resp, b := f.chatReq(t, body, headers...)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return resp.Header.Get("x-aig-provider")
}

func failWith(status int, code, msg string) providertest.Behaviour {
	return func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		if status == 429 {
			w.Header().Set("Retry-After", "0")
		}
		providertest.WriteOpenAIError(w, status, "api_error", code, msg)
		return true
	}
}

func TestCookbookFilesAreAllExercised(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "routing", "*.yaml"))
	tested := map[string]bool{"fallback-chain.yaml": true, "multi-region.yaml": true, "ab-test.yaml": true,
		"tier-routing.yaml": true, "cost-first.yaml": true}
	if len(files) != len(tested) {
		t.Fatalf("examples/routing has %d files, the cookbook tests cover %d", len(files), len(tested))
	}
	for _, f := range files {
		if !tested[filepath.Base(f)] {
			t.Errorf("%s has no cookbook test", f)
		}
	}
}

func TestCookbookFallbackChain(t *testing.T) {
	f := newFleet(t, cookbook(t, "fallback-chain.yaml"))
	boom := failWith(500, "", "boom")
	slow := failWith(429, "rate_limit_exceeded", "slow down")
	f.fakes["openai"].Enqueue(boom, boom)
	f.fakes["azure"].Enqueue(slow, slow)
	resp, b := f.chatReq(t, chatBody("chat", "hello"), "x-aig-retry-delay", "1")
	if resp.StatusCode != 200 || resp.Header.Get("x-aig-provider") != "groq" || resp.Header.Get("x-aig-step") != "2" {
		t.Fatalf("status %d provider %q step %q: %s", resp.StatusCode, resp.Header.Get("x-aig-provider"), resp.Header.Get("x-aig-step"), b)
	}
	if resp.Header.Get("x-aig-model") != "llama-3.3-70b-versatile" {
		t.Errorf("x-aig-model %q", resp.Header.Get("x-aig-model"))
	}
	for id, want := range map[string]int{"openai": 2, "azure": 2, "groq": 1} {
		if n := len(f.fakes[id].Requests()); n != want {
			t.Errorf("%s got %d requests, want %d (two attempts per target)", id, n, want)
		}
	}
	var sent map[string]any
	_ = json.Unmarshal(f.fakes["groq"].Last().Body, &sent)
	if sent["temperature"] != 0.3 {
		t.Errorf("groq target's params not applied: %s", f.fakes["groq"].Last().Body)
	}

	// context_length is in fallback_on: the next target gets the prompt
	f.fakes["openai"].Enqueue(failWith(400, "context_length_exceeded", "This model's maximum context length is 128000 tokens."))
	if got := f.servedBy(t, chatBody("chat", "a very long prompt")); got != "azure" {
		t.Fatalf("context-length error served by %s, want azure", got)
	}
	// a plain bad request is the caller's problem: no fallback
	f.fakes["openai"].Enqueue(failWith(400, "invalid_value", "temperature out of range"))
	if resp, _ := f.chatReq(t, chatBody("chat", "x")); resp.StatusCode != 400 {
		t.Fatalf("bad request: status %d, want the provider's 400", resp.StatusCode)
	}
}

func TestCookbookFallbackChainStreamBreaksWithoutFallback(t *testing.T) {
	f := newFleet(t, cookbook(t, "fallback-chain.yaml"))
	// openai starts the stream, sends one event, then the connection dies
	f.fakes["openai"].Enqueue(func(w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fmt.Fprint(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return true
	})
	resp, b := f.chatReq(t, chatBody("chat", "hi", `"stream":true`))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	data := sseData(t, b)
	if len(data) < 2 || !strings.Contains(data[0], "Hel") {
		t.Fatalf("stream %v", data)
	}
	var e apiError
	if err := json.Unmarshal([]byte(data[len(data)-1]), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("stream does not end with an error event: %v", data)
	}
	if n := len(f.fakes["azure"].Requests()) + len(f.fakes["groq"].Requests()); n != 0 {
		t.Fatalf("%d fallback requests after the first streamed byte", n)
	}
	if n := len(f.fakes["openai"].Requests()); n != 1 {
		t.Fatalf("openai retried after the stream started: %d requests", n)
	}
}

func TestCookbookMultiRegion(t *testing.T) {
	f := newFleet(t, cookbook(t, "multi-region.yaml"))
	boom := failWith(503, "", "region down")
	f.fakes["azure-eastus"].Enqueue(boom, boom, boom, boom, boom, boom)
	count := map[string]int{}
	for i := 0; i < 30; i++ {
		count[f.servedBy(t, chatBody("gpt-4o", "hi"))]++
	}
	if count["azure-eastus"] != 0 {
		t.Fatalf("failing region served %d requests", count["azure-eastus"])
	}
	if n := len(f.fakes["azure-eastus"].Requests()); n > 3 {
		t.Fatalf("failing region got %d attempts; least-latency should move off it at once", n)
	}
	if r := f.fakes["azure-westeurope"].Last(); r.Path != "" && !strings.Contains(r.Path, "/openai/deployments/gpt-4o-prod/") {
		t.Errorf("azure deployment URL %q", r.Path)
	}
	health := adminHealth(t, f)
	for _, d := range []string{"azure-eastus/gpt-4o", "azure-westeurope/gpt-4o", "openai/gpt-4o"} {
		h, ok := health[d]
		if !ok {
			t.Errorf("health lacks %s: %v", d, health)
			continue
		}
		if h["rpm"] == nil && d != "openai/gpt-4o" {
			t.Errorf("%s: configured rpm not shown: %v", d, h)
		}
		if h["in_flight"].(float64) != 0 {
			t.Errorf("%s: in_flight %v after all requests ended", d, h["in_flight"])
		}
	}
}

// adminHealth fetches GET /admin/v1/providers/health keyed by deployment.
func adminHealth(t *testing.T, f *fleet) map[string]map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+"/admin/v1/providers/health", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("health: %d %s", resp.StatusCode, b)
	}
	var out struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	m := map[string]map[string]any{}
	for _, d := range out.Data {
		m[d["deployment"].(string)] = d
	}
	return m
}

func TestAdminHealthShowsOpenBreaker(t *testing.T) {
	f := newFleet(t, `
providers:
  - {id: openai, base_url: "${OPENAI_BASE_URL}", api_key: "${OPENAI_API_KEY}"}
  - {id: groq, base_url: "${GROQ_BASE_URL}", api_key: "${GROQ_API_KEY}"}
models:
  - name: m
    targets: [{model: openai/gpt-4o}, {model: groq/llama}]
health:
  breaker: {consecutive_failures: 2, cooldown: 1m}
`)
	boom := failWith(500, "", "boom")
	f.fakes["openai"].Enqueue(boom, boom)
	for i := 0; i < 3; i++ {
		if got := f.servedBy(t, chatBody("m", "x")); got != "groq" {
			t.Fatalf("served by %s", got)
		}
	}
	if n := len(f.fakes["openai"].Requests()); n != 2 {
		t.Fatalf("openai got %d requests; the third should skip its open breaker", n)
	}
	h := adminHealth(t, f)["openai/gpt-4o"]
	if h["state"] != "open" || h["retry_at"] == nil || h["provider"] != "openai" {
		t.Fatalf("openai health %v", h)
	}
	if adminHealth(t, f)["groq/llama"]["state"] != "closed" {
		t.Fatal("groq not closed")
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/admin/v1/providers/health", nil)
	resp, _ := http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("health without admin token: %d", resp.StatusCode)
	}
}

func TestCookbookABTest(t *testing.T) {
	f := newFleet(t, cookbook(t, "ab-test.yaml"))
	const users = 600
	branch := map[string]string{}
	candidate := 0
	for i := 0; i < users; i++ {
		u := fmt.Sprintf("user-%d", i)
		p := f.servedBy(t, chatBody("assistant", "hi", `"user":"`+u+`"`))
		branch[u] = p
		if p == "groq" {
			candidate++
		}
	}
	// σ ≈ 0.012 at p=0.1, n=600; ±0.045 is over 3.5σ
	if share := float64(candidate) / users; math.Abs(share-0.10) > 0.045 {
		t.Fatalf("candidate share %.3f, want 0.10", share)
	}
	for i := 0; i < 40; i++ {
		u := fmt.Sprintf("user-%d", i)
		if p := f.servedBy(t, chatBody("assistant", "again", `"user":"`+u+`"`)); p != branch[u] {
			t.Fatalf("%s moved from %s to %s", u, branch[u], p)
		}
		// metadata names the same user for SDKs that cannot send "user"
		if p := f.servedBy(t, chatBody("assistant", "again"), "x-aig-metadata", `{"user":"`+u+`"}`); p != branch[u] {
			t.Fatalf("%s via metadata moved from %s to %s", u, branch[u], p)
		}
	}
	resp, err := http.Get(f.srv.URL + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []llm.Model `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&list)
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
	}
	if i := sort.SearchStrings(ids, "assistant"); i == len(ids) || ids[i] != "assistant" {
		t.Fatalf("GET /v1/models does not list the route: %v", ids)
	}
}

func TestCookbookTierRouting(t *testing.T) {
	f := newFleet(t, cookbook(t, "tier-routing.yaml"))
	// the tier comes from the caller's gateway key; set it as
	// authentication would and call the router
	c := &pipeline.Call{Kind: pipeline.KindChat, Model: "chat", HTTP: httptest.NewRequest("POST", "/", nil),
		Chat: &llm.ChatRequest{Model: "chat", Messages: []llm.Message{{Role: "user", Content: llm.TextContent("hi")}}}}
	c.Identity.Tier = "enterprise"
	res, err := f.gw.Runtime().router.Serve(context.Background(), c)
	if err != nil || res.Chat == nil {
		t.Fatalf("enterprise call: %v", err)
	}
	if c.Outcome.Provider != "openai" || c.Outcome.ServedModel != "gpt-4o" || c.Outcome.Route != "chat/enterprise" {
		t.Fatalf("enterprise served by %s/%s via %q", c.Outcome.Provider, c.Outcome.ServedModel, c.Outcome.Route)
	}

	resp, _ := f.chatReq(t, chatBody("chat", strings.Repeat("word ", 4001)))
	if resp.Header.Get("x-aig-model") != "gpt-4.1" {
		t.Fatalf("long prompt served by %s", resp.Header.Get("x-aig-model"))
	}
	resp, _ = f.chatReq(t, chatBody("chat", "short"))
	if resp.Header.Get("x-aig-model") != "gpt-4o-mini" {
		t.Fatalf("default served by %s", resp.Header.Get("x-aig-model"))
	}
	// spend the daily budget (a custom cost of 1 USD per token makes each
	// request cost several dollars); then the cheaper model takes over
	cost := []string{"x-aig-custom-cost", `{"per_token_in":1,"per_token_out":1}`}
	model := ""
	for i := 0; i < 30 && model != "llama-3.1-8b-instant"; i++ {
		resp, b := f.chatReq(t, chatBody("chat", "short"), cost...)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		model = resp.Header.Get("x-aig-model")
	}
	if model != "llama-3.1-8b-instant" {
		t.Fatal("budget never ran out")
	}
}

func TestCookbookCostFirst(t *testing.T) {
	f := newFleet(t, cookbook(t, "cost-first.yaml"))
	if got := f.servedBy(t, chatBody("economy", "hi")); got != "groq" {
		t.Fatalf("served by %s, want the cheapest (groq)", got)
	}
	f.fakes["groq"].Enqueue(failWith(500, "", "down"))
	resp, _ := f.chatReq(t, chatBody("economy", "hi"))
	if p := resp.Header.Get("x-aig-provider"); p != "openai" || resp.Header.Get("x-aig-step") != "1" {
		t.Fatalf("after the cheapest failed: %s at step %s, want openai (next cheapest) at 1", p, resp.Header.Get("x-aig-step"))
	}
	// groq's rpm of 30 is used up: the next cheapest serves without trying it
	for i := 0; i < 28; i++ {
		f.servedBy(t, chatBody("economy", "hi"))
	}
	before := len(f.fakes["groq"].Requests())
	if got := f.servedBy(t, chatBody("economy", "hi")); got != "openai" {
		t.Fatalf("groq at capacity, but served by %s", got)
	}
	if len(f.fakes["groq"].Requests()) != before {
		t.Fatal("a deployment at capacity was still called")
	}
}

func TestReadmeQuotesTheCookbook(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Skip("no README.md")
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "routing", "*.yaml"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if !strings.Contains(string(readme), "```yaml\n"+string(b)+"```") {
			t.Errorf("README's routing cookbook does not quote %s as it is", filepath.Base(f))
		}
	}
}
