package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestZeroConfigFromEnvironment(t *testing.T) {
	cfg, err := Parse(nil, env(map[string]string{
		"OPENAI_API_KEY":        "sk-o",
		"GROQ_API_KEY":          "gk",
		"CLOUDFLARE_API_TOKEN":  "cf",
		"CLOUDFLARE_ACCOUNT_ID": "acc1",
		"OLLAMA_BASE_URL":       "http://localhost:11434",
		"AZURE_OPENAI_API_KEY":  "az", // no endpoint: not enabled
	}))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Provider{}
	for _, p := range cfg.Providers {
		byID[p.ID] = p
	}
	if len(byID) != 4 {
		t.Fatalf("providers %v", byID)
	}
	if p := byID["openai"]; p.APIKey != "sk-o" || p.BaseURL != "https://api.openai.com/v1" || p.Type != TypeOpenAI {
		t.Errorf("openai %+v", p)
	}
	if p := byID["groq"]; p.BaseURL != "https://api.groq.com/openai/v1" || p.APIKey != "gk" {
		t.Errorf("groq %+v", p)
	}
	if p := byID["workers-ai"]; p.BaseURL != "https://api.cloudflare.com/client/v4/accounts/acc1/ai" || p.APIKey != "cf" {
		t.Errorf("workers-ai %+v", p)
	}
	if p := byID["ollama"]; p.APIPath != "/v1" || p.BaseURL != "http://localhost:11434" {
		t.Errorf("ollama %+v", p)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.DataDir != "./aigateway-data" || cfg.Server.MaxBodyBytes != 10<<20 ||
		cfg.Server.ShutdownTimeout.D() != 30*time.Second {
		t.Errorf("defaults %+v", cfg)
	}
}

func TestBaseURLOverrideFromEnvironment(t *testing.T) {
	cfg, err := Parse([]byte("providers:\n  - id: openai\n"), env(map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "k"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Providers[0].BaseURL != "http://127.0.0.1:9/v1" || cfg.Providers[0].APIKey != "k" {
		t.Errorf("%+v", cfg.Providers[0])
	}
}

func TestInterpolation(t *testing.T) {
	doc := `
listen: ${HOST:-127.0.0.1}:${PORT}
server:
  max_body_bytes: ${MAX}
providers:
  - id: custom
    base_url: http://x/v1
    api_key: "$${literal}-${KEY}"
`
	cfg, err := Parse([]byte(doc), env(map[string]string{"PORT": "9000", "MAX": "4096", "KEY": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" || cfg.Server.MaxBodyBytes != 4096 || cfg.Providers[0].APIKey != "${literal}-s3cret" {
		t.Errorf("listen %q max %d key %q", cfg.Listen, cfg.Server.MaxBodyBytes, cfg.Providers[0].APIKey)
	}
}

func TestErrorsHavePathsAndLines(t *testing.T) {
	doc := `listen: nowhere
providers:
  - id: openai
  - id: Bad_ID
    base_url: ftp://x
  - id: custom
    bse_url: http://x
    api_key: ${MISSING}
server:
  max_body_bytes: lots
  shutdown_timeout: 30
log: {level: loud}
models:
  - name: a
    targets: [{model: nope/x}, {model: noslash}]
`
	_, err := Parse([]byte(doc), env(nil))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	text := errs.Error()
	for _, want := range []string{
		"line 1: listen: must be host:port",
		"line 4: providers[1].id: must be lower-case",
		"line 5: providers[1].base_url: not a URL",
		`line 7: providers[2].bse_url: unknown field (did you mean "base_url"?)`,
		"line 8: providers[2].api_key: environment variable MISSING is not set",
		"line 10: server.max_body_bytes: must be a whole number",
		"line 11: server.shutdown_timeout: must be a duration",
		"log.level: must be debug, info, warn or error",
		`models[0].targets[0].model: provider "nope" is not configured`,
		"models[0].targets[1].model: must be provider/model",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "lots") {
		t.Error("error echoes the bad value")
	}
}

func TestProviderIDReserved(t *testing.T) {
	_, err := Parse([]byte("providers:\n  - id: admin\n    base_url: http://x\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:1\nproviders:\n  - id: openai\n    base_url: ${X:-http://a}\n"))
	f.Add([]byte("models: [{name: a, targets: [{model: openai/x, params: {t: [1, {a: b}]}}]}]"))
	f.Add([]byte("a: &x [*x]"))
	f.Add([]byte("providers: &x [*x]\nmodels: [{name: a, targets: [{model: openai/x, params: &p {a: *p}}]}]"))
	f.Add([]byte("server: {max_body_bytes: 1e99}\n---\nx: 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := Parse(b, env(map[string]string{"X": "http://h"}))
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not Errors: %v", err)
			}
		}
	})
}
