package app

import (
	"strings"
	"testing"
)

// TestAdminPprofNeedsTheAdminToken: runtime profiles are served on the
// admin API, and only with the admin token.
func TestAdminPprofNeedsTheAdminToken(t *testing.T) {
	g := newTestGateway(t, `
providers_from_env: false
admin: {token: admin-secret}
providers:
  - id: openai
    base_url: ${FAKE_URL}
    api_key: sk-fake
`)
	for _, path := range []string{"/admin/v1/debug/pprof/", "/admin/v1/debug/pprof/heap", "/admin/v1/debug/pprof/profile?seconds=1"} {
		if resp := g.do(t, "GET", path, ""); resp.StatusCode != 401 {
			t.Errorf("%s without token: %d", path, resp.StatusCode)
		}
	}
	resp := g.do(t, "GET", "/admin/v1/debug/pprof/", "", "Authorization", "Bearer admin-secret")
	if body := string(readBody(t, resp)); resp.StatusCode != 200 || !strings.Contains(body, "goroutine") {
		t.Errorf("index: %d %.200s", resp.StatusCode, body)
	}
	for _, path := range []string{"/admin/v1/debug/pprof/heap", "/admin/v1/debug/pprof/goroutine", "/admin/v1/debug/pprof/profile?seconds=1"} {
		resp := g.do(t, "GET", path, "", "Authorization", "Bearer admin-secret")
		if body := readBody(t, resp); resp.StatusCode != 200 || len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
			t.Errorf("%s: status %d, not a gzipped profile", path, resp.StatusCode)
		}
	}
	if resp := g.do(t, "GET", "/admin/v1/debug/pprof/nosuch", "", "Authorization", "Bearer admin-secret"); resp.StatusCode != 404 {
		t.Errorf("unknown profile: %d", resp.StatusCode)
	}
}
