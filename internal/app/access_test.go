package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/keys"
	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

const accessAdminToken = "admin-token-for-tests"

// replica is one gateway (as one process would run it) in front of a
// shared fake upstream.
type replica struct {
	gw  *Gateway
	srv *httptest.Server
}

type accessEnv struct {
	fake     *providertest.Fake
	upstream *httptest.Server
	env      map[string]string
}

func newAccessEnv(t testing.TB) *accessEnv {
	fake := providertest.NewFake(providertest.Options{APIKey: "sk-fake"})
	up := httptest.NewServer(fake)
	t.Cleanup(up.Close)
	return &accessEnv{fake: fake, upstream: up, env: map[string]string{"FAKE_URL": up.URL + "/v1", "ADMIN": accessAdminToken}}
}

const baseYAML = `
providers_from_env: false
admin:
  token: ${ADMIN}
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
`

// start runs a gateway with baseYAML plus extra on dataDir (fresh when "").
func (e *accessEnv) start(t testing.TB, extra, dataDir string) *replica {
	t.Helper()
	cfg, err := config.Parse([]byte(baseYAML+extra), func(k string) string { return e.env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	cfg.DataDir = dataDir
	gw, err := New(cfg, Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("gateway: %v", err)
	}
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(func() { srv.Close(); gw.Close() })
	return &replica{gw: gw, srv: srv}
}

func (r *replica) do(t testing.TB, method, path, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, r.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
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

func (r *replica) chat(t *testing.T, key string, model string) (*http.Response, []byte) {
	t.Helper()
	var h []string
	if key != "" {
		h = []string{"Authorization", "Bearer " + key}
	}
	return r.do(t, "POST", "/v1/chat/completions", chatBody(model, "hi"), h...)
}

func (r *replica) admin(t testing.TB, method, path string, in any, out any) int {
	t.Helper()
	var body string
	if in != nil {
		b, _ := json.Marshal(in)
		body = string(b)
	}
	resp, b := r.do(t, method, "/admin/v1"+path, body, "Authorization", "Bearer "+accessAdminToken)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (r *replica) createKey(t testing.TB, p keys.Params) *keys.Created {
	t.Helper()
	var k keys.Created
	if code := r.admin(t, "POST", "/keys", p, &k); code != http.StatusCreated {
		t.Fatalf("create key: %d", code)
	}
	return &k
}

func errMessage(t *testing.T, b []byte) string {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Message == "" {
		t.Fatalf("not an error body: %s", b)
	}
	return e.Error.Message
}

// within retries check until it passes or d has passed.
func within(t *testing.T, d time.Duration, what string, check func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if check() {
			return time.Since(start)
		}
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyLifecycleThroughAdminAPI(t *testing.T) {
	e := newAccessEnv(t)
	g := e.start(t, "", "")
	if resp, _ := g.chat(t, "", "openai/gpt-4o-mini"); resp.StatusCode != 200 {
		t.Fatalf("no keys yet: unauthenticated mode expected, got %d", resp.StatusCode)
	}
	if g.gw.Runtime().AuthRequired() {
		t.Fatal("auth required without keys")
	}
	k := g.createKey(t, keys.Params{Name: "ci", Tenant: "acme", Models: []string{"openai/*"}})
	if !keys.LooksLikeKey(k.Secret) {
		t.Fatalf("secret %q", k.Secret)
	}
	if resp, b := g.chat(t, "", "openai/gpt-4o-mini"); resp.StatusCode != 401 || !strings.Contains(errMessage(t, b), "missing gateway key") {
		t.Fatalf("the first key must switch authentication on: %d %s", resp.StatusCode, b)
	}
	if resp, b := g.chat(t, k.Secret, "openai/gpt-4o-mini"); resp.StatusCode != 200 {
		t.Fatalf("with the key: %d %s", resp.StatusCode, b)
	}
	if got := e.fake.Last().Header.Get("Authorization"); got != "Bearer sk-fake" {
		t.Errorf("upstream saw %q", got)
	}
	if resp, b := g.chat(t, "aig_"+strings.Repeat("x", 43), "openai/gpt-4o-mini"); resp.StatusCode != 401 || !strings.Contains(errMessage(t, b), "invalid gateway key") {
		t.Fatalf("unknown key: %d %s", resp.StatusCode, b)
	}

	var list struct{ Data []keys.View }
	if g.admin(t, "GET", "/keys", nil, &list); len(list.Data) != 1 || list.Data[0].ID != k.ID || list.Data[0].Prefix != k.Prefix {
		t.Fatalf("list %+v", list)
	}
	raw, _ := json.Marshal(list)
	if bytes.Contains(raw, []byte(k.Secret)) {
		t.Fatal("the secret is retrievable from the list")
	}
	var one keys.View
	if code := g.admin(t, "GET", "/keys/ci", nil, &one); code != 200 || one.ID != k.ID {
		t.Fatalf("get by name: %d %+v", code, one)
	}

	// scope: a model outside is 403 saying which
	if resp, b := g.chat(t, k.Secret, "azure/gpt-4o"); resp.StatusCode != 403 || !strings.Contains(errMessage(t, b), `may not use model azure/gpt-4o`) {
		t.Fatalf("outside scope: %d %s", resp.StatusCode, b)
	}
	// narrowing the scope takes effect at once on this replica
	narrowed := []string{"openai/gpt-4o"}
	if code := g.admin(t, "PATCH", "/keys/"+k.ID, keys.Patch{Models: &narrowed}, nil); code != 200 {
		t.Fatalf("patch: %d", code)
	}
	if resp, _ := g.chat(t, k.Secret, "openai/gpt-4o-mini"); resp.StatusCode != 403 {
		t.Fatalf("after narrowing: %d", resp.StatusCode)
	}
	// expiry
	past := `{"expires_at":"2001-01-01T00:00:00Z"}`
	resp, _ := g.do(t, "PATCH", "/admin/v1/keys/"+k.ID, past, "Authorization", "Bearer "+accessAdminToken)
	if resp.StatusCode != 200 {
		t.Fatalf("expire: %d", resp.StatusCode)
	}
	if resp, b := g.chat(t, k.Secret, "openai/gpt-4o"); resp.StatusCode != 401 || !strings.Contains(errMessage(t, b), "expired at 2001-01-01") {
		t.Fatalf("expired key: %d %s", resp.StatusCode, b)
	}
	resp, _ = g.do(t, "PATCH", "/admin/v1/keys/"+k.ID, `{"expires_at":null}`, "Authorization", "Bearer "+accessAdminToken)
	if r, _ := g.chat(t, k.Secret, "openai/gpt-4o"); resp.StatusCode != 200 || r.StatusCode != 200 {
		t.Fatalf("expiry cleared: patch %d, chat %d", resp.StatusCode, r.StatusCode)
	}
	// revoke
	if code := g.admin(t, "DELETE", "/keys/"+k.ID, nil, nil); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if resp, b := g.chat(t, k.Secret, "openai/gpt-4o"); resp.StatusCode != 401 || !strings.Contains(errMessage(t, b), `"ci" was revoked`) {
		t.Fatalf("revoked: %d %s", resp.StatusCode, b)
	}
	if !g.gw.Runtime().AuthRequired() {
		t.Fatal("revoking the last key turned authentication off")
	}
	// bad admin input
	if code := g.admin(t, "POST", "/keys", map[string]any{"name": "x", "rpm": "fast"}, nil); code != 400 {
		t.Errorf("bad body: %d", code)
	}
	if code := g.admin(t, "POST", "/keys", map[string]any{"name": "x", "surprise": 1}, nil); code != 400 {
		t.Errorf("unknown field: %d", code)
	}
	if code := g.admin(t, "GET", "/keys/key_nope", nil, nil); code != 404 {
		t.Errorf("unknown key: %d", code)
	}
	if resp, _ := g.do(t, "GET", "/admin/v1/keys", ""); resp.StatusCode != 401 {
		t.Errorf("admin API without token: %d", resp.StatusCode)
	}
}

func TestConfigDeclaredKeys(t *testing.T) {
	e := newAccessEnv(t)
	e.env["TEAM_KEY"] = "team-secret-0123456789"
	hashed := "another-secret-abcdefgh"
	g := e.start(t, `
keys:
  - name: team
    secret: ${TEAM_KEY}
    tenant: team-a
    models: ["openai/gpt-4o*"]
  - name: hashed
    sha256: `+keys.Hash(hashed)+`
    enabled: false
`, "")
	if !g.gw.Runtime().AuthRequired() {
		t.Fatal("declared keys must require authentication")
	}
	if resp, b := g.chat(t, "team-secret-0123456789", "openai/gpt-4o-mini"); resp.StatusCode != 200 {
		t.Fatalf("declared key: %d %s", resp.StatusCode, b)
	}
	if resp, _ := g.chat(t, "team-secret-0123456789", "openai/o1"); resp.StatusCode != 403 {
		t.Fatalf("declared scope: %d", resp.StatusCode)
	}
	if resp, b := g.chat(t, hashed, "openai/gpt-4o"); resp.StatusCode != 401 || !strings.Contains(errMessage(t, b), "disabled") {
		t.Fatalf("disabled hashed key: %d %s", resp.StatusCode, b)
	}
	var list struct{ Data []keys.View }
	g.admin(t, "GET", "/keys", nil, &list)
	if len(list.Data) != 2 || list.Data[0].Source != "config" {
		t.Fatalf("declared keys listed: %+v", list)
	}
	if code := g.admin(t, "DELETE", "/keys/team", nil, nil); code != 409 {
		t.Errorf("revoking a declared key: %d", code)
	}
}

func TestRevokedKeyRefusedOnEveryReplicaWithinASecond(t *testing.T) {
	backends := map[string]func(t *testing.T) (extra, dataDir string){
		"sqlite": func(t *testing.T) (string, string) { return "", t.TempDir() },
		"postgres": func(t *testing.T) (string, string) {
			return "\nstorage: {driver: postgres, dsn: \"" + storetest.PostgresDSN(t) + "\"}\n", ""
		},
	}
	for name, backend := range backends {
		t.Run(name, func(t *testing.T) {
			e := newAccessEnv(t)
			extra, dir := backend(t)
			replicas := []*replica{e.start(t, extra, dir), e.start(t, extra, dir), e.start(t, extra, dir)}
			k := replicas[0].createKey(t, keys.Params{Name: "shared"})
			for i, r := range replicas {
				within(t, time.Second, "new key usable on every replica", func() bool {
					resp, _ := r.chat(t, k.Secret, "openai/gpt-4o")
					return resp.StatusCode == 200
				})
				_ = i
			}
			if code := replicas[1].admin(t, "DELETE", "/keys/"+k.ID, nil, nil); code != 200 {
				t.Fatalf("revoke: %d", code)
			}
			revoked := time.Now()
			var wg sync.WaitGroup
			for i, r := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					within(t, time.Second, "revocation on replica", func() bool {
						resp, _ := r.chat(t, k.Secret, "openai/gpt-4o")
						return resp.StatusCode == 401
					})
					t.Logf("replica %d refuses the key %v after revocation", i, time.Since(revoked).Round(time.Millisecond))
				}()
			}
			wg.Wait()
		})
	}
}

func TestKeyRateLimitOverHTTP(t *testing.T) {
	e := newAccessEnv(t)
	g := e.start(t, "", "")
	k := g.createKey(t, keys.Params{Name: "slow", RPM: 2, TPM: 100000})
	for i := 0; i < 2; i++ {
		resp, b := g.chat(t, k.Secret, "openai/gpt-4o")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, b)
		}
		if resp.Header.Get("x-ratelimit-limit-requests") != "2" || resp.Header.Get("x-ratelimit-remaining-requests") != []string{"1", "0"}[i] ||
			resp.Header.Get("x-ratelimit-limit-tokens") != "100000" || resp.Header.Get("x-ratelimit-reset-requests") == "" {
			t.Errorf("request %d headers: %v", i, resp.Header)
		}
	}
	resp, b := g.chat(t, k.Secret, "openai/gpt-4o")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("x-ratelimit-remaining-requests") != "0" {
		t.Fatalf("third request: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	if msg := errMessage(t, b); !strings.Contains(msg, `gateway key "slow" allows 2 requests per minute`) {
		t.Errorf("message %q", msg)
	}
	// streams get the headers too
	resp, _ = g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o", "x", `"stream":true`), "Authorization", "Bearer "+k.Secret)
	if resp.StatusCode != 429 {
		t.Errorf("stream over the limit: %d", resp.StatusCode)
	}
}

func TestRedisLimitExactAcrossReplicas(t *testing.T) {
	e := newAccessEnv(t)
	url := storetest.RedisURL(t)
	extra := "\nredis: {url: \"" + url + "\"}\nlimits:\n  store_timeout: 10s\n  rules:\n    - {name: shared-" + storetest.RandomName("") + ", requests: 50, window: 1m}\n"
	replicas := []*replica{e.start(t, extra, ""), e.start(t, extra, "")}
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, _ := replicas[i%2].chat(t, "", "openai/gpt-4o")
			switch resp.StatusCode {
			case 200:
				allowed.Add(1)
			case 429:
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 50 || refused.Load() != 150 {
		t.Fatalf("allowed %d, refused %d across two replicas; want exactly 50 and 150", allowed.Load(), refused.Load())
	}
}

func TestBudgetOverHTTP(t *testing.T) {
	e := newAccessEnv(t)
	g := e.start(t, "\nbudgets:\n  tenants:\n    - {tenant: frugal, usd: 2, period: day}\n", "")
	k := g.createKey(t, keys.Params{Name: "b", BudgetUSD: 1, BudgetPeriod: "month"})
	if resp, _ := g.chat(t, k.Secret, "openai/gpt-4o"); resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	// the usage stage (issue 6) charges real costs; here the spend is
	// recorded directly, as it would be after a dollar of calls
	acc := g.gw.Runtime().acc
	now := time.Now().UTC()
	if err := acc.spend.AddSpend(context.Background(), []string{"key:" + k.ID + ":" + now.Format("m200601")}, 1.5, time.Hour); err != nil {
		t.Fatal(err)
	}
	resp, b := g.chat(t, k.Secret, "openai/gpt-4o")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over budget: %d %s", resp.StatusCode, b)
	}
	if msg := errMessage(t, b); !strings.Contains(msg, `gateway key "b" has spent $1.50 of its $1.00 monthly budget; it resets at `) {
		t.Errorf("message %q", msg)
	}
	tk := g.createKey(t, keys.Params{Name: "t", Tenant: "frugal"})
	acc.spend.AddSpend(context.Background(), []string{"tenant:frugal:" + now.Format("d20060102")}, 2, time.Hour)
	if resp, b := g.chat(t, tk.Secret, "openai/gpt-4o"); resp.StatusCode != 429 || !strings.Contains(errMessage(t, b), `tenant "frugal"`) {
		t.Fatalf("tenant over budget: %d %s", resp.StatusCode, b)
	}
}

func TestRedisUnreachableFailsOpenForLimitsClosedForBudgets(t *testing.T) {
	e := newAccessEnv(t)
	g := e.start(t, "\nredis: {url: \"redis://127.0.0.1:1/0\"}\nlimits:\n  store_timeout: 200ms\n", "")
	limited := g.createKey(t, keys.Params{Name: "limited", RPM: 1})
	for i := 0; i < 3; i++ {
		if resp, b := g.chat(t, limited.Secret, "openai/gpt-4o"); resp.StatusCode != 200 {
			t.Fatalf("limits must fail open: %d %s", resp.StatusCode, b)
		}
	}
	if lf, _ := g.gw.Runtime().AccessFaults(); lf < 3 {
		t.Errorf("limit faults %d, want them counted", lf)
	}
	budgeted := g.createKey(t, keys.Params{Name: "budgeted", BudgetUSD: 10})
	resp, b := g.chat(t, budgeted.Secret, "openai/gpt-4o")
	if resp.StatusCode != 503 || !strings.Contains(errMessage(t, b), "budgets cannot be checked") {
		t.Fatalf("budgets must fail closed: %d %s", resp.StatusCode, b)
	}

	closed := e.start(t, "\nredis: {url: \"redis://127.0.0.1:1/0\"}\nlimits: {on_store_error: closed}\nbudgets: {on_store_error: open}\n", "")
	k := closed.createKey(t, keys.Params{Name: "k", RPM: 5, BudgetUSD: 10})
	if resp, _ := closed.chat(t, k.Secret, "openai/gpt-4o"); resp.StatusCode != 503 {
		t.Fatalf("limits configured closed: %d", resp.StatusCode)
	}
	k2 := closed.createKey(t, keys.Params{Name: "k2", BudgetUSD: 10})
	if resp, _ := closed.chat(t, k2.Secret, "openai/gpt-4o"); resp.StatusCode != 200 {
		t.Fatalf("budgets configured open: %d", resp.StatusCode)
	}
}

func TestPassthroughNeverForwardsTheGatewayKey(t *testing.T) {
	e := newAccessEnv(t)
	g := e.start(t, "", "")
	k := g.createKey(t, keys.Params{Name: "p"})
	body := chatBody("gpt-4o", "hi")
	// gateway key in Authorization: stripped, the provider's injected
	resp, b := g.do(t, "POST", "/openai/chat/completions", body, "Authorization", "Bearer "+k.Secret)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	up := e.fake.Last().Header
	if up.Get("Authorization") != "Bearer sk-fake" || strings.Contains(strings.Join(flatten(up), " "), k.Secret) {
		t.Fatalf("upstream headers %v", up)
	}
	// gateway key in x-aig-authorization, the caller's own provider key kept
	resp, _ = g.do(t, "POST", "/openai/chat/completions", body, "X-Aig-Authorization", "Bearer "+k.Secret, "Authorization", "Bearer sk-fake")
	if resp.StatusCode != 200 {
		t.Fatalf("own credential: %d", resp.StatusCode)
	}
	up = e.fake.Last().Header
	if up.Get("Authorization") != "Bearer sk-fake" || strings.Contains(strings.Join(flatten(up), " "), k.Secret) {
		t.Fatalf("upstream headers %v", up)
	}
	// only a provider credential: the gateway key is missing
	resp, b = g.do(t, "POST", "/openai/chat/completions", body, "Authorization", "Bearer sk-fake")
	if resp.StatusCode != 401 || !strings.Contains(errMessage(t, b), "x-aig-authorization") {
		t.Fatalf("no gateway key: %d %s", resp.StatusCode, b)
	}
}

func flatten(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k)
		out = append(out, vs...)
	}
	return out
}

func TestIPRulesOverHTTP(t *testing.T) {
	e := newAccessEnv(t)
	g := e.start(t, "\nauth:\n  trusted_proxies: [127.0.0.1]\n  deny_ips: [203.0.113.0/24]\n", "")
	if resp, _ := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o", "x"), "X-Forwarded-For", "198.51.100.1"); resp.StatusCode != 200 {
		t.Fatalf("allowed client: %d", resp.StatusCode)
	}
	resp, b := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o", "x"), "X-Forwarded-For", "203.0.113.9")
	if resp.StatusCode != 403 || !strings.Contains(errMessage(t, b), "203.0.113.9") {
		t.Fatalf("denied client behind the proxy: %d %s", resp.StatusCode, b)
	}
	// the test client is the trusted proxy here; an untrusted peer's
	// header is covered in ipfilter; per-key rules:
	k := g.createKey(t, keys.Params{Name: "office", AllowIPs: []string{"192.0.2.0/24"}})
	resp, b = g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o", "x"), "Authorization", "Bearer "+k.Secret, "X-Forwarded-For", "198.51.100.1")
	if resp.StatusCode != 403 || !strings.Contains(errMessage(t, b), `"office" may not be used from 198.51.100.1`) {
		t.Fatalf("per-key rule: %d %s", resp.StatusCode, b)
	}
	if resp, _ := g.do(t, "POST", "/v1/chat/completions", chatBody("openai/gpt-4o", "x"), "Authorization", "Bearer "+k.Secret, "X-Forwarded-For", "192.0.2.7"); resp.StatusCode != 200 {
		t.Fatalf("per-key allowed: %d", resp.StatusCode)
	}
}

func TestScopeOverAliasesSkipsTargetsOutside(t *testing.T) {
	e := newAccessEnv(t)
	g := e.start(t, `
  - id: other
    type: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
models:
  - name: mixed
    targets: [{model: other/gpt-4o}, {model: openai/gpt-4o-mini}]
  - name: elsewhere
    targets: [{model: other/gpt-4o}]
`, "")
	k := g.createKey(t, keys.Params{Name: "scoped", Models: []string{"openai/*"}})
	resp, b := g.chat(t, k.Secret, "mixed")
	if resp.StatusCode != 200 || resp.Header.Get("x-aig-provider") != "openai" || resp.Header.Get("x-aig-model") != "gpt-4o-mini" {
		t.Fatalf("alias with one target in scope: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	resp, b = g.chat(t, k.Secret, "elsewhere")
	if resp.StatusCode != 403 || !strings.Contains(errMessage(t, b), "may not use model other/gpt-4o") {
		t.Fatalf("alias with no target in scope: %d %s", resp.StatusCode, b)
	}
	byName := g.createKey(t, keys.Params{Name: "by-name", Models: []string{"elsewhere"}})
	if resp, b := g.chat(t, byName.Secret, "elsewhere"); resp.StatusCode != 200 {
		t.Fatalf("alias granted by name: %d %s", resp.StatusCode, b)
	}
	if resp, _ := g.chat(t, byName.Secret, "openai/gpt-4o"); resp.StatusCode != 403 {
		t.Fatalf("a key granted one alias used another model: %d", resp.StatusCode)
	}
}
