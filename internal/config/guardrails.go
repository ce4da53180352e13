package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aigateway/aigateway/internal/policy/guardrails/detect"
)

// Guardrails configures the guardrails stage: named rule sets, and
// bindings that apply them to calls by model, tenant and key.
type Guardrails struct {
	// RuleSets are the named groups of guardrails.
	RuleSets map[string]GuardRuleSet `yaml:"rule_sets"`
	// Bindings apply rule sets; every binding that matches a call applies
	// its rule sets (each rule set once).
	Bindings []GuardBinding `yaml:"bindings"`
}

// GuardRuleSet is one named group of guardrails. Every part is optional.
type GuardRuleSet struct {
	// Rules detect values in prompts and answers.
	Rules []GuardRule `yaml:"rules"`
	// Injection scores incoming messages for prompt injection.
	Injection *GuardInjection `yaml:"injection"`
	// Moderation asks a moderation model.
	Moderation *GuardModeration `yaml:"moderation"`
	// SystemPrompt is added to every request.
	SystemPrompt *GuardSystemPrompt `yaml:"system_prompt"`
	// MaxPromptTokens refuses larger prompts (estimated; 0: no limit).
	MaxPromptTokens int `yaml:"max_prompt_tokens"`
}

// GuardRule is one detector with its action. Exactly one of Detect, Regex
// and Words is set.
type GuardRule struct {
	// Name identifies the rule in flags and errors (default: the detector,
	// for built-ins).
	Name string `yaml:"name"`
	// Detect is a built-in detector: email, phone, credit_card, iban,
	// us_ssn, ipv4, ipv6, ip_address, api_key, private_key, jwt,
	// credential (api_key + private_key + jwt).
	Detect string `yaml:"detect"`
	// Regex is a regular expression (RE2 syntax).
	Regex string `yaml:"regex"`
	// Words are words or phrases matched as whole words, ignoring case.
	Words []string `yaml:"words"`
	// MaxLength bounds a Regex match in a stream (default 256); longer
	// matches of an unbounded expression may be cut when streamed.
	MaxLength int `yaml:"max_length"`
	// Action is flag, mask, redact or block.
	Action string `yaml:"action"`
	// On is where the rule applies: prompt, response (default both).
	On []string `yaml:"on"`
	// Label names the value in placeholders ([LABEL_1], [LABEL]); default
	// the detector's (EMAIL, PHONE, CARD …) or the rule name upper-cased.
	Label string `yaml:"label"`
}

// GuardInjection configures prompt-injection heuristics.
type GuardInjection struct {
	// Action is flag or block (default block).
	Action string `yaml:"action"`
	// Threshold is the score that triggers (default 1.0).
	Threshold float64 `yaml:"threshold"`
	// Builtin turns the built-in heuristics on (default true).
	Builtin *bool `yaml:"builtin"`
	// Rules add heuristics of one's own.
	Rules []GuardInjectionRule `yaml:"rules"`
	// Roles are the message roles checked (default user, tool).
	Roles []string `yaml:"roles"`
}

// GuardInjectionRule is one heuristic: a pattern (RE2, matched ignoring
// case) and the score it adds.
type GuardInjectionRule struct {
	Name    string  `yaml:"name"`
	Pattern string  `yaml:"pattern"`
	Weight  float64 `yaml:"weight"`
}

// Moderation types.
const (
	ModerationLlamaGuard = "llama_guard"
	ModerationOpenAI     = "openai"
)

// GuardModeration configures a moderation model.
type GuardModeration struct {
	// Model is "provider/model" of a configured provider.
	Model string `yaml:"model"`
	// Type is llama_guard (a chat model answering "safe"/"unsafe\nS1") or
	// openai (the provider's /moderations endpoint). Default: openai when
	// the model name contains "moderation", llama_guard otherwise.
	Type string `yaml:"type"`
	// On is what is moderated: prompt, response (default prompt).
	On []string `yaml:"on"`
	// Action is block or flag for flagged categories (default block).
	Action string `yaml:"action"`
	// Categories override Action per category: block, flag or allow.
	Categories map[string]string `yaml:"categories"`
	// OnError is allow (default: the request goes on, flagged) or block
	// (503) when the moderation call fails.
	OnError string `yaml:"on_error"`
	// Timeout bounds one moderation call (default 10s).
	Timeout Duration `yaml:"timeout"`
}

// GuardSystemPrompt is a system prompt added to requests.
type GuardSystemPrompt struct {
	Text string `yaml:"text"`
	// Position is prepend (first message, default) or append (after the
	// client's own system messages).
	Position string `yaml:"position"`
}

// GuardBinding applies rule sets to the calls it matches; an empty list
// matches everything, and all lists must match.
type GuardBinding struct {
	// Models are globs over the model the client asks for (alias, route
	// or provider/model); * also matches '/'.
	Models []string `yaml:"models"`
	// Tenants are tenant names.
	Tenants []string `yaml:"tenants"`
	// Keys are gateway key ids or key names.
	Keys []string `yaml:"keys"`
	// RuleSets are applied in order.
	RuleSets []string `yaml:"rule_sets"`
}

// Guard sides.
const (
	GuardPrompt   = "prompt"
	GuardResponse = "response"
)

// maxGuardBindings bounds bindings (the stage keys a cache on the set of
// matching bindings).
const maxGuardBindings = 64

// GuardLabel returns the placeholder label of a rule.
func (r *GuardRule) GuardLabel() string {
	if r.Label != "" {
		return r.Label
	}
	if r.Detect != "" {
		if _, l, ok := detect.Builtin(r.Detect); ok {
			return l
		}
	}
	var b strings.Builder
	for _, c := range strings.ToUpper(r.RuleName()) {
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 || b.Len() > 32 {
		return "REDACTED"
	}
	return b.String()
}

// RuleName returns the rule's name, defaulting to its detector.
func (r *GuardRule) RuleName() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Detect
}

// Sides reports where the rule applies.
func (r *GuardRule) Sides() (prompt, response bool) {
	if len(r.On) == 0 {
		return true, true
	}
	for _, s := range r.On {
		switch s {
		case GuardPrompt:
			prompt = true
		case GuardResponse:
			response = true
		}
	}
	return prompt, response
}

// ModerationType returns the moderation type, defaulted.
func (m *GuardModeration) ModerationType() string {
	if m.Type != "" {
		return m.Type
	}
	if strings.Contains(m.Model, "moderation") {
		return ModerationOpenAI
	}
	return ModerationLlamaGuard
}

// Sides reports what the moderation looks at.
func (m *GuardModeration) Sides() (prompt, response bool) {
	if len(m.On) == 0 {
		return true, false
	}
	for _, s := range m.On {
		switch s {
		case GuardPrompt:
			prompt = true
		case GuardResponse:
			response = true
		}
	}
	return prompt, response
}

func (g *Guardrails) defaults() {
	for name, rs := range g.RuleSets {
		if rs.Moderation != nil {
			setDuration(&rs.Moderation.Timeout, "10s")
		}
		g.RuleSets[name] = rs
	}
}

var guardNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// validateGuardrails checks the guardrails section; providers are the
// configured provider ids (moderation models must use one).
func (c *Config) validateGuardrails(providers map[string]bool) Errors {
	var errs Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
	}
	g := &c.Guardrails
	names := make([]string, 0, len(g.RuleSets))
	for name := range g.RuleSets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rs := g.RuleSets[name]
		path := "guardrails.rule_sets." + name
		if !guardNameRe.MatchString(name) {
			add(path, "rule set names are lower-case letters, digits, '_', '.' and '-'")
		}
		seen := map[string]bool{}
		for i := range rs.Rules {
			r := &rs.Rules[i]
			rp := fmt.Sprintf("%s.rules[%d]", path, i)
			errs = append(errs, r.validate(rp)...)
			if n := r.RuleName(); n != "" {
				if seen[n] {
					add(rp+".name", "%q is used twice in this rule set", n)
				}
				seen[n] = true
			}
		}
		if in := rs.Injection; in != nil {
			errs = append(errs, in.validate(path+".injection")...)
		}
		if m := rs.Moderation; m != nil {
			errs = append(errs, m.validate(path+".moderation", providers)...)
		}
		if sp := rs.SystemPrompt; sp != nil {
			if strings.TrimSpace(sp.Text) == "" {
				add(path+".system_prompt.text", "is required")
			}
			if sp.Position != "" && sp.Position != "prepend" && sp.Position != "append" {
				add(path+".system_prompt.position", "must be prepend or append")
			}
		}
		if rs.MaxPromptTokens < 0 {
			add(path+".max_prompt_tokens", "must not be negative")
		}
	}
	if len(g.Bindings) > maxGuardBindings {
		add("guardrails.bindings", "at most %d bindings are supported", maxGuardBindings)
	}
	for i, b := range g.Bindings {
		path := fmt.Sprintf("guardrails.bindings[%d]", i)
		if len(b.RuleSets) == 0 {
			add(path+".rule_sets", "needs at least one rule set")
		}
		for j, name := range b.RuleSets {
			if _, ok := g.RuleSets[name]; !ok {
				add(fmt.Sprintf("%s.rule_sets[%d]", path, j), "rule set %q is not defined under guardrails.rule_sets", name)
			}
		}
		for j, m := range b.Models {
			if strings.TrimSpace(m) == "" {
				add(fmt.Sprintf("%s.models[%d]", path, j), "must not be empty")
			}
		}
	}
	return errs
}

func (r *GuardRule) validate(path string) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Path: path + field, Msg: fmt.Sprintf(format, args...)})
	}
	kinds := 0
	if r.Detect != "" {
		kinds++
		if _, _, ok := detect.Builtin(r.Detect); !ok {
			add(".detect", "unknown detector %q (one of %s)", r.Detect, strings.Join(detect.BuiltinKinds(), ", "))
		}
	}
	if r.Regex != "" {
		kinds++
		if _, err := detect.NewRegex(r.Regex, r.MaxLength); err != nil {
			add(".regex", "%v", err)
		}
	}
	if r.Words != nil {
		kinds++
		if _, err := detect.NewWords(r.Words); err != nil {
			add(".words", "%v", err)
		}
	}
	switch {
	case kinds == 0:
		add("", "needs one of detect, regex or words")
	case kinds > 1:
		add("", "give only one of detect, regex and words")
	}
	if r.Name == "" && r.Detect == "" {
		add(".name", "is required for regex and word rules")
	} else if r.Name != "" && !guardNameRe.MatchString(r.Name) {
		add(".name", "must be lower-case letters, digits, '_', '.' and '-'")
	}
	if r.MaxLength < 0 || r.MaxLength > 64<<10 {
		add(".max_length", "must be from 0 to 65536")
	}
	switch r.Action {
	case "flag", "mask", "redact", "block":
	case "":
		add(".action", "is required (flag, mask, redact or block)")
	default:
		add(".action", "must be flag, mask, redact or block")
	}
	for i, s := range r.On {
		if s != GuardPrompt && s != GuardResponse {
			add(fmt.Sprintf(".on[%d]", i), "must be prompt or response")
		}
	}
	if r.Label != "" && !validGuardLabel(r.Label) {
		add(".label", "must be 1 to 32 upper-case letters, digits and _")
	}
	return errs
}

func validGuardLabel(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func (in *GuardInjection) validate(path string) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Path: path + field, Msg: fmt.Sprintf(format, args...)})
	}
	if in.Action != "" && in.Action != "flag" && in.Action != "block" {
		add(".action", "must be flag or block")
	}
	if in.Threshold < 0 {
		add(".threshold", "must be positive")
	}
	if in.Builtin != nil && !*in.Builtin && len(in.Rules) == 0 {
		add(".rules", "needs at least one rule when builtin is false")
	}
	for i, r := range in.Rules {
		rp := fmt.Sprintf(".rules[%d]", i)
		if r.Name == "" {
			add(rp+".name", "is required")
		}
		if r.Pattern == "" {
			add(rp+".pattern", "is required")
		} else if _, err := regexp.Compile("(?i)" + r.Pattern); err != nil {
			add(rp+".pattern", "invalid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		if r.Weight <= 0 {
			add(rp+".weight", "must be positive")
		}
	}
	for i, role := range in.Roles {
		switch role {
		case "system", "developer", "user", "assistant", "tool":
		default:
			add(fmt.Sprintf(".roles[%d]", i), "must be system, developer, user, assistant or tool")
		}
	}
	return errs
}

func (m *GuardModeration) validate(path string, providers map[string]bool) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Path: path + field, Msg: fmt.Sprintf(format, args...)})
	}
	pid, model, ok := strings.Cut(m.Model, "/")
	switch {
	case m.Model == "":
		add(".model", "is required")
	case !ok || pid == "" || model == "":
		add(".model", "must be provider/model")
	case !providers[pid]:
		add(".model", "provider %q is not configured (neither in providers nor from the environment)", pid)
	}
	if t := m.Type; t != "" && t != ModerationLlamaGuard && t != ModerationOpenAI {
		add(".type", "must be llama_guard or openai")
	}
	for i, s := range m.On {
		if s != GuardPrompt && s != GuardResponse {
			add(fmt.Sprintf(".on[%d]", i), "must be prompt or response")
		}
	}
	if m.Action != "" && m.Action != "block" && m.Action != "flag" {
		add(".action", "must be block or flag")
	}
	for cat, a := range m.Categories {
		if a != "block" && a != "flag" && a != "allow" {
			add(".categories."+cat, "must be block, flag or allow")
		}
	}
	if m.OnError != "" && m.OnError != "allow" && m.OnError != "block" {
		add(".on_error", "must be allow or block")
	}
	return errs
}
