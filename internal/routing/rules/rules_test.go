package rules

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/gwerr"
	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/pipeline"
)

func compile(t testing.TB, routes string, o Options) *Set {
	t.Helper()
	doc := `
providers_from_env: false
providers:
  - {id: openai, base_url: "http://127.0.0.1:1/v1"}
  - {id: anthropic, base_url: "http://127.0.0.1:1"}
models:
  - name: smart
    targets: [{model: openai/gpt-4o}]
routes:
` + routes
	cfg, err := config.Parse([]byte(doc), func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	s, err := Compile(cfg.Routes, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type call struct {
	model, tier, tenant, user, prompt string
	md                                map[string]any
	hdr                               map[string]string
}

func (c call) build() *pipeline.Call {
	pc := &pipeline.Call{Model: c.model, HTTP: &http.Request{Header: http.Header{}}}
	pc.Identity.Tier, pc.Identity.Tenant, pc.Identity.User = c.tier, c.tenant, c.user
	pc.Options.Metadata = c.md
	for k, v := range c.hdr {
		pc.HTTP.Header.Set(k, v)
	}
	pc.Chat = &llm.ChatRequest{Model: c.model, Messages: []llm.Message{{Role: "user", Content: llm.TextContent(c.prompt)}}}
	return pc
}

func TestSwitchConditions(t *testing.T) {
	s := compile(t, `
  - name: r
    switch:
      - name: gold
        if: [{field: tier, in: [gold, platinum]}]
        model: smart
      - name: long
        if: [{field: prompt_length, gt: 20}]
        model: anthropic/long
      - name: translate
        if: [{field: prompt, matches: "(?i)^translate"}]
        model: openai/translator
      - name: beta
        if:
          - {field: metadata.beta, equals: true}
          - {field: header.x-team, prefix: ml-}
        model: openai/beta
      - name: notacme
        if: [{not: {field: tenant, equals: acme}}, {field: metadata.plan, exists: true}]
        model: openai/plan
      - name: numeric
        if: [{any: [{field: metadata.level, gte: 3}, {field: metadata.level, equals: "x"}]}]
        model: openai/level
    default:
      model: openai/default
`, Options{})
	cases := []struct {
		name string
		call call
		want string
		path string
	}{
		{"tier", call{tier: "gold", prompt: "hi"}, "smart", "r/gold"},
		{"prompt length", call{prompt: strings.Repeat("x", 21)}, "anthropic/long", "r/long"},
		{"prompt length counts characters", call{prompt: strings.Repeat("é", 20)}, "openai/default", "r/default"},
		{"prompt pattern", call{prompt: "Translate this"}, "openai/translator", "r/translate"},
		{"metadata and header", call{prompt: "x", md: map[string]any{"beta": true}, hdr: map[string]string{"X-Team": "ml-infra"}}, "openai/beta", "r/beta"},
		{"header mismatch", call{prompt: "x", md: map[string]any{"beta": true}, hdr: map[string]string{"X-Team": "web"}}, "openai/default", "r/default"},
		{"not and exists", call{tenant: "other", md: map[string]any{"plan": "pro"}}, "openai/plan", "r/notacme"},
		{"not excludes", call{tenant: "acme", md: map[string]any{"plan": "pro"}}, "openai/default", "r/default"},
		{"number from metadata", call{md: map[string]any{"level": 3.0}}, "openai/level", "r/numeric"},
		{"number as string", call{md: map[string]any{"level": "4"}}, "openai/level", "r/numeric"},
		{"any second", call{md: map[string]any{"level": "x"}}, "openai/level", "r/numeric"},
		{"default", call{prompt: "hello"}, "openai/default", "r/default"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.Evaluate("r", tc.call.build())
			if err != nil {
				t.Fatal(err)
			}
			if d.Model != tc.want || d.Path != tc.path {
				t.Errorf("got %s via %s, want %s via %s", d.Model, d.Path, tc.want, tc.path)
			}
		})
	}
}

func TestSplitRatioWithinToleranceAndStickyPerUser(t *testing.T) {
	s := compile(t, `
  - name: ab
    split:
      branches:
        - {name: control, percent: 90, model: openai/a}
        - {name: canary, percent: 10, model: openai/b}
`, Options{})
	const n = 10000
	branch := map[string]string{}
	canary := 0
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("user-%d", i)
		d, err := s.Evaluate("ab", call{user: u}.build())
		if err != nil {
			t.Fatal(err)
		}
		branch[u] = d.Model
		if d.Model == "openai/b" {
			canary++
		}
	}
	// binomial σ at p=0.1, n=10000 is 0.003; 0.015 is 5σ
	if got := float64(canary) / n; math.Abs(got-0.10) > 0.015 {
		t.Errorf("canary share %.4f, want 0.10±0.015", got)
	}
	for i := 0; i < 500; i++ {
		u := fmt.Sprintf("user-%d", i)
		for j := 0; j < 3; j++ {
			d, _ := s.Evaluate("ab", call{user: u}.build())
			if d.Model != branch[u] {
				t.Fatalf("%s moved from %s to %s", u, branch[u], d.Model)
			}
		}
	}
	// the request's user field and metadata user are sticky too
	c := call{}.build()
	c.Chat.User = "user-7"
	if d, _ := s.Evaluate("ab", c); d.Model != branch["user-7"] {
		t.Errorf("request user field not used for stickiness")
	}
	if d, _ := s.Evaluate("ab", call{md: map[string]any{"user_id": "user-7"}}.build()); d.Model != branch["user-7"] {
		t.Errorf("metadata user_id not used for stickiness")
	}
	// without a user, the split is random but keeps the ratio
	canary = 0
	for i := 0; i < n; i++ {
		if d, _ := s.Evaluate("ab", call{}.build()); d.Model == "openai/b" {
			canary++
		}
	}
	if got := float64(canary) / n; math.Abs(got-0.10) > 0.015 {
		t.Errorf("anonymous canary share %.4f, want 0.10±0.015", got)
	}
}

func TestSplitByMetadata(t *testing.T) {
	s := compile(t, `
  - name: ab
    split:
      by: metadata.account
      branches:
        - {percent: 50, model: openai/a}
        - {percent: 50, model: openai/b}
`, Options{})
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		acct := fmt.Sprintf("acct-%d", i%10)
		d, _ := s.Evaluate("ab", call{user: fmt.Sprint(i), md: map[string]any{"account": acct}}.build())
		key := acct + "=" + d.Model
		seen[key] = true
	}
	if len(seen) != 10 {
		t.Errorf("an account was split across branches: %v", seen)
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestLimitsFallThroughOrRefuse(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := compile(t, `
  - name: r
    switch:
      - if: [{field: tier, equals: free}]
        model: openai/free
        limit: {requests: 2, window: 1m, per: user}
    default:
      model: openai/premium
      limit:
        budget_usd: 1
        window: 1h
        otherwise: {model: openai/cheap}
`, Options{Now: clk.now})
	free := func(u string) (*Decision, error) { return s.Evaluate("r", call{tier: "free", user: u}.build()) }
	for i := 0; i < 2; i++ {
		if _, err := free("u1"); err != nil {
			t.Fatalf("request %d refused: %v", i, err)
		}
	}
	_, err := free("u1")
	var ge *gwerr.Error
	if !errors.As(err, &ge) || ge.Status != 429 || ge.Code != "route_limit_exceeded" || ge.RetryAfter <= 0 {
		t.Fatalf("third request: %v, want 429 route_limit_exceeded with Retry-After", err)
	}
	if _, err := free("u2"); err != nil {
		t.Fatalf("another user shares u1's limit: %v", err)
	}
	clk.t = clk.t.Add(2 * time.Minute)
	if _, err := free("u1"); err != nil {
		t.Fatalf("limit not reset after the window: %v", err)
	}

	d, _ := s.Evaluate("r", call{}.build())
	if d.Model != "openai/premium" {
		t.Fatalf("got %s", d.Model)
	}
	d.Finish(1000, 0.6)
	d, _ = s.Evaluate("r", call{}.build())
	d.Finish(1000, 0.6) // now 1.2 of 1 USD spent
	d, _ = s.Evaluate("r", call{}.build())
	if d.Model != "openai/cheap" || d.Path != "r/default/otherwise" {
		t.Fatalf("over budget: got %s via %s, want openai/cheap via otherwise", d.Model, d.Path)
	}
}

func TestMatchAndRequestedModel(t *testing.T) {
	s := compile(t, `
  - name: canary-gpt4o
    match: ["openai/gpt-4o*"]
    split:
      by: random
      branches:
        - {percent: 100, model: "@requested"}
`, Options{})
	name, ok := s.Lookup("openai/gpt-4o-mini")
	if !ok || name != "canary-gpt4o" {
		t.Fatalf("lookup: %q %v", name, ok)
	}
	if _, ok := s.Lookup("openai/o3"); ok {
		t.Fatal("unmatched model routed")
	}
	d, err := s.Evaluate(name, call{model: "openai/gpt-4o-mini"}.build())
	if err != nil || d.Model != "openai/gpt-4o-mini" {
		t.Fatalf("@requested: %+v %v", d, err)
	}
}

// FuzzEvaluate feeds untrusted request values (metadata, headers, prompt,
// user) through conditions and splits: no panic, and the same request
// always takes the same path when it names a user.
func FuzzEvaluate(f *testing.F) {
	s := compile(f, `
  - name: r
    switch:
      - if: [{field: metadata.n, gt: 5}, {field: header.x-a, matches: "^[a-z]+$"}]
        model: openai/a
      - if: [{field: prompt, contains: "needle"}, {field: metadata.n, not_in: [1, "2", true]}]
        model: openai/b
    default:
      split:
        branches:
          - {percent: 33.3, model: openai/c}
          - {percent: 66.7, model: openai/d}
`, Options{})
	f.Add("7", "abc", "a needle", "u1")
	f.Add("true", "", "", "")
	f.Add("NaN", "ZZZ", "\x00\xff", "ü")
	f.Add("1e309", "a\nb", strings.Repeat("needle", 100), "u")
	f.Fuzz(func(t *testing.T, n, hdr, prompt, user string) {
		c := call{user: user, prompt: prompt, md: map[string]any{"n": n}, hdr: map[string]string{"X-A": hdr}}
		d1, err := s.Evaluate("r", c.build())
		if err != nil {
			t.Fatal(err)
		}
		if user == "" {
			return
		}
		d2, _ := s.Evaluate("r", c.build())
		if d1.Model != d2.Model {
			t.Fatalf("same request took %s then %s", d1.Model, d2.Model)
		}
	})
}
