package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAccessSectionsValid(t *testing.T) {
	env := map[string]string{"CI_KEY": "0123456789abcdef-ci"}
	cfg, err := Parse([]byte(`
providers_from_env: false
providers:
  - {id: openai, base_url: "http://x/v1"}
models:
  - name: cheap
    targets: [{model: openai/gpt-4o-mini}]
keys:
  - name: ci
    secret: ${CI_KEY}
    models: ["openai/*"]
    budget_usd: 5
    expires_at: 2030-01-31
  - name: hashed
    sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
auth:
  trusted_proxies: [10.0.0.0/8]
  deny_ips: [203.0.113.7]
  jwt:
    - issuer: https://login.example.com/
      audience: [aigateway]
limits:
  rules:
    - {name: tenant-rpm, by: [tenant], requests: 100}
  concurrency:
    - {models: ["openai/*"], max: 4}
budgets:
  fallback_model: cheap
  tenants:
    - {tenant: acme, usd: 100}
`), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	k := cfg.Keys[0]
	if k.Secret != env["CI_KEY"] || k.BudgetPeriod != "month" || !k.ExpiresAt.Equal(time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("key %+v", k)
	}
	if cfg.Keys[1].SHA256 != strings.ToLower(cfg.Keys[1].SHA256) {
		t.Error("sha256 not normalised")
	}
	j := cfg.Auth.JWT[0]
	if j.Name != j.Issuer || j.Claims.User != "sub" || j.Leeway.D() != 30*time.Second || len(j.Algorithms) == 0 {
		t.Errorf("jwt defaults %+v", j)
	}
	r := cfg.Limits.Rules[0]
	if r.Window.D() != time.Minute || r.Algorithm != "sliding" || cfg.Limits.OnStoreError != FailOpen || cfg.Budgets.OnStoreError != FailClosed {
		t.Errorf("limit defaults %+v %+v", r, cfg.Limits)
	}
	if cfg.Limits.Concurrency[0].Per != "model" || cfg.Budgets.Tenants[0].Period != "month" {
		t.Errorf("defaults %+v %+v", cfg.Limits.Concurrency, cfg.Budgets)
	}
}

func TestAccessSectionErrorsHavePaths(t *testing.T) {
	_, err := Parse([]byte(`
providers_from_env: false
providers:
  - {id: openai, base_url: "http://x/v1"}
keys:
  - name: "has space"
    secret: short
    models: ["a b"]
    allow_ips: [10.0.0.0/99]
    budget_period: week
  - name: nosecret
  - name: both
    secret: 0123456789abcdef0123
    sha256: abc
auth:
  trusted_proxies: [nope]
  jwt:
    - issuer: not-a-url
      algorithms: [HS256]
limits:
  on_store_error: maybe
  rules:
    - {name: r, by: [planet], window: 100ms, algorithm: leaky}
  concurrency:
    - {max: 0, per: region}
budgets:
  fallback_model: anthropic/claude
  tenants:
    - {tenant: acme, usd: -1, period: year}
`), func(string) string { return "" })
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	got := err.Error()
	for _, want := range []string{
		"keys[0].name: must be letters",
		"keys[0].secret: must be at least 16 characters",
		"keys[0].models[0]: must be a non-empty pattern",
		"keys[0].allow_ips[0]: must be an IP address or CIDR",
		"keys[0].budget_period: must be day or month",
		"keys[1].secret: one of secret",
		"keys[2].sha256: give either secret or sha256",
		"auth.trusted_proxies[0]: must be an IP address or CIDR",
		"auth.jwt[0].jwks_url: is required when the issuer is not an http(s) URL",
		"auth.jwt[0].audience: is required",
		`auth.jwt[0].algorithms[0]: "HS256" is not supported`,
		"limits.on_store_error: must be open or closed",
		`limits.rules[0].by[0]: unknown dimension "planet"`,
		"limits.rules[0].requests: a rule needs requests or tokens",
		"limits.rules[0].window: must be from 1s",
		"limits.rules[0].algorithm: must be sliding or fixed",
		"limits.concurrency[0].models: needs at least one pattern",
		"limits.concurrency[0].per: must be model or provider",
		"limits.concurrency[0].max: must be at least 1",
		`budgets.fallback_model: provider "anthropic" is not configured`,
		"budgets.tenants[0].usd: must be a positive number",
		"budgets.tenants[0].period: must be day or month",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q", want)
		}
	}
	for _, e := range errs {
		if e.Line == 0 && strings.HasPrefix(e.Path, "keys[0]") {
			t.Errorf("%s has no line", e.Path)
		}
	}
	if strings.Contains(got, "0123456789abcdef0123") {
		t.Error("a secret was echoed in an error")
	}
}

func TestKeyExpiryFormats(t *testing.T) {
	for _, tc := range []struct {
		v  string
		ok bool
	}{{"2030-01-31T10:00:00Z", true}, {"2030-01-31T10:00:00+02:00", true}, {"2030-01-31", true}, {"tomorrow", false}, {"[1]", false}} {
		_, err := Parse([]byte("providers_from_env: false\nkeys:\n  - {name: k, sha256: "+strings.Repeat("a", 64)+", expires_at: "+tc.v+"}\n"), func(string) string { return "" })
		if (err == nil) != tc.ok {
			t.Errorf("expires_at %s: %v", tc.v, err)
		}
	}
}
