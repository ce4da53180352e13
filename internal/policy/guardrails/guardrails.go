// Package guardrails is the pipeline stage that keeps sensitive data from
// leaving and unwanted output from arriving.
//
// On the way in it checks and rewrites the chat request: personal data
// and credentials (flag, mask reversibly, redact, or block),
// prompt-injection heuristics, a system prompt prepended or appended, and a
// prompt size limit. On the way out it filters the answer with the
// response rules and restores masked values, for whole answers and for
// streams — where it holds back only the few bytes that may still become a
// match or a placeholder, so streaming stays streaming. A second, inner
// stage asks a moderation model about the masked prompt and answer.
//
// What applies to a call is chosen by bindings: rule sets bound to model
// name globs, tenants and keys. The main stage sits right after decode (and
// scope), outside limits, cache and routing, so cached answers pass
// through it too and the cache keys on the masked prompt; the moderation
// stage sits inside limits and cache.
package guardrails

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/aigateway/aigateway/internal/llm"
	"github.com/aigateway/aigateway/internal/policy/guardrails/detect"
)

// Action is what a rule does when it matches.
type Action uint8

// Actions.
const (
	// ActionFlag records the rule's name on the call (Outcome.Flags) and
	// lets the text pass.
	ActionFlag Action = iota + 1
	// ActionMask replaces a value in the prompt with a numbered
	// placeholder ([EMAIL_1]) and restores it in the answer. In answers it
	// redacts (there is nothing to restore it from).
	ActionMask
	// ActionRedact replaces a value with its label ([EMAIL]) for good.
	ActionRedact
	// ActionBlock refuses the request (or ends the answer) with an error
	// naming the rule.
	ActionBlock
	// ActionAllow ignores a moderation category.
	ActionAllow
)

// ParseAction reads an action name as written in configuration.
func ParseAction(s string) (Action, bool) {
	switch s {
	case "flag":
		return ActionFlag, true
	case "mask":
		return ActionMask, true
	case "redact":
		return ActionRedact, true
	case "block":
		return ActionBlock, true
	case "allow":
		return ActionAllow, true
	}
	return 0, false
}

func (a Action) String() string {
	switch a {
	case ActionFlag:
		return "flag"
	case ActionMask:
		return "mask"
	case ActionRedact:
		return "redact"
	case ActionBlock:
		return "block"
	case ActionAllow:
		return "allow"
	}
	return fmt.Sprintf("action(%d)", a)
}

// Rule is one detector with its action.
type Rule struct {
	// Name identifies the rule in flags and error messages; New qualifies
	// it with its rule set ("pii/email").
	Name string
	// Label names the kind of value in placeholders: [LABEL_1] when
	// masked, [LABEL] when redacted. Upper-case letters, digits and '_'.
	Label    string
	Detector detect.Detector
	Action   Action
	// Prompt and Response say where the rule applies.
	Prompt, Response bool
}

// Position is where a system prompt goes.
type Position uint8

// Positions.
const (
	// Prepend puts the system prompt first, before the client's messages.
	Prepend Position = iota
	// Append puts it after the client's leading system messages, so it is
	// the last instruction before the conversation.
	Append
)

// RuleSet is a named group of guardrails, bound to calls by Bindings.
type RuleSet struct {
	Name  string
	Rules []Rule
	// Injection, when set, scores incoming messages for prompt injection.
	Injection *Injection
	// Moderation, when set, asks a moderation model about prompt and/or
	// answer.
	Moderation *Moderation
	// SystemPrompt, when not empty, is added as a system message.
	SystemPrompt   string
	SystemPosition Position
	// MaxPromptTokens refuses prompts estimated above it (0: no limit).
	MaxPromptTokens int
}

// Binding applies rule sets to the calls it matches. An empty list
// matches everything in its dimension; all dimensions must match.
type Binding struct {
	// Models are globs over the model the client asked for (an alias or
	// "provider/model"); * matches any run of characters, / included.
	Models []string
	// Tenants are tenant names; Keys are key ids or key names.
	Tenants []string
	Keys    []string
	// RuleSets name the rule sets to apply, in order.
	RuleSets []string
}

// Options configure the stage.
type Options struct {
	RuleSets []RuleSet
	Bindings []Binding
	// Log receives moderation failures (nil: discarded).
	Log *slog.Logger
	// Tokens counts a request's prompt tokens for max_prompt_tokens (nil:
	// EstimateTokens, four bytes a token).
	Tokens func(model string, req *llm.ChatRequest) int
}

// maxBindings bounds the bindings so a call's set of matching bindings
// fits in one word (the key of the composed-policy cache).
const maxBindings = 64

// Guard is the compiled stage. It is immutable after New, but for its
// cache of composed policies.
type Guard struct {
	sets     map[string]*RuleSet
	bindings []binding
	log      *slog.Logger
	tokens   func(model string, req *llm.ChatRequest) int

	// moderates is true when a rule set has a moderation model.
	moderates bool

	mu       sync.RWMutex
	policies map[uint64]*policy
}

// New compiles the options. It fails on unknown rule set names, invalid
// labels and missing detectors.
func New(o Options) (*Guard, error) {
	if len(o.Bindings) > maxBindings {
		return nil, fmt.Errorf("at most %d guardrail bindings are supported, got %d", maxBindings, len(o.Bindings))
	}
	g := &Guard{sets: map[string]*RuleSet{}, log: o.Log, tokens: o.Tokens, policies: map[uint64]*policy{}}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.tokens == nil {
		g.tokens = func(_ string, req *llm.ChatRequest) int { return EstimateTokens(req) }
	}
	for i := range o.RuleSets {
		rs := o.RuleSets[i]
		if rs.Name == "" {
			return nil, fmt.Errorf("rule set %d has no name", i)
		}
		if _, dup := g.sets[rs.Name]; dup {
			return nil, fmt.Errorf("rule set %q is defined twice", rs.Name)
		}
		rules := make([]Rule, len(rs.Rules))
		for j, r := range rs.Rules {
			if r.Detector == nil {
				return nil, fmt.Errorf("rule %s/%s has no detector", rs.Name, r.Name)
			}
			if !ValidLabel(r.Label) {
				return nil, fmt.Errorf("rule %s/%s: label %q must be upper-case letters, digits and _", rs.Name, r.Name, r.Label)
			}
			if r.Action < ActionFlag || r.Action > ActionBlock {
				return nil, fmt.Errorf("rule %s/%s: action %v is not one of flag, mask, redact, block", rs.Name, r.Name, r.Action)
			}
			r.Name = rs.Name + "/" + r.Name
			rules[j] = r
		}
		rs.Rules = rules
		g.sets[rs.Name] = &rs
		g.moderates = g.moderates || rs.Moderation != nil
	}
	for i, b := range o.Bindings {
		for _, name := range b.RuleSets {
			if _, ok := g.sets[name]; !ok {
				return nil, fmt.Errorf("binding %d names unknown rule set %q", i, name)
			}
		}
		g.bindings = append(g.bindings, newBinding(b))
	}
	return g, nil
}

// ValidLabel reports whether s can be a placeholder label.
func ValidLabel(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

// Enabled reports whether any binding applies rule sets at all.
func (g *Guard) Enabled() bool { return g != nil && len(g.bindings) > 0 }

// flagName qualifies a check's flag.
func flagName(set, what string) string { return set + "/" + what }
