package app

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/policy/cache"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

// cacheYAML is a gateway in front of the fake with caching enabled for
// openai/* (extra is appended under cache:).
func cacheYAML(extra string) string {
	return `
providers_from_env: false
admin:
  token: admin-secret
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
cache:
  models:
    - match: "openai/*"
` + extra
}

func status(resp *http.Response) string { return resp.Header.Get("x-aig-cache-status") }

// upstreamCalls counts what reached the fake at path.
func (g *testGateway) upstreamCalls(path string) int {
	n := 0
	for _, r := range g.fake.Requests() {
		if strings.HasSuffix(r.Path, path) {
			n++
		}
	}
	return n
}

// settle waits until the entries being stored are stored.
func (g *testGateway) settle() { g.gw.Runtime().cache.Wait() }

func TestCacheOverHTTP(t *testing.T) {
	g := newTestGateway(t, cacheYAML(""))
	body := chatBody("openai/gpt-4o-mini", "ping")
	first := g.do(t, "POST", "/v1/chat/completions", body)
	firstBody := readBody(t, first)
	g.settle()
	second := g.do(t, "POST", "/v1/chat/completions", body)
	secondBody := readBody(t, second)
	if status(first) != "MISS" || status(second) != "HIT" {
		t.Fatalf("statuses %q then %q, want MISS then HIT", status(first), status(second))
	}
	if string(firstBody) != string(secondBody) {
		t.Fatalf("hit body differs:\n%s\n%s", firstBody, secondBody)
	}
	if second.Header.Get("x-aig-provider") != "openai" || second.Header.Get("x-aig-model") != "gpt-4o-mini" {
		t.Errorf("hit headers: provider %q model %q", second.Header.Get("x-aig-provider"), second.Header.Get("x-aig-model"))
	}
	if n := g.upstreamCalls("/chat/completions"); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
}

func TestCacheHeaders(t *testing.T) {
	tests := []struct {
		name    string
		model   string
		headers []string
		want    [2]string // statuses of two identical requests
	}{
		{"configured model", "openai/a", nil, [2]string{"MISS", "HIT"}},
		{"x-aig-skip-cache", "openai/b", []string{"x-aig-skip-cache", "true"}, [2]string{"BYPASS", "BYPASS"}},
		{"cf-aig-skip-cache", "openai/c", []string{"cf-aig-skip-cache", "true"}, [2]string{"BYPASS", "BYPASS"}},
		{"x-aig-cache-ttl enables an unconfigured model", "other/d", []string{"x-aig-cache-ttl", "60"}, [2]string{"MISS", "HIT"}},
		{"cf-aig-cache-ttl too", "other/e", []string{"cf-aig-cache-ttl", "60"}, [2]string{"MISS", "HIT"}},
		{"unconfigured model", "other/f", nil, [2]string{"BYPASS", "BYPASS"}},
		{"x-aig-cache-ttl of 0", "openai/g", []string{"x-aig-cache-ttl", "0"}, [2]string{"BYPASS", "BYPASS"}},
	}
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
models:
  - name: other/d
    targets: [{model: openai/d}]
  - name: other/e
    targets: [{model: openai/e}]
  - name: other/f
    targets: [{model: openai/f}]
cache:
  models: [{match: "openai/*"}]
`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := 0; i < 2; i++ {
				resp := g.do(t, "POST", "/v1/chat/completions", chatBody(tt.model, "x"), tt.headers...)
				readBody(t, resp)
				g.settle()
				if resp.StatusCode != 200 || status(resp) != tt.want[i] {
					t.Fatalf("request %d: status %d, cache %q; want %q", i+1, resp.StatusCode, status(resp), tt.want[i])
				}
			}
		})
	}
	t.Run("cf-aig-cache-key", func(t *testing.T) {
		a := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/k", "first"), "cf-aig-cache-key", "my-key")
		ab := readBody(t, a)
		g.settle()
		b := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/k", "second"), "x-aig-cache-key", "my-key")
		if bb := readBody(t, b); status(b) != "HIT" || string(bb) != string(ab) {
			t.Fatalf("same key under both spellings: %q %s", status(b), bb)
		}
	})
	t.Run("bad header is a 400", func(t *testing.T) {
		resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/a", "x"), "x-aig-cache-ttl", "soon")
		if resp.StatusCode != 400 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

// streamContent reads an SSE chat stream into the response it describes.
func streamContent(t *testing.T, resp *http.Response) (*llm.ChatResponse, bool) {
	t.Helper()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	data := sseData(t, readBody(t, resp))
	if len(data) == 0 || data[len(data)-1] != "[DONE]" {
		t.Fatalf("stream does not end with [DONE]: %v", data)
	}
	var acc llm.Accumulator
	usage := false
	for _, d := range data[:len(data)-1] {
		var ch llm.ChatChunk
		if err := json.Unmarshal([]byte(d), &ch); err != nil {
			t.Fatalf("bad chunk %s: %v", d, err)
		}
		usage = usage || ch.Usage != nil
		acc.Add(&ch)
	}
	return acc.Response(), usage
}

func TestCachedStreamReplaysTheSameContent(t *testing.T) {
	for _, m := range []string{"openai/gpt-4o-mini", "openai/tools"} {
		t.Run(m, func(t *testing.T) {
			g := newTestGateway(t, cacheYAML(""))
			body := chatBody(m, "one two three", `"stream":true`, `"stream_options":{"include_usage":true}`)
			first := g.do(t, "POST", "/v1/chat/completions", body)
			orig, _ := streamContent(t, first)
			g.settle()
			second := g.do(t, "POST", "/v1/chat/completions", body)
			replay, usage := streamContent(t, second)
			if status(first) != "MISS" || status(second) != "HIT" {
				t.Fatalf("statuses %q, %q", status(first), status(second))
			}
			o, r := orig.Choices[0], replay.Choices[0]
			if o.Message.Content.Text() != r.Message.Content.Text() || o.FinishReason != r.FinishReason ||
				fmt.Sprint(o.Message.ToolCalls) != fmt.Sprint(r.Message.ToolCalls) {
				t.Fatalf("replay differs:\n%+v\n%+v", o, r)
			}
			if !usage || *replay.Usage != *orig.Usage {
				t.Fatalf("usage: replayed %v %+v, original %+v", usage, replay.Usage, orig.Usage)
			}
			// without include_usage, the replay leaves the usage chunk out
			plain := g.do(t, "POST", "/v1/chat/completions", chatBody(m, "one two three", `"stream":true`))
			if _, usage := streamContent(t, plain); usage || status(plain) != "HIT" {
				t.Fatalf("replay without include_usage: usage %v, status %q", usage, status(plain))
			}
			// a non-streamed request is answered from the streamed entry
			resp := g.do(t, "POST", "/v1/chat/completions", chatBody(m, "one two three"))
			var out llm.ChatResponse
			if err := json.Unmarshal(readBody(t, resp), &out); err != nil {
				t.Fatal(err)
			}
			if status(resp) != "HIT" || out.Choices[0].Message.Content.Text() != o.Message.Content.Text() ||
				fmt.Sprint(out.Choices[0].Message.ToolCalls) != fmt.Sprint(o.Message.ToolCalls) {
				t.Fatalf("non-streamed from streamed entry: %q %+v", status(resp), out.Choices[0])
			}
			if n := g.upstreamCalls("/chat/completions"); n != 1 {
				t.Fatalf("upstream calls = %d, want 1", n)
			}
		})
	}
}

func TestBrokenStreamIsNotCached(t *testing.T) {
	g := newTestGateway(t, cacheYAML(""))
	for i := 0; i < 2; i++ {
		resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/break", "a b c d", `"stream":true`))
		readBody(t, resp)
		g.settle()
		if status(resp) != "MISS" {
			t.Fatalf("request %d: %q, want MISS (a broken stream is never stored)", i+1, status(resp))
		}
	}
}

func TestConcurrentIdenticalRequestsMakeOneUpstreamCall(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			g := newTestGateway(t, cacheYAML(""))
			body := chatBody("openai/slow-300", "together")
			if stream {
				body = chatBody("openai/slow-300", "together", `"stream":true`)
			}
			const n = 50
			var wg sync.WaitGroup
			texts := make([]string, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := http.Post(g.srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					if resp.StatusCode != 200 {
						t.Errorf("status %d: %s", resp.StatusCode, b)
						return
					}
					if stream {
						texts[i] = strings.Join(sseData(t, b), "")
					} else {
						var out llm.ChatResponse
						_ = json.Unmarshal(b, &out)
						texts[i] = out.Choices[0].Message.Content.Text()
					}
				}()
			}
			wg.Wait()
			if c := g.upstreamCalls("/chat/completions"); c != 1 {
				t.Fatalf("%d identical concurrent requests made %d upstream calls, want 1", n, c)
			}
			if !stream {
				for i := range texts {
					if texts[i] != "Hello from fake: together" {
						t.Fatalf("request %d got %q", i, texts[i])
					}
				}
			}
		})
	}
}

func TestEmbeddingsAndPassthroughAreCached(t *testing.T) {
	g := newTestGateway(t, cacheYAML(""))
	emb := `{"model":"openai/text-embedding-3-small","input":["a","b"]}`
	a := readBody(t, g.do(t, "POST", "/v1/embeddings", emb))
	g.settle()
	resp := g.do(t, "POST", "/v1/embeddings", emb)
	if b := readBody(t, resp); status(resp) != "HIT" || string(a) != string(b) {
		t.Fatalf("embeddings: %q", status(resp))
	}
	native := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"native"}]}`
	first := g.do(t, "POST", "/openai/chat/completions", native)
	fb := readBody(t, first)
	g.settle()
	second := g.do(t, "POST", "/openai/chat/completions", native)
	sb := readBody(t, second)
	if status(first) != "MISS" || status(second) != "HIT" || string(fb) != string(sb) || second.StatusCode != 200 {
		t.Fatalf("passthrough: %q %q %d", status(first), status(second), second.StatusCode)
	}
	if ct := second.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("passthrough hit content type %q", ct)
	}
	// an upstream error is passed through and never stored
	for i := 0; i < 2; i++ {
		resp := g.do(t, "POST", "/openai/chat/completions", `{"model":"error-400","messages":[]}`)
		readBody(t, resp)
		g.settle()
		if resp.StatusCode != 400 || status(resp) != "MISS" {
			t.Fatalf("passthrough error: %d %q", resp.StatusCode, status(resp))
		}
	}
	if n := g.upstreamCalls("/embeddings"); n != 1 {
		t.Fatalf("embedding calls = %d", n)
	}
}

func TestSemanticCacheThroughAnEmbeddingModel(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
cache:
  models: [{match: "openai/*", semantic: true}]
  semantic:
    embedding_model: openai/text-embedding-3-small
    threshold: 0.99
`)
	// the fake's embeddings are a hash of the text: equal texts are
	// similar, others are not; the same text as a content part array
	// makes a different exact key but the same prompt
	text := chatBody("openai/gpt-4o-mini", "capital of France", `"temperature":0`)
	parts := `{"model":"openai/gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":[{"type":"text","text":"capital of France"}]}]}`
	other := chatBody("openai/gpt-4o-mini", "something else", `"temperature":0`)
	want := []string{"MISS", "SEMANTIC_HIT", "MISS"}
	for i, body := range []string{text, parts, other} {
		resp := g.do(t, "POST", "/v1/chat/completions", body)
		readBody(t, resp)
		g.settle()
		if status(resp) != want[i] {
			t.Fatalf("request %d: %q, want %q", i+1, status(resp), want[i])
		}
	}
	if n := g.upstreamCalls("/embeddings"); n != 3 {
		t.Fatalf("embedding calls = %d, want one per lookup (3)", n)
	}
	if n := g.upstreamCalls("/chat/completions"); n != 2 {
		t.Fatalf("chat calls = %d, want 2", n)
	}
}

func TestCacheAdminAPI(t *testing.T) {
	g := newTestGateway(t, cacheYAML(""))
	for _, p := range []string{"a", "b"} {
		readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody("openai/m", p)))
	}
	readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody("openai/m", "k"), "x-aig-cache-key", "doc-1"))
	readBody(t, g.do(t, "POST", "/v1/chat/completions", chatBody("openai/m", "a")))
	g.settle()
	auth := []string{"Authorization", "Bearer admin-secret"}
	if resp := g.do(t, "GET", "/admin/v1/cache", ""); resp.StatusCode != 401 {
		t.Fatalf("figures without the admin token: %d", resp.StatusCode)
	}
	var f cache.Figures
	resp := g.do(t, "GET", "/admin/v1/cache", "", auth...)
	if err := json.Unmarshal(readBody(t, resp), &f); err != nil {
		t.Fatal(err)
	}
	if f.Backend != "memory" || f.Entries != 3 || f.Bytes == 0 || f.Hits != 1 || f.Misses != 3 || f.HitRate != 0.25 {
		t.Fatalf("figures %+v", f)
	}
	purge := func(body string) (int, string) {
		resp := g.do(t, "POST", "/admin/v1/cache/purge", body, auth...)
		b := readBody(t, resp)
		var out struct{ Purged int }
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, fmt.Sprint(out.Purged)
	}
	if code, _ := purge(`{}`); code != 400 {
		t.Fatalf("a purge naming nothing: %d, want 400", code)
	}
	if code, _ := purge(`{"tenant":"","colour":"red"}`); code != 400 {
		t.Fatalf("unknown field: %d, want 400", code)
	}
	if code, n := purge(`{"tenant":"","key":"doc-1"}`); code != 200 || n != "1" {
		t.Fatalf("purge by key: %d %s", code, n)
	}
	if code, n := purge(`{"all":true}`); code != 200 || n != "2" {
		t.Fatalf("purge all: %d %s", code, n)
	}
	if resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/m", "a")); status(resp) != "MISS" {
		t.Fatalf("after purge: %q", status(resp))
	}
}

func TestCacheConfigErrorsArePathLocated(t *testing.T) {
	_, err := config.Parse([]byte(`
providers_from_env: false
cache:
  backend: redis
  default_ttl: 48h
  models:
    - match: ""
    - match: "x"
      ttl: 100h
  semantic:
    threshold: 1.5
    embedding_model: nowhere/embed
`), func(string) string { return "" })
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		"cache.backend: redis needs redis.url",
		"cache.default_ttl: must not exceed max_ttl",
		"cache.models[0].match: is required",
		"cache.models[1].ttl: must not exceed max_ttl",
		"cache.semantic.threshold: must be above 0",
		"cache.semantic.embedding_model:",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if !strings.Contains(err.Error(), "line 5: cache.default_ttl") {
		t.Errorf("errors are not located by line:\n%v", err)
	}
}

// replica starts a second gateway on the same fake upstream, as another
// replica behind a load balancer would be.
func (g *testGateway) replica(t *testing.T, yaml string) *testGateway {
	t.Helper()
	env := map[string]string{"FAKE_URL": g.upstream.URL + "/v1"}
	cfg, err := config.Parse([]byte(yaml), func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.DataDir = t.TempDir()
	gw, err := New(cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	t.Cleanup(func() { gw.Close() })
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return &testGateway{fake: g.fake, upstream: g.upstream, gw: gw, srv: srv}
}

func redisCacheYAML(url, prefix string) string {
	return cacheYAML(fmt.Sprintf("  redis_prefix: %q\nredis:\n  url: %s\n", prefix, url))
}

func TestRedisCacheIsSharedByReplicas(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	url := fmt.Sprintf("redis://%s/%d", rdb.Options().Addr, rdb.Options().DB)
	a := newTestGateway(t, redisCacheYAML(url, prefix))
	b := a.replica(t, redisCacheYAML(url, prefix))
	long := strings.Repeat("a long prompt that compresses well ", 100)
	for _, text := range []string{"short", long} {
		first := a.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", text))
		fb := readBody(t, first)
		a.settle()
		second := b.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", text))
		sb := readBody(t, second)
		if status(first) != "MISS" || status(second) != "HIT" || string(fb) != string(sb) {
			t.Fatalf("replica b: %q after a's %q", status(second), status(first))
		}
	}
	var f cache.Figures
	_ = json.Unmarshal(readBody(t, b.do(t, "GET", "/admin/v1/cache", "", "Authorization", "Bearer admin-secret")), &f)
	if f.Backend != "redis" || f.Entries != 2 {
		t.Fatalf("figures from redis: %+v", f)
	}
	if n := a.upstreamCalls("/chat/completions"); n != 2 {
		t.Fatalf("upstream calls = %d, want 2", n)
	}
}

// tcpProxy forwards connections to a target until closed: a Redis that can
// be made to vanish without touching the shared server.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func startProxy(t *testing.T, addr, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.Close)
	return p
}

// Close stops accepting and cuts every connection.
func (p *tcpProxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestRedisOutageServesUncached(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	proxy := startProxy(t, "127.0.0.1:0", rdb.Options().Addr)
	addr := proxy.ln.Addr().String()
	g := newTestGateway(t, redisCacheYAML(fmt.Sprintf("redis://%s/%d", addr, rdb.Options().DB), prefix))
	chat := func(text string) *http.Response {
		resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", text))
		readBody(t, resp)
		g.settle()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: a cache outage must not fail requests", resp.StatusCode)
		}
		return resp
	}
	chat("before")
	if s := status(chat("before")); s != "HIT" {
		t.Fatalf("with redis up: %q", s)
	}
	proxy.Close() // redis goes away mid-test
	for i := 0; i < 5; i++ {
		if s := status(chat("during")); s != "BYPASS" {
			t.Fatalf("with redis down: %q, want BYPASS", s)
		}
	}
	var f cache.Figures
	_ = json.Unmarshal(readBody(t, g.do(t, "GET", "/admin/v1/cache", "", "Authorization", "Bearer admin-secret")), &f)
	if f.Faults < 1 || f.Faults+f.Unavailable != 5 || f.SizeError == "" {
		t.Fatalf("the outage is not counted: %+v", f)
	}
	// redis comes back on the same address: caching resumes after the
	// cooldown
	startProxy(t, addr, rdb.Options().Addr)
	waitFor(t, func() bool { return status(chat("after")) == "HIT" })
}

func TestCacheSurvivesReloadAndFollowsAliasChanges(t *testing.T) {
	yaml := func(aliasTarget string) string {
		return `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
models:
  - name: smart
    targets: [{model: ` + aliasTarget + `}]
  - name: steady
    targets: [{model: openai/steady}]
cache:
  models: [{match: "*"}]
`
	}
	g := newTestGateway(t, yaml("openai/gpt-4o"))
	ask := func(model string) string {
		resp := g.do(t, "POST", "/v1/chat/completions", chatBody(model, "x"))
		readBody(t, resp)
		g.settle()
		return status(resp)
	}
	ask("smart")
	ask("steady")
	env := map[string]string{"FAKE_URL": g.upstream.URL + "/v1"}
	cfg, err := config.Parse([]byte(yaml("openai/gpt-4o-mini")), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	if err := g.gw.Reload(cfg, 0); err != nil {
		t.Fatal(err)
	}
	if s := ask("steady"); s != "HIT" {
		t.Fatalf("an unchanged alias after a reload: %q, want HIT (the cache stays warm)", s)
	}
	if s := ask("smart"); s != "MISS" {
		t.Fatalf("a re-pointed alias after a reload: %q, want MISS", s)
	}
}
