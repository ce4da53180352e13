package app

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aigateway/aigateway/internal/config"
	"github.com/aigateway/aigateway/internal/policy/guardrails"
	"github.com/aigateway/aigateway/internal/policy/guardrails/detect"
	"github.com/aigateway/aigateway/internal/provider"
)

// buildGuardrails compiles the guardrails section into the stage (nil
// when no binding applies a rule set).
func (rt *Runtime) buildGuardrails() (*guardrails.Guard, error) {
	gc := rt.cfg.Guardrails
	if len(gc.Bindings) == 0 {
		return nil, nil
	}
	names := make([]string, 0, len(gc.RuleSets))
	for name := range gc.RuleSets {
		names = append(names, name)
	}
	sort.Strings(names)
	opts := guardrails.Options{Log: rt.log}
	if rt.obs != nil && rt.obs.Estimator != nil {
		opts.Tokens = rt.obs.Estimator.ChatPrompt
	}
	for _, name := range names {
		rs, err := rt.guardRuleSet(name, gc.RuleSets[name])
		if err != nil {
			return nil, fmt.Errorf("guardrails.rule_sets.%s: %w", name, err)
		}
		opts.RuleSets = append(opts.RuleSets, rs)
	}
	for _, b := range gc.Bindings {
		opts.Bindings = append(opts.Bindings, guardrails.Binding{Models: b.Models, Tenants: b.Tenants, Keys: b.Keys, RuleSets: b.RuleSets})
	}
	return guardrails.New(opts)
}

func (rt *Runtime) guardRuleSet(name string, c config.GuardRuleSet) (guardrails.RuleSet, error) {
	rs := guardrails.RuleSet{Name: name, MaxPromptTokens: c.MaxPromptTokens}
	for i := range c.Rules {
		r := &c.Rules[i]
		var d detect.Detector
		var err error
		switch {
		case r.Detect != "":
			var ok bool
			if d, _, ok = detect.Builtin(r.Detect); !ok {
				err = fmt.Errorf("unknown detector %q", r.Detect)
			}
		case r.Regex != "":
			d, err = detect.NewRegex(r.Regex, r.MaxLength)
		default:
			d, err = detect.NewWords(r.Words)
		}
		if err != nil {
			return rs, fmt.Errorf("rules[%d]: %w", i, err)
		}
		action, _ := guardrails.ParseAction(r.Action)
		prompt, response := r.Sides()
		rs.Rules = append(rs.Rules, guardrails.Rule{Name: r.RuleName(), Label: r.GuardLabel(), Detector: d,
			Action: action, Prompt: prompt, Response: response})
	}
	if in := c.Injection; in != nil {
		inj := &guardrails.Injection{Action: guardrails.ActionBlock, Threshold: in.Threshold, Roles: in.Roles}
		if in.Action == "flag" {
			inj.Action = guardrails.ActionFlag
		}
		if in.Builtin == nil || *in.Builtin {
			inj.Rules = guardrails.BuiltinInjectionRules()
		}
		for j, r := range in.Rules {
			re, err := regexp.Compile("(?i)" + r.Pattern)
			if err != nil {
				return rs, fmt.Errorf("injection.rules[%d].pattern: %w", j, err)
			}
			inj.Rules = append(inj.Rules, guardrails.InjectionRule{Name: r.Name, Pattern: re, Weight: r.Weight})
		}
		rs.Injection = inj
	}
	if m := c.Moderation; m != nil {
		mod, err := rt.guardModeration(m)
		if err != nil {
			return rs, fmt.Errorf("moderation: %w", err)
		}
		rs.Moderation = mod
	}
	if sp := c.SystemPrompt; sp != nil {
		rs.SystemPrompt = sp.Text
		if sp.Position == "append" {
			rs.SystemPosition = guardrails.Append
		}
	}
	return rs, nil
}

func (rt *Runtime) guardModeration(m *config.GuardModeration) (*guardrails.Moderation, error) {
	pid, model, _ := provider.SplitModel(m.Model)
	p, ok := rt.registry.Lookup(pid)
	if !ok {
		return nil, fmt.Errorf("model: provider %q is not enabled", pid)
	}
	mod := &guardrails.Moderation{Action: guardrails.ActionBlock, FailClosed: m.OnError == "block",
		Timeout: m.Timeout.D(), Categories: map[string]guardrails.Action{}}
	mod.Prompt, mod.Response = m.Sides()
	if m.Action == "flag" {
		mod.Action = guardrails.ActionFlag
	}
	for cat, a := range m.Categories {
		act, _ := guardrails.ParseAction(a)
		mod.Categories[cat] = act
		if up := strings.ToUpper(cat); up != cat && len(cat) > 1 && cat[0] == 's' {
			mod.Categories[up] = act // Llama Guard codes are S1…; accept s1
		}
	}
	switch m.ModerationType() {
	case config.ModerationOpenAI:
		fw, ok := p.(provider.Forwarder)
		if !ok {
			return nil, fmt.Errorf("model: provider %q has no passthrough for the moderation endpoint", pid)
		}
		mod.Moderator = &guardrails.OpenAIModeration{Forwarder: fw, Model: model}
	default:
		mod.Moderator = &guardrails.LlamaGuard{Provider: p, Model: model}
	}
	return mod, nil
}
