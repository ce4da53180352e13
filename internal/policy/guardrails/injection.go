package guardrails

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aigateway/aigateway/internal/llm"
)

// Injection scores incoming messages for prompt injection and jailbreak
// attempts: every rule whose pattern occurs adds its weight once; a total
// at or above the threshold triggers the action.
type Injection struct {
	// Action is ActionFlag or ActionBlock.
	Action Action
	// Threshold is the score that triggers (default 1.0 when zero).
	Threshold float64
	Rules     []InjectionRule
	// Roles are the message roles checked (default user and tool: what
	// the client's users and tools wrote, not the operator's system
	// prompt).
	Roles []string

	indexOnce sync.Once
	index     *[256][]keywordRef
}

// InjectionRule is one heuristic.
type InjectionRule struct {
	Name string
	// Pattern is matched as it is (write (?i) to ignore case).
	Pattern *regexp.Regexp
	// Keywords, when set, are lower-case strings one of which starts a
	// word of every match (matched ignoring ASCII case): the pattern is
	// only tried around them, which keeps long prompts cheap.
	Keywords []string
	Weight   float64
}

// BuiltinInjectionRules are heuristics for the common shapes of prompt
// injection: overriding earlier instructions, extracting the system
// prompt, switching persona, disabling safety, and forged role markers.
// Weights are tuned so one unambiguous phrase reaches the default
// threshold of 1.0 and weaker signals need company.
func BuiltinInjectionRules() []InjectionRule {
	const gap = `[^.!?\n]{0,40}?`
	return []InjectionRule{
		{
			Name: "ignore_instructions",
			Pattern: regexp.MustCompile(`(?i)\b(ignore|disregard|forget|override|skip|bypass)\b` + gap +
				`\b(previous|prior|above|earlier|preceding|all|any|your|system|initial|original)\b` + gap +
				`\b(instructions?|prompts?|rules|directions|guidelines|context|constraints|programming)\b`),
			Keywords: []string{"ignore", "disregard", "forget", "override", "skip", "bypass"},
			Weight:   1.0,
		},
		{
			Name: "reveal_system_prompt",
			Pattern: regexp.MustCompile(`(?i)\b(reveal|show|print|repeat|output|display|leak|tell me|give me|what (?:is|are|was|were))\b` + gap +
				`\b(system prompt|system message|initial instructions|hidden instructions|original instructions|your instructions|your prompt|instructions above)\b`),
			Keywords: []string{"prompt", "instructions", "system message"},
			Weight:   1.0,
		},
		{
			Name: "persona_switch",
			Pattern: regexp.MustCompile(`(?i)\byou are (now|no longer)\b|\bfrom now on,? you\b|\bact as (an? )?(unfiltered|uncensored|unrestricted|jailbroken|evil)\b|` +
				`\bpretend (to be|you are|you're)\b` + gap + `\b(no|without) (restrictions|limits|filters|rules|guidelines)\b`),
			Keywords: []string{"you are now", "you are no longer", "from now on", "act as", "pretend"},
			Weight:   0.5,
		},
		{
			Name:     "jailbreak_terms",
			Pattern:  regexp.MustCompile(`(?i)\b(do anything now|dan mode|developer mode|jailbreak(ed|ing)?|god mode|unrestricted mode|no ethical guidelines)\b`),
			Keywords: []string{"anything now", "dan mode", "developer mode", "jailbreak", "god mode", "unrestricted mode", "ethical guidelines"},
			Weight:   0.6,
		},
		{
			Name: "disable_safety",
			Pattern: regexp.MustCompile(`(?i)\b(bypass|disable|ignore|turn off|remove|deactivate|without)\b` + gap +
				`\b(safety|content|ethical|moral)?\s*(filters?|guardrails|safeguards|censorship|content polic(y|ies)|safety guidelines)\b`),
			Keywords: []string{"filter", "guardrail", "safeguard", "censor", "polic", "safety"},
			Weight:   0.6,
		},
		{
			Name:     "role_markers",
			Pattern:  regexp.MustCompile(`(?i)<\|(im_start|im_end|system|endoftext|start_header_id)\|>|\[/?(inst|system)\]|<<sys>>|(^|\n)\s*#{2,}\s*(system|instructions?)\s*:|(^|\n)\s*system\s*:\s`),
			Keywords: []string{"<|", "[inst", "[/inst", "[system", "<<sys", "##", "system"},
			Weight:   0.7,
		},
		{
			Name:     "new_instructions",
			Pattern:  regexp.MustCompile(`(?i)\b(new|updated|real|actual|true|secret) (instructions?|rules|task|system prompt)\s*:`),
			Keywords: []string{"instruction", "rules", "task", "system prompt"},
			Weight:   0.4,
		},
	}
}

// score returns the injection score of the texts and the rules that
// matched. One pass over each text finds the rules' keywords at word
// starts; a rule's pattern then runs only on short windows around its
// keywords, so a long prompt costs little more than reading it once.
func (in *Injection) score(texts []string) (float64, []string) {
	idx := in.keywordIndex()
	var total float64
	var matched []string
	done := make([]bool, len(in.Rules))
	spans := make([][][2]int, len(in.Rules))
	for _, t := range texts {
		for i := range spans {
			spans[i] = spans[i][:0]
		}
		for i := 0; i < len(t); i++ {
			c := t[i]
			refs := idx[c]
			if len(refs) == 0 || (isWordByte(c) && i > 0 && isWordByte(t[i-1])) {
				continue
			}
			for _, ref := range refs {
				if !done[ref.rule] && hasPrefixFold(t[i:], ref.keyword) {
					spans[ref.rule] = append(spans[ref.rule], [2]int{max(0, i-injectionWindow), min(len(t), i+len(ref.keyword)+injectionWindow)})
				}
			}
		}
		for r := range in.Rules {
			rule := &in.Rules[r]
			if done[r] {
				continue
			}
			if (len(rule.Keywords) == 0 && rule.Pattern.MatchString(t)) || rule.matchesIn(t, spans[r]) {
				done[r] = true
				total += rule.Weight
				matched = append(matched, rule.Name)
			}
		}
	}
	return total, matched
}

// keywordRef is a keyword of one rule.
type keywordRef struct {
	keyword string
	rule    int
}

// keywordIndex maps the first byte of every keyword (either case) to the
// keywords; built once.
func (in *Injection) keywordIndex() *[256][]keywordRef {
	in.indexOnce.Do(func() {
		in.index = new([256][]keywordRef)
		for r, rule := range in.Rules {
			for _, k := range rule.Keywords {
				if k == "" {
					continue
				}
				k = strings.ToLower(k)
				lo, up := k[0], k[0]
				if lo >= 'a' && lo <= 'z' {
					up = lo - 'a' + 'A'
				}
				in.index[lo] = append(in.index[lo], keywordRef{k, r})
				if up != lo {
					in.index[up] = append(in.index[up], keywordRef{k, r})
				}
			}
		}
	})
	return in.index
}

func isWordByte(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}

// hasPrefixFold reports whether s starts with the lower-case prefix,
// ignoring the case of ASCII letters.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// injectionWindow is how far around a keyword a pattern is tried: more
// than the longest match of a built-in pattern on either side.
const injectionWindow = 160

// matchesIn tries the pattern on the windows around the rule's keywords
// (each keyword is part of every match), merged where they overlap.
func (r *InjectionRule) matchesIn(t string, spans [][2]int) bool {
	if len(spans) == 0 {
		return false
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	cur := spans[0]
	for _, sp := range spans[1:] {
		if sp[0] <= cur[1] {
			cur[1] = max(cur[1], sp[1])
			continue
		}
		if r.Pattern.MatchString(t[cur[0]:cur[1]]) {
			return true
		}
		cur = sp
	}
	return r.Pattern.MatchString(t[cur[0]:cur[1]])
}

// injectionTexts collects the texts of the checked roles.
func (in *Injection) texts(req *llm.ChatRequest) []string {
	roles := in.Roles
	if len(roles) == 0 {
		roles = []string{llm.RoleUser, llm.RoleTool}
	}
	var out []string
	for i := range req.Messages {
		m := &req.Messages[i]
		for _, r := range roles {
			if m.Role == r {
				if t := m.Content.Text(); t != "" {
					out = append(out, t)
				}
				break
			}
		}
	}
	return out
}

func (in *Injection) threshold() float64 {
	if in.Threshold <= 0 {
		return 1.0
	}
	return in.Threshold
}
