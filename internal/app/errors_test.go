package app

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestErrorResponses(t *testing.T) {
	g := newTestGateway(t, "")
	cases := []struct {
		name    string
		body    string
		headers []string
		status  int
		typ     string
		param   string
		inMsg   string
	}{
		{"invalid JSON", `{"model":`, nil, 400, "invalid_request_error", "", "not valid JSON"},
		{"empty body", ``, nil, 400, "invalid_request_error", "", "empty"},
		{"not an object", `[1,2]`, nil, 400, "invalid_request_error", "", "expected a JSON object"},
		{"missing model", `{"messages":[{"role":"user","content":"x"}]}`, nil, 400, "invalid_request_error", "model", "model"},
		{"missing messages", `{"model":"openai/gpt-4o-mini"}`, nil, 400, "invalid_request_error", "messages", "messages"},
		{"bad role", `{"model":"openai/x","messages":[{"role":"wizard","content":"x"}]}`, nil, 400, "invalid_request_error", "messages[0].role", "wizard"},
		{"wrong type", `{"model":"openai/x","messages":"hi"}`, nil, 400, "invalid_request_error", "messages", "messages"},
		{"unknown provider", chatBody("nope/x", "x"), nil, 404, "not_found_error", "", "GET /v1/models"},
		{"no provider prefix", chatBody("gpt-4o", "x"), nil, 404, "not_found_error", "", "provider/model"},
		{"bad metadata", chatBody("openai/x", "x"), []string{"x-aig-metadata", `{"a":{"nested":1}}`}, 400, "invalid_request_error", "x-aig-metadata", "x-aig-metadata"},
		{"bad cf-aig timeout", chatBody("openai/x", "x"), []string{"cf-aig-request-timeout", "soon"}, 400, "invalid_request_error", "x-aig-request-timeout", "request-timeout"},
		{"upstream 429", chatBody("openai/error-429", "x"), nil, 429, "rate_limit_error", "", "fake provider error 429"},
		{"upstream 500", chatBody("openai/error-500", "x"), nil, 500, "api_error", "", "fake provider error 500"},
		{"upstream timeout", chatBody("openai/hang", "x"), []string{"x-aig-request-timeout", "100"}, 504, "timeout_error", "", "did not answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := g.do(t, "POST", "/v1/chat/completions", c.body, c.headers...)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, readBody(t, resp))
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			e := decodeError(t, resp)
			if e.Error.Type != c.typ {
				t.Errorf("type %q, want %q", e.Error.Type, c.typ)
			}
			if c.param != "" && (e.Error.Param == nil || *e.Error.Param != c.param) {
				t.Errorf("param %v, want %q", e.Error.Param, c.param)
			}
			if !strings.Contains(e.Error.Message, c.inMsg) {
				t.Errorf("message %q lacks %q", e.Error.Message, c.inMsg)
			}
			if strings.Contains(e.Error.Message, "sk-fake") {
				t.Error("provider secret in error message")
			}
		})
	}
	if resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/error-429", "x")); resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
}

func TestBodyOverLimitIs413(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
server: {max_body_bytes: 2048}
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
`)
	big := chatBody("openai/x", strings.Repeat("a", 4096))
	resp := g.do(t, "POST", "/v1/chat/completions", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if e := decodeError(t, resp); !strings.Contains(e.Error.Message, "2048") {
		t.Errorf("message %q does not state the limit", e.Error.Message)
	}
	// chunked, without Content-Length
	req, _ := http.NewRequest("POST", g.srv.URL+"/v1/chat/completions", strings.NewReader(big))
	req.ContentLength = -1
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: status %d", r2.StatusCode)
	}
}

func TestUpstreamUnreachableIs502(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	g := newTestGateway(t, `
providers_from_env: false
providers:
  - id: openai
    base_url: http://`+addr+`/v1
    api_key: sk-secret-value
`)
	resp := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o-mini", "x"))
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d", resp.StatusCode)
	}
	e := decodeError(t, resp)
	if !strings.Contains(e.Error.Message, "could not reach provider openai") || strings.Contains(e.Error.Message, "sk-secret") {
		t.Errorf("message %q", e.Error.Message)
	}
}

func TestUnknownPathsAreJSON404(t *testing.T) {
	g := newTestGateway(t, "")
	for _, p := range []string{"/v1/nothing", "/", "/v1"} {
		resp := g.do(t, "GET", p, "")
		if resp.StatusCode != 404 {
			t.Errorf("%s: status %d", p, resp.StatusCode)
			continue
		}
		decodeError(t, resp)
	}
}

func TestHealthAndReady(t *testing.T) {
	g := newTestGateway(t, "")
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp := g.do(t, "GET", p, ""); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}
