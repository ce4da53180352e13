package guardrails

import (
	"slices"

	"github.com/aigateway/aigateway/internal/pipeline"
)

// binding is a Binding ready to match calls.
type binding struct {
	models  []string
	tenants map[string]bool
	keys    map[string]bool
	sets    []string
}

func newBinding(b Binding) binding {
	nb := binding{models: b.Models, sets: b.RuleSets}
	if len(b.Tenants) > 0 {
		nb.tenants = map[string]bool{}
		for _, t := range b.Tenants {
			nb.tenants[t] = true
		}
	}
	if len(b.Keys) > 0 {
		nb.keys = map[string]bool{}
		for _, k := range b.Keys {
			nb.keys[k] = true
		}
	}
	return nb
}

func (b *binding) matches(c *pipeline.Call) bool {
	if b.tenants != nil && !b.tenants[c.Identity.Tenant] {
		return false
	}
	if b.keys != nil {
		id := c.Identity
		if !(id.KeyID != "" && b.keys[id.KeyID]) && !(id.KeyName != "" && b.keys[id.KeyName]) {
			return false
		}
	}
	if len(b.models) == 0 {
		return true
	}
	for _, m := range b.models {
		if Glob(m, c.Model) {
			return true
		}
	}
	return false
}

// Glob reports whether name matches pattern, where * matches any run of
// characters (also /) and ? any one byte.
func Glob(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == name[n]):
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// policy is what applies to one call: the rule sets of every matching
// binding, in binding order, each once.
type policy struct {
	prompt      []*Rule
	response    []*Rule
	injections  []*RuleSet
	moderations []*RuleSet
	systems     []*RuleSet
	maxTokens   int
	maxTokenSet string
}

// policyFor returns the policy for c, nil when no binding matches.
func (g *Guard) policyFor(c *pipeline.Call) *policy {
	var key uint64
	for i := range g.bindings {
		if g.bindings[i].matches(c) {
			key |= 1 << i
		}
	}
	if key == 0 {
		return nil
	}
	g.mu.RLock()
	p, ok := g.policies[key]
	g.mu.RUnlock()
	if ok {
		return p
	}
	p = g.compose(key)
	g.mu.Lock()
	g.policies[key] = p
	g.mu.Unlock()
	return p
}

func (g *Guard) compose(key uint64) *policy {
	p := &policy{}
	var seen []string
	for i := range g.bindings {
		if key&(1<<i) == 0 {
			continue
		}
		for _, name := range g.bindings[i].sets {
			if slices.Contains(seen, name) {
				continue
			}
			seen = append(seen, name)
			rs := g.sets[name]
			for j := range rs.Rules {
				r := &rs.Rules[j]
				if r.Prompt {
					p.prompt = append(p.prompt, r)
				}
				if r.Response {
					p.response = append(p.response, r)
				}
			}
			if rs.Injection != nil {
				p.injections = append(p.injections, rs)
			}
			if rs.Moderation != nil {
				p.moderations = append(p.moderations, rs)
			}
			if rs.SystemPrompt != "" {
				p.systems = append(p.systems, rs)
			}
			if rs.MaxPromptTokens > 0 && (p.maxTokens == 0 || rs.MaxPromptTokens < p.maxTokens) {
				p.maxTokens, p.maxTokenSet = rs.MaxPromptTokens, rs.Name
			}
		}
	}
	return p
}

// moderatesResponse reports whether any moderation looks at answers.
func (p *policy) moderatesResponse() bool {
	for _, rs := range p.moderations {
		if rs.Moderation.Response {
			return true
		}
	}
	return false
}
