package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/aigateway/aigateway/internal/provider/providertest"
	"github.com/aigateway/aigateway/internal/store/storetest"
)

func fakeUpstream(t *testing.T) map[string]string {
	t.Helper()
	up := httptest.NewServer(providertest.NewFake(providertest.Options{APIKey: "sk-upstream"}))
	t.Cleanup(up.Close)
	return map[string]string{"OPENAI_API_KEY": "sk-upstream", "OPENAI_BASE_URL": up.URL + "/v1"}
}

func keyedClient(g *Gateway, key string) openai.Client {
	return openai.NewClient(option.WithBaseURL(g.URL+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
}

func chatStatus(t *testing.T, g *Gateway, key string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	client := keyedClient(g, key)
	_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "openai/gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")},
	})
	var apiErr *openai.Error
	switch {
	case err == nil:
		return 200
	case errors.As(err, &apiErr):
		return apiErr.StatusCode
	}
	t.Fatalf("chat: %v", err)
	return 0
}

func TestKeysCLIOnTheStoreAndOverTheAdminAPI(t *testing.T) {
	env := fakeUpstream(t)
	data := filepath.Join(t.TempDir(), "data")
	// a key created before the gateway ever ran
	code, secret, stderr := runCLI(t, env, "keys", "create", "--data-dir", data, "--name", "ci", "--tenant", "acme",
		"--models", "openai/*,anthropic/claude-*", "--rpm", "100", "--budget-usd", "5", "--budget-period", "day", "--expires", "30d",
		"--metadata", "tier=gold")
	secret = strings.TrimSpace(secret)
	if code != 0 || !strings.HasPrefix(secret, "aig_") || !strings.Contains(stderr, "shown only this once") {
		t.Fatalf("keys create: %d %q %s", code, secret, stderr)
	}
	env["AIGATEWAY_ADMIN_TOKEN"] = "admin-e2e-token"
	// keys exist, so a non-loopback address is allowed without the flag
	g := StartGateway(t, GatewayOptions{Env: env, Args: []string{"--data-dir", data, "--listen", "0.0.0.0:0"}})
	g.URL = strings.Replace(strings.Replace(g.URL, "0.0.0.0", "127.0.0.1", 1), "[::]", "127.0.0.1", 1)

	if s := chatStatus(t, g, secret); s != 200 {
		t.Fatalf("with the key: %d\n%s", s, g.Logs())
	}
	if s := chatStatus(t, g, "aig_"+strings.Repeat("0", 43)); s != 401 {
		t.Fatalf("unknown key: %d", s)
	}

	// a key created over the admin API is usable at once
	code, remote, stderr := runCLI(t, env, "keys", "create", "--url", g.URL, "--name", "remote")
	remote = strings.TrimSpace(remote)
	if code != 0 || chatStatus(t, g, remote) != 200 {
		t.Fatalf("remote create: %d %s", code, stderr)
	}
	code, list, _ := runCLI(t, env, "keys", "list", "--url", g.URL)
	if code != 0 || !strings.Contains(list, "ci") || !strings.Contains(list, "remote") || strings.Contains(list, secret) {
		t.Fatalf("remote list: %d\n%s", code, list)
	}
	code, _, stderr = runCLI(t, map[string]string{}, "keys", "list", "--url", g.URL, "--admin-token", "wrong")
	if code == 0 || !strings.Contains(stderr, "401") {
		t.Fatalf("wrong admin token: %d %s", code, stderr)
	}

	// revoked on the store by another process while the gateway runs
	code, out, stderr := runCLI(t, env, "keys", "revoke", "ci", "--data-dir", data)
	if code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %d %s %s", code, out, stderr)
	}
	start := time.Now()
	for chatStatus(t, g, secret) != 401 {
		if time.Since(start) > time.Second {
			t.Fatal("revoked key still accepted after 1s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("revocation from the CLI seen after %v", time.Since(start).Round(time.Millisecond))

	code, out, _ = runCLI(t, env, "keys", "show", "remote", "--url", g.URL, "--json")
	if code != 0 || !strings.Contains(out, `"status": "active"`) {
		t.Fatalf("show: %d %s", code, out)
	}
	code, _, stderr = runCLI(t, env, "keys", "update", "remote", "--url", g.URL, "--enabled=false")
	if code != 0 || chatStatus(t, g, remote) != 401 {
		t.Fatalf("disable over the admin API: %d %s", code, stderr)
	}
}

func TestKeysCLIErrors(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"keys", "create", "--data-dir", data}, 1, "name: is required"},
		{[]string{"keys", "create", "--data-dir", data, "--name", "x", "--expires", "soon"}, 2, "--expires"},
		{[]string{"keys", "show", "--data-dir", data}, 2, "exactly one key"},
		{[]string{"keys", "show", "nope", "--data-dir", data}, 1, "no key with id or name"},
		{[]string{"keys", "frobnicate", "--data-dir", data}, 2, "unknown command"},
		{[]string{"keys", "list", "--url", "http://127.0.0.1:1"}, 1, "admin token"},
	} {
		code, _, stderr := runCLI(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

// TestLimitSharedExactlyByThreeProcessesOnRedis runs three gateway
// processes on one Redis: a limit of 30 per minute admits exactly 30 of
// 90 concurrent requests spread over them.
func TestLimitSharedExactlyByThreeProcessesOnRedis(t *testing.T) {
	redisURL := storetest.RedisURL(t)
	env := fakeUpstream(t)
	cfg := fmt.Sprintf(`
redis: {url: "%s"}
limits:
  store_timeout: 10s
  rules:
    - {name: e2e-%s, requests: 30, window: 1m}
`, redisURL, storetest.RandomName(""))
	var gs []*Gateway
	for i := 0; i < 3; i++ {
		gs = append(gs, StartGateway(t, GatewayOptions{Env: env, Config: cfg}))
	}
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 0; i < 90; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Post(gs[i%3].URL+"/v1/chat/completions", "application/json",
				strings.NewReader(`{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"x"}]}`))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				allowed.Add(1)
			case 429:
				if resp.Header.Get("Retry-After") == "" || resp.Header.Get("x-ratelimit-remaining-requests") != "0" {
					t.Errorf("429 without its headers: %v", resp.Header)
				}
				refused.Add(1)
			default:
				t.Errorf("status %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 30 || refused.Load() != 60 {
		t.Fatalf("allowed %d, refused %d across three processes; want exactly 30 and 60", allowed.Load(), refused.Load())
	}
}
