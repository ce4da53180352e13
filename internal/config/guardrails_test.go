package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const guardrailsDoc = `
providers_from_env: false
providers:
  - id: openai
    base_url: http://127.0.0.1:1/v1
  - id: workers-ai
    type: openai
    base_url: http://127.0.0.1:2/v1
models:
  - name: fast
    targets:
      - model: openai/gpt-4o-mini
guardrails:
  rule_sets:
    pii:
      rules:
        - detect: email
          action: mask
        - detect: credit_card
          action: block
          on: [prompt]
        - name: employee-id
          regex: 'EMP-\d{6}'
          action: mask
          label: EMPLOYEE
        - name: codenames
          words: [falcon, project bluebird]
          action: redact
          on: [response]
    safety:
      injection:
        action: block
        threshold: 1.0
        rules:
          - name: exfiltrate
            pattern: 'send .* to https?://'
            weight: 0.6
      moderation:
        model: workers-ai/@cf/meta/llama-guard-3-8b
        on: [prompt, response]
        categories:
          S10: flag
      system_prompt:
        text: Never reveal internal ticket numbers.
        position: append
      max_prompt_tokens: 8000
  bindings:
    - models: ["openai/*", "fast"]
      rule_sets: [pii, safety]
    - tenants: [acme]
      keys: [ci-bot]
      rule_sets: [pii]
prompts:
  - name: summarize
    model: fast
    description: Summarise a text
    messages:
      - role: system
        content: You summarise in {{language}}.
      - role: user
        content: "{{text}}"
    params:
      temperature: 0.2
    defaults:
      language: English
  - name: summarize
    version: 2
    model: openai/gpt-4o
    messages:
      - role: user
        content: "Summarise: {{text}}"
`

func TestGuardrailsAndPromptsParse(t *testing.T) {
	cfg, err := Parse([]byte(guardrailsDoc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Guardrails
	if len(g.RuleSets) != 2 || len(g.RuleSets["pii"].Rules) != 4 || len(g.Bindings) != 2 {
		t.Fatalf("guardrails %+v", g)
	}
	r := g.RuleSets["pii"].Rules
	if r[0].RuleName() != "email" || r[0].GuardLabel() != "EMAIL" || r[2].GuardLabel() != "EMPLOYEE" || r[3].GuardLabel() != "CODENAMES" {
		t.Errorf("names/labels %q %q %q %q", r[0].RuleName(), r[0].GuardLabel(), r[2].GuardLabel(), r[3].GuardLabel())
	}
	if p, resp := r[1].Sides(); !p || resp {
		t.Errorf("credit_card sides %v %v", p, resp)
	}
	if p, resp := r[0].Sides(); !p || !resp {
		t.Errorf("default sides %v %v", p, resp)
	}
	m := g.RuleSets["safety"].Moderation
	if m.ModerationType() != ModerationLlamaGuard || m.Timeout.D() != 10*time.Second {
		t.Errorf("moderation defaults %+v", m)
	}
	if (&GuardModeration{Model: "openai/omni-moderation-latest"}).ModerationType() != ModerationOpenAI {
		t.Error("an OpenAI moderation model is not recognised")
	}
	if len(cfg.Prompts) != 2 || cfg.Prompts[0].Version != 1 || cfg.Prompts[1].Version != 2 {
		t.Errorf("prompts %+v", cfg.Prompts)
	}
}

func TestGuardrailsErrorsHavePaths(t *testing.T) {
	doc := `
providers_from_env: false
providers:
  - id: openai
    base_url: http://127.0.0.1:1/v1
guardrails:
  rule_sets:
    pii:
      rules:
        - name: bad-regex
          regex: 'EMP-(\d{6}'
          action: mask
        - detect: passport
          action: mask
        - detect: email
          regex: 'x'
          action: explode
          on: [everywhere]
          label: e-mail
        - name: empty
          regex: 'a*'
          action: flag
      injection:
        action: shout
        rules:
          - name: x
            pattern: '(['
            weight: 0
      moderation:
        model: anthropic/claude
        type: perspective
        categories:
          S1: ignore
      system_prompt:
        position: middle
  bindings:
    - rule_sets: [pii, nope]
    - models: [x]
prompts:
  - name: Bad Name
    model: nowhere
    messages:
      - role: robot
        content: "{{ .Name }}"
`
	_, err := Parse([]byte(doc), env(nil))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	want := map[string]string{
		"guardrails.rule_sets.pii.rules[0].regex":             "invalid regular expression",
		"guardrails.rule_sets.pii.rules[1].detect":            "unknown detector \"passport\"",
		"guardrails.rule_sets.pii.rules[2]":                   "only one of",
		"guardrails.rule_sets.pii.rules[2].action":            "flag, mask, redact or block",
		"guardrails.rule_sets.pii.rules[2].on[0]":             "prompt or response",
		"guardrails.rule_sets.pii.rules[2].label":             "upper-case",
		"guardrails.rule_sets.pii.rules[3].regex":             "matches the empty string",
		"guardrails.rule_sets.pii.injection.action":           "flag or block",
		"guardrails.rule_sets.pii.injection.rules[0].pattern": "invalid regular expression",
		"guardrails.rule_sets.pii.injection.rules[0].weight":  "positive",
		"guardrails.rule_sets.pii.moderation.model":           `provider "anthropic" is not configured`,
		"guardrails.rule_sets.pii.moderation.type":            "llama_guard or openai",
		"guardrails.rule_sets.pii.moderation.categories.S1":   "block, flag or allow",
		"guardrails.rule_sets.pii.system_prompt.text":         "required",
		"guardrails.rule_sets.pii.system_prompt.position":     "prepend or append",
		"guardrails.bindings[0].rule_sets[1]":                 `"nope" is not defined`,
		"guardrails.bindings[1].rule_sets":                    "at least one",
		"prompts[0].name":                                     "lower-case",
		"prompts[0].model":                                    "provider/model, an alias or a route",
		"prompts[0].messages[0].role":                         "system, developer, user or assistant",
		"prompts[0].messages[0].content":                      "is not a variable",
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
			t.Errorf("%s: %q lacks %q", path, e.Msg, msg)
		}
	}
	if e := got["guardrails.rule_sets.pii.rules[0].regex"]; e.Line != 11 {
		t.Errorf("regex error on line %d, want 11", e.Line)
	}
}

func TestPromptVersionsMustBeUnique(t *testing.T) {
	doc := `
providers_from_env: false
providers:
  - id: openai
    base_url: http://127.0.0.1:1/v1
prompts:
  - name: a
    model: openai/x
    messages: [{role: user, content: hi}]
  - name: a
    version: 1
    model: openai/x
    messages: [{role: user, content: hi}]
`
	_, err := Parse([]byte(doc), env(nil))
	if err == nil || !strings.Contains(err.Error(), "prompts[1].version: a version 1 is declared twice") {
		t.Errorf("err = %v", err)
	}
}
