package config

import (
	"errors"
	"strings"
	"testing"
)

func routingEnv(k string) string { return map[string]string{"FAKE_URL": "http://127.0.0.1:1/v1"}[k] }

const providers = `
providers_from_env: false
providers:
  - id: openai
    base_url: ${FAKE_URL}
  - id: azure-east
    type: openai
    base_url: ${FAKE_URL}
`

func TestRoutingConfigAccepted(t *testing.T) {
	cfg, err := Parse([]byte(providers+`
retry:
  fallback_on: [rate_limit, server_error, timeout, connection, context_length]
models:
  - name: pool
    strategy: least-latency
    targets:
      - {model: azure-east/gpt-4o, rpm: 600, tpm: 100000, name: east}
      - {model: openai/gpt-4o, weight: 0, price: {input: 2.5, output: 10}}
  - name: smart
    fallback_on: [any]
    targets:
      - model: pool
      - model: openai/gpt-4o-mini
        params: {temperature: 0.2}
routes:
  - name: support
    match: ["gpt-4*"]
    switch:
      - name: enterprise
        if:
          - {field: tier, in: [enterprise, gold]}
          - any: [{field: prompt_length, gt: 8000}, {field: metadata.long, equals: true}]
        model: smart
      - if: [{field: prompt, matches: "(?i)translate"}]
        model: "@requested"
    default:
      split:
        by: metadata.account
        branches:
          - {name: control, percent: 90, model: openai/gpt-4o-mini}
          - name: canary
            percent: 10
            model: pool
            limit: {requests: 100, budget_usd: 5, window: 24h, per: user, otherwise: {model: openai/gpt-4o-mini}}
health:
  breaker: {consecutive_failures: 3, cooldown: 10s}
`), routingEnv)
	if err != nil {
		t.Fatalf("valid routing config rejected:\n%v", err)
	}
	r := cfg.Routes[0]
	if r.Default.Split.Branches[1].Limit.Window.D().Hours() != 24 || r.Default.Split.By != "metadata.account" {
		t.Errorf("route decoded wrong: %+v", r.Default.Split)
	}
	if r.Switch[0].If[1].Any[0].GT == nil || *r.Switch[0].If[1].Any[0].GT != 8000 {
		t.Errorf("nested condition decoded wrong: %+v", r.Switch[0].If[1])
	}
	if cfg.Health.Breaker.ConsecutiveFailures != 3 || cfg.Health.Breaker.MinRequests != 20 || !cfg.Health.Breaker.On() {
		t.Errorf("health defaults: %+v", cfg.Health.Breaker)
	}
	if cfg.Models[0].Targets[0].RPM != 600 || *cfg.Models[0].Targets[1].Weight != 0 {
		t.Errorf("targets decoded wrong: %+v", cfg.Models[0].Targets)
	}
	if cfg.Server.ConnectTimeout.D().Seconds() != 10 {
		t.Errorf("connect_timeout default %v", cfg.Server.ConnectTimeout)
	}
}

func TestRoutingConfigErrorsCarryPathAndLine(t *testing.T) {
	doc := providers + `
models:
  - name: a
    strategy: fastest
    fallback_on: [sometimes]
    targets: [{model: b}]
  - name: b
    targets: [{model: a}, {model: nope/x, weight: -1}]
routes:
  - name: a
    model: openai/x
  - name: r
    switch:
      - if: [{field: planet, equals: mars}]
        model: openai/x
      - if: [{field: prompt, matches: "("}]
        model: openai/x
  - name: s
    split:
      by: weather
      branches:
        - {percent: 60, model: openai/x}
        - {percent: 30, model: "@requested", limit: {window: 1m}}
`
	_, err := Parse([]byte(doc), routingEnv)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := map[string]string{
		"models[0].strategy":                "must be one of",
		"models[0].fallback_on[0]":          "unknown failure class",
		"models[0].targets":                 "cycle: a → b → a",
		"models[1].targets[1].model":        `provider "nope" is not configured`,
		"models[1].targets[1].weight":       "must not be negative",
		"routes[0].name":                    "already a model alias",
		"routes[1].default":                 "is required with switch",
		"routes[1].switch[0].if[0].field":   `unknown field "planet"`,
		"routes[1].switch[1].if[0].matches": "not a valid regular expression",
		"routes[2].split.by":                "must be user, key",
		"routes[2].split.branches":          "add up to 90",
		"routes[2].split.branches[1].model": "@requested needs match",
		"routes[2].split.branches[1].limit": "needs requests, tokens or budget_usd",
	}
	got := map[string]FieldError{}
	for _, e := range errs {
		got[e.Path] = e
	}
	for path, msg := range want {
		e, ok := got[path]
		if !ok {
			t.Errorf("no error at %s; got:\n%v", path, err)
			continue
		}
		if !strings.Contains(e.Msg, msg) {
			t.Errorf("%s: %q does not say %q", path, e.Msg, msg)
		}
		if e.Line == 0 {
			t.Errorf("%s: no line number", path)
		}
	}
}
